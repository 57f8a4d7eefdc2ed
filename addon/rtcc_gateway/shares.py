"""When does it start, when does it end: requests, their shares, and every way a share ends.

Data flows request -> policy decision -> share -> restreamer/door -> audit. This module owns the
share lifecycle and its single timer; the policy module says yes or no, the store remembers, the
audit log records, and the door (through `cut_listeners`) closes connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.config import (
    CAMERAS_SCHEMA,
    POLICY_SCHEMA,
    Agency,
    Camera,
    Location,
    Policy,
    build_cameras,
    build_policy,
    camera_to_dict,
    policy_to_dict,
)
from rtcc_gateway.events import EventBus
from rtcc_gateway.policy import (
    CameraDecision,
    CityAsk,
    OwnerState,
    Reason,
    blocking_reason,
    decide,
    is_paused,
    is_stale,
)
from rtcc_gateway.redact import LOG_SECRETS
from rtcc_gateway.restreamer.base import Restreamer, StreamSpec
from rtcc_gateway.schedule import next_window_start
from rtcc_gateway.store import RequestRow, ShareRow, Store, iso

_LOGGER = logging.getLogger(__name__)

MAX_SLEEP_S: Final = 30.0  # the timer re-checks at least this often, as a safety net
TOKEN_BYTES: Final = 24  # 192 bits, URL-safe
POLICY_META_KEY: Final = "owner_policy"

LIVE, SCHEDULED, PENDING, DECLINED, ENDED = "live", "scheduled", "pending", "declined", "ended"
ACTIVE: Final = frozenset({LIVE, SCHEDULED})

type CutListener = Callable[[str], Awaitable[None]]


def utc_now() -> datetime:
    """The gateway's clock."""
    return datetime.now(UTC)


def whole_seconds(moment: datetime) -> datetime:
    """Drop sub-seconds: every window the gateway hands out is in whole seconds."""
    return moment.replace(microsecond=0)


class NotFoundError(Exception):
    """No such request or share (for this caller)."""


@dataclass(slots=True)
class RequestState:
    """A city request in memory: its stored row, its shares, and a way to wait for changes."""

    row: RequestRow
    agency_name: str
    share_ids: list[str]
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def touch(self) -> None:
        """Wake everyone long-polling this request."""
        self.changed.set()
        self.changed = asyncio.Event()


def request_status(shares: Iterable[ShareRow]) -> str:
    """The request's status from its shares (CITY-API.md)."""
    statuses = [s.status for s in shares]
    if PENDING in statuses:
        return "pending"
    active = sum(s in ACTIVE for s in statuses)
    if not statuses or all(s == DECLINED for s in statuses):
        return "declined"
    if active == 0:
        return "ended"
    if active == len(statuses):
        return "approved"
    return "partially_approved"


class ShareManager:
    """Every request and share, the owner's policy in force, and the timer that ends shares."""

    def __init__(
        self,
        *,
        store: Store,
        audit: AuditLog,
        events: EventBus,
        restreamer: Restreamer,
        agencies: Mapping[str, Agency],
        owner: OwnerState,
        public_base_url: str,
        rtsp_base_url: str,
        http_links: bool,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._audit = audit
        self._events = events
        self._restreamer = restreamer
        self._agencies = dict(agencies)
        self.owner = owner
        self._base_url = public_base_url
        self._rtsp_base_url = rtsp_base_url
        self._http_links = http_links
        self._clock = clock
        self._requests: dict[str, RequestState] = {}
        self._shares: dict[str, ShareRow] = {}
        self._by_token: dict[str, ShareRow] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._stale_announced = False
        self.cut_listeners: list[CutListener] = []

    # --- start, restore, stop ------------------------------------------------------------------

    async def load(self) -> None:
        """Restore from the database, failing closed.

        A share whose window ended while the gateway was down is closed and audited, never
        resumed; live ones resume only until their end.
        """
        await self._load_policy()
        shares = await self._store.load_shares()
        for share in shares:
            self._shares[share.id] = share
        for row in await self._store.load_requests():
            agency = self._agencies.get(row.agency_id)
            self._requests[row.id] = RequestState(
                row=row,
                agency_name=agency.name if agency else row.agency_id,
                share_ids=[s.id for s in shares if s.request_id == row.id],
            )
        for share in shares:
            if share.status in ACTIVE and share.token:
                self._by_token[share.token] = share
        await self.tick(restored=True)
        live = {s.token for s in self._shares.values() if s.status == LIVE and s.token}
        await self._restreamer.reconcile(live)
        for token in live:
            share = self._by_token[token]
            await self._restreamer.add(self._spec(share))

    async def _load_policy(self) -> None:
        raw = await self._store.get_meta(POLICY_META_KEY)
        if raw is None:
            return
        try:
            saved = json.loads(raw)
            policy = build_policy(POLICY_SCHEMA(saved["policy"]))
            cameras = build_cameras(CAMERAS_SCHEMA(saved["cameras"]))
            pushed_at = (
                None if saved["pushed_at"] is None else datetime.fromisoformat(saved["pushed_at"])
            )
        except (ValueError, KeyError, TypeError) as err:
            # A saved policy that no longer validates is dropped: the file's policy (default
            # deny: consent off unless the file says otherwise) applies until the next push.
            _LOGGER.warning("ignoring the saved owner policy: %s", err.__class__.__name__)
            return
        self._audit.add_secrets(*(c.source for c in cameras))
        LOG_SECRETS.add(*(c.source for c in cameras))
        self.owner = OwnerState(policy=policy, cameras=cameras, pushed_at=pushed_at)

    def start(self) -> None:
        """Run the timer."""
        self._timer = asyncio.get_running_loop().create_task(self._run_timer())

    async def stop(self) -> None:
        """Stop the timer (shares stay as stored; a restart resumes or closes them)."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None

    # --- lookups -------------------------------------------------------------------------------

    def live_share(self, token: str) -> ShareRow | None:
        """The share a token names if it is live now; unknown and expired look alike (None).

        Every active token is compared in constant time, with no early exit, so the time taken
        says nothing about how close a guess was.
        """
        share = None
        wanted = token.encode()
        for candidate, row in self._by_token.items():
            if hmac.compare_digest(candidate.encode(), wanted):
                share = row
        if share is None or share.status != LIVE:
            return None
        if share.ends_at is not None and self._clock() >= share.ends_at:
            return None
        return share

    def camera(self, camera_id: str) -> Camera | None:
        """A camera of the registry in force."""
        return next((c for c in self.owner.cameras if c.id == camera_id), None)

    def offered_cameras(self) -> list[Camera]:
        """Cameras with consent on, whatever the schedule (the list must not reveal it)."""
        return [c for c in self.owner.cameras if c.consent]

    def request_for(self, request_id: str, agency_id: str) -> RequestState:
        """The request if this agency made it; NotFoundError otherwise."""
        state = self._requests.get(request_id)
        if state is None or state.row.agency_id != agency_id:
            raise NotFoundError(request_id)
        return state

    # --- the city's side -----------------------------------------------------------------------

    async def submit(self, agency: Agency, body: dict[str, Any]) -> RequestState:
        """Decide a validated city request per camera and record everything."""
        async with self._lock:
            now = self._clock()
            start = body.get("start") or now
            ask = CityAsk(
                location=Location(body["location"]["lat"], body["location"]["lon"]),
                radius_m=body["radius_m"],
                camera_ids=tuple(body["camera_ids"])
                if body.get("camera_ids") is not None
                else None,
                start=start,
                duration_s=body.get("duration_s"),
            )
            decisions = decide(self.owner, ask, now)
            request_id = f"req_{secrets.token_urlsafe(12)}"
            stored_body = {**body, "start": iso(start)}
            row = RequestRow(id=request_id, agency_id=agency.id, created_at=now, body=stored_body)
            shares = [self._new_share(request_id, d, start, now) for d in decisions]
            await self._store.add_request(row, shares)
            state = RequestState(row=row, agency_name=agency.name, share_ids=[s.id for s in shares])
            self._requests[request_id] = state
            for share in shares:
                self._shares[share.id] = share
                if share.token:
                    self._by_token[share.token] = share
            await self._audit.append(
                "request_received",
                {
                    "request_id": request_id,
                    "agency": agency.id,
                    "incident_id": body["incident_id"],
                    "offense": body["offense"],
                    "reason": body["reason"],
                    "location": body["location"],
                    "radius_m": body["radius_m"],
                    "camera_ids": body.get("camera_ids"),
                    "start": iso(start),
                    "duration_s": body.get("duration_s"),
                    "not_offered": self._not_offered(ask, decisions),
                },
            )
            self._events.publish("request_received", **self._request_event(state))
            for share, decision in zip(shares, decisions, strict=True):
                await self._audit_decision(share, decision, agency)
            self._events.publish("request_decided", **self._request_event(state))
            for share in shares:
                if share.status == LIVE:
                    await self._activate(share)
            self._wake.set()
            return state

    def _not_offered(self, ask: CityAsk, decisions: list[CameraDecision]) -> dict[str, str]:
        """For the owner's log: why each camera was left out of a request that named none."""
        if ask.camera_ids is not None:
            return {}
        offered = {d.camera_id for d in decisions}
        return {
            c.id: str(Reason.CONSENT_OFF if not c.consent else Reason.OUTSIDE_RADIUS)
            for c in self.owner.cameras
            if c.id not in offered
        }

    def _new_share(
        self, request_id: str, decision: CameraDecision, start: datetime, now: datetime
    ) -> ShareRow:
        share = ShareRow(
            id=f"shr_{secrets.token_urlsafe(12)}",
            request_id=request_id,
            camera_id=decision.camera_id,
            status=DECLINED,
            token=None,
            duration_s=decision.duration_s,
            cut=decision.cut,
            starts_at=None,
            ends_at=None,
            approve_by=None,
            ended_at=None,
            reason=None if decision.reason is None else str(decision.reason),
        )
        if decision.outcome == "approve":
            self._open_window(share, start, now)
        elif decision.outcome == "ask":
            share.status = PENDING
            share.approve_by = now + timedelta(seconds=self.owner.policy.approval_timeout_s)
        return share

    def _open_window(self, share: ShareRow, start: datetime, now: datetime) -> None:
        # ends_at = max(start, moment of approval) + duration, never shortened to fit the
        # owner's schedule (that would reveal it).
        share.starts_at = whole_seconds(max(start, now))
        share.ends_at = share.starts_at + timedelta(seconds=share.duration_s)
        share.token = secrets.token_urlsafe(TOKEN_BYTES)
        share.status = LIVE if share.starts_at <= now else SCHEDULED
        share.approve_by = None
        share.reason = None

    async def _audit_decision(
        self, share: ShareRow, decision: CameraDecision, agency: Agency
    ) -> None:
        await self._audit.append(
            "request_decided",
            {
                "request_id": share.request_id,
                "share_id": share.id,
                "agency": agency.id,
                "camera_id": share.camera_id,
                "outcome": decision.outcome,
                "reason": None if decision.reason is None else str(decision.reason),
                "duration_s": share.duration_s,
                "cut_to_owner_max": share.cut,
                "starts_at": iso(share.starts_at),
                "ends_at": iso(share.ends_at),
            },
        )

    async def city_cancel(self, request_id: str, agency_id: str) -> None:
        """The city's DELETE: every share of the request is cut now (idempotent)."""
        async with self._lock:
            state = self.request_for(request_id, agency_id)
            shares = [self._shares[share_id] for share_id in state.share_ids]
            await self._end_all([(s, Reason.CITY_CANCELLED) for s in shares if s.status in ACTIVE])
            for share in shares:
                if share.status == PENDING:
                    await self._decline(share, Reason.CITY_CANCELLED)
            state.touch()

    async def wait_for_decision(self, state: RequestState, timeout: float) -> None:
        """Long-poll: return when the request is no longer pending or after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.status_of(state) == "pending":
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.changed.wait(), remaining)

    def status_of(self, state: RequestState) -> str:
        """The request's status now."""
        return request_status(self._shares[s] for s in state.share_ids)

    def city_view(self, state: RequestState) -> dict[str, Any]:
        """The request as the city sees it: no reasons, links only while live or scheduled."""
        shares = []
        for share_id in state.share_ids:
            share = self._shares[share_id]
            view: dict[str, Any] = {
                "share_id": share.id,
                "camera_id": share.camera_id,
                "status": share.status,
            }
            if share.starts_at is not None and share.status != DECLINED:
                view["starts_at"] = iso(share.starts_at)
                view["ends_at"] = iso(share.ends_at)
            if share.status in ACTIVE and share.token:
                view["links"] = self._links(share.token)
            shares.append(view)
        return {"request_id": state.row.id, "status": self.status_of(state), "shares": shares}

    def _links(self, token: str) -> dict[str, str]:
        links = {"rtsp": f"{self._rtsp_base_url}/{token}"}
        if self._http_links:
            links["mp4"] = f"{self._base_url}/s/{token}/stream.mp4"
            links["hls"] = f"{self._base_url}/s/{token}/index.m3u8"
        return links

    # --- the owner's side ----------------------------------------------------------------------

    async def set_policy(self, policy: Policy, cameras: tuple[Camera, ...]) -> None:
        """A push from the integration: replaces policy and cameras, renews the lease."""
        async with self._lock:
            now = self._clock()
            self._audit.add_secrets(*(c.source for c in cameras))
            LOG_SECRETS.add(*(c.source for c in cameras))
            self.owner = OwnerState(policy=policy, cameras=cameras, pushed_at=now)
            self._stale_announced = False
            await self._save_policy()
            await self._audit.append(
                "policy_updated",
                {
                    "paused": policy.paused,
                    "paused_until": iso(policy.paused_until),
                    "privacy_windows": len(policy.privacy_windows),
                    "cameras_with_consent": sorted(c.id for c in cameras if c.consent),
                },
            )
            # A source may have changed (some camera URLs expire): live streams follow.
            for share in self._shares.values():
                camera = self.camera(share.camera_id)
                if share.status == LIVE and share.token and camera is not None:
                    await self._restreamer.add(self._spec(share))
            await self._enforce(now)
        self._wake.set()

    async def _save_policy(self) -> None:
        pushed = self.owner.pushed_at
        await self._store.set_meta(
            POLICY_META_KEY,
            json.dumps(
                {
                    "policy": policy_to_dict(self.owner.policy),
                    "cameras": [camera_to_dict(c, with_source=True) for c in self.owner.cameras],
                    "pushed_at": None if pushed is None else pushed.isoformat(),
                }
            ),
        )

    async def pause(self, until: datetime | None) -> None:
        """Pause sharing (optionally until a time); live shares end now."""
        async with self._lock:
            policy = replace(self.owner.policy, paused=True, paused_until=until)
            self.owner = replace(self.owner, policy=policy)
            await self._save_policy()
            await self._audit.append("paused", {"until": iso(until)})
            await self._enforce(self._clock())
        self._wake.set()

    async def resume(self) -> None:
        """Resume sharing."""
        async with self._lock:
            policy = replace(self.owner.policy, paused=False, paused_until=None)
            self.owner = replace(self.owner, policy=policy)
            await self._save_policy()
            await self._audit.append("resumed", {})
        self._wake.set()

    def _owner_request(self, request_id: str) -> RequestState:
        state = self._requests.get(request_id)
        if state is None:
            raise NotFoundError(request_id)
        return state

    def _pending(self, state: RequestState, camera_ids: list[str] | None) -> list[ShareRow]:
        """The request's pending shares, all or those of the named cameras."""
        shares = [self._shares[s] for s in state.share_ids]
        return [
            s
            for s in shares
            if s.status == PENDING and (camera_ids is None or s.camera_id in camera_ids)
        ]

    async def approve(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says yes to pending cameras; the policy still applies (default deny)."""
        async with self._lock:
            now = self._clock()
            state = self._owner_request(request_id)
            start = datetime.fromisoformat(state.row.body["start"])
            starting: list[ShareRow] = []
            for share in self._pending(state, camera_ids):
                blocked = blocking_reason(self.owner, share.camera_id, now)
                if blocked is not None:
                    await self._decline(share, blocked)
                    continue
                self._open_window(share, start, now)
                self._by_token[share.token or ""] = share
                await self._store.update_shares([share])
                await self._audit.append(
                    "owner_approved",
                    {
                        "request_id": request_id,
                        "share_id": share.id,
                        "camera_id": share.camera_id,
                        "starts_at": iso(share.starts_at),
                        "ends_at": iso(share.ends_at),
                    },
                )
                if share.status == LIVE:
                    starting.append(share)
            self._events.publish("request_decided", **self._request_event(state))
            for share in starting:
                await self._activate(share)
            state.touch()
        self._wake.set()
        return state

    async def deny(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says no to pending cameras."""
        async with self._lock:
            state = self._owner_request(request_id)
            for share in self._pending(state, camera_ids):
                await self._decline(share, Reason.OWNER_DENIED)
            state.touch()
            self._events.publish("request_decided", **self._request_event(state))
        return state

    async def revoke_share(self, share_id: str) -> None:
        """End one share now."""
        async with self._lock:
            share = self._shares.get(share_id)
            if share is None:
                raise NotFoundError(share_id)
            if share.status in ACTIVE:
                await self._end(share, Reason.REVOKED)

    async def revoke(self, camera_id: str | None) -> int:
        """End every active share of one camera, or of all; returns how many ended."""
        async with self._lock:
            ending = [
                (share, Reason.REVOKED)
                for share in self._shares.values()
                if share.status in ACTIVE and camera_id in (None, share.camera_id)
            ]
            await self._end_all(ending)
            return len(ending)

    # --- transitions ---------------------------------------------------------------------------

    def _spec(self, share: ShareRow) -> StreamSpec:
        camera = self.camera(share.camera_id)
        # Callers only start shares the policy allowed, so the camera exists and has a token.
        assert camera is not None  # noqa: S101
        assert share.token  # noqa: S101
        return StreamSpec(token=share.token, source=camera.source, share_audio=camera.share_audio)

    async def _activate(self, share: ShareRow) -> None:
        await self._restreamer.add(self._spec(share))
        await self._audit.append(
            "share_started",
            {
                "request_id": share.request_id,
                "share_id": share.id,
                "camera_id": share.camera_id,
                "starts_at": iso(share.starts_at),
                "ends_at": iso(share.ends_at),
            },
        )
        self._events.publish(
            "share_started",
            request_id=share.request_id,
            share_id=share.id,
            camera_id=share.camera_id,
            starts_at=iso(share.starts_at),
            ends_at=iso(share.ends_at),
        )

    async def _end(self, share: ShareRow, reason: Reason, *, restored: bool = False) -> None:
        """Close one live or scheduled share."""
        await self._end_all([(share, reason)], restored=restored)

    async def _end_all(
        self, ending: list[tuple[ShareRow, Reason]], *, restored: bool = False
    ) -> None:
        """Close shares, cutting first and recording after.

        Every door cuts every viewer of all of them first (fast); then the streams go and the
        bookkeeping follows, so one share's records never delay another's cut.
        """
        now = self._clock()
        cut: list[str] = []
        for share, reason in ending:
            was_live = share.status == LIVE
            share.status = ENDED
            share.ended_at = now
            share.reason = str(reason)
            token = share.token or ""
            self._by_token.pop(token, None)
            if was_live and not restored:
                cut.append(token)
                for listener in list(self.cut_listeners):
                    try:
                        await listener(token)
                    except Exception:
                        _LOGGER.exception("a door failed to cut share %s", share.id)
        for token in cut:
            await self._restreamer.remove(token)
        if ending:
            await self._store.update_shares(share for share, _ in ending)
        for share, reason in ending:
            detail = {
                "request_id": share.request_id,
                "share_id": share.id,
                "camera_id": share.camera_id,
                "reason": str(reason),
            }
            if restored:
                detail["note"] = "ended while the gateway was not running"
            await self._audit.append("share_ended", detail)
            self._events.publish("share_ended", **detail)
            state = self._requests.get(share.request_id)
            if state is not None:
                state.touch()

    async def _decline(self, share: ShareRow, reason: Reason) -> None:
        share.status = DECLINED
        share.reason = str(reason)
        share.approve_by = None
        await self._store.update_shares([share])
        await self._audit.append(
            "request_decided",
            {
                "request_id": share.request_id,
                "share_id": share.id,
                "camera_id": share.camera_id,
                "outcome": "decline",
                "reason": str(reason),
            },
        )
        state = self._requests.get(share.request_id)
        if state is not None:
            state.touch()

    async def _enforce(self, now: datetime, *, restored: bool = False) -> None:
        """Apply every deadline and policy rule due at `now`."""
        ending: list[tuple[ShareRow, Reason]] = []
        for share in list(self._shares.values()):
            if share.status == PENDING and share.approve_by and now >= share.approve_by:
                await self._decline(share, Reason.APPROVAL_TIMEOUT)
                continue
            if share.status not in ACTIVE:
                continue
            if share.ends_at is not None and now >= share.ends_at:
                ending.append((share, Reason.WINDOW_ENDED))
                continue
            blocked = blocking_reason(self.owner, share.camera_id, now)
            if blocked is not None:
                ending.append((share, blocked))
                continue
            if share.status == SCHEDULED and share.starts_at and now >= share.starts_at:
                share.status = LIVE
                await self._store.update_shares([share])
                if not restored:
                    await self._activate(share)
        await self._end_all(ending, restored=restored)
        if is_stale(self.owner, now) and not self._stale_announced:
            self._stale_announced = True
            self._events.publish("policy_stale", since=iso(self._lease_end()))
            await self._audit.append("policy_stale", {"since": iso(self._lease_end())})

    def _lease_end(self) -> datetime | None:
        pushed = self.owner.pushed_at
        lease = self.owner.policy.owner_lease_s
        if pushed is None or lease <= 0:
            return None
        return pushed + timedelta(seconds=lease)

    async def tick(self, *, restored: bool = False) -> None:
        """Process whatever is due now (the timer calls this; tests may too)."""
        async with self._lock:
            await self._enforce(self._clock(), restored=restored)

    def _next_deadline(self, now: datetime) -> datetime:
        candidates = [now + timedelta(seconds=MAX_SLEEP_S)]
        active = False
        for share in self._shares.values():
            if share.status == PENDING and share.approve_by:
                candidates.append(share.approve_by)
            elif share.status in ACTIVE:
                active = True
                if share.ends_at:
                    candidates.append(share.ends_at)
                if share.status == SCHEDULED and share.starts_at:
                    candidates.append(share.starts_at)
        if active:
            window = next_window_start(self.owner.policy, now)
            if window is not None:
                candidates.append(window)
            lease_end = self._lease_end()
            if lease_end is not None:
                candidates.append(lease_end)
        return min(candidates)

    async def _run_timer(self) -> None:
        while True:
            self._wake.clear()
            now = self._clock()
            delay = max(0.0, (self._next_deadline(now) - now).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            try:
                await self.tick()
            except Exception:
                # The timer must survive anything: a stopped timer would leave shares open.
                _LOGGER.exception("share timer failed; retrying in 1 s")
                await asyncio.sleep(1)

    # --- views for the owner -------------------------------------------------------------------

    def _request_event(self, state: RequestState) -> dict[str, Any]:
        body = state.row.body
        shares = [self._shares[s] for s in state.share_ids]
        return {
            "request_id": state.row.id,
            "agency": state.agency_name,
            "incident_id": body["incident_id"],
            "offense": body["offense"],
            "reason": body["reason"],
            "camera_ids": [s.camera_id for s in shares],
            "status": request_status(shares),
            "start": body.get("start"),
            "duration_s": body.get("duration_s"),
        }

    def owner_state(self, viewers: Mapping[str, int]) -> dict[str, Any]:
        """GET /api/v1/state: cameras, pending requests, live shares, the policy in force."""
        now = self._clock()
        cameras = []
        for camera in self.owner.cameras:
            mine = [s for s in self._shares.values() if s.camera_id == camera.id]
            statuses = {s.status for s in mine}
            blocked = blocking_reason(self.owner, camera.id, now) if camera.consent else None
            status = next(
                (s for s in (LIVE, SCHEDULED, PENDING) if s in statuses),
                "blocked" if blocked is not None else "idle",
            )
            cameras.append(
                {
                    **camera_to_dict(camera, with_source=False),
                    "status": status,
                    "blocked_reason": None if blocked is None else str(blocked),
                    "viewers": sum(viewers.get(s.token or "", 0) for s in mine if s.status == LIVE),
                }
            )
        pending = []
        for state in self._requests.values():
            waiting = [self._shares[s] for s in state.share_ids]
            waiting = [s for s in waiting if s.status == PENDING]
            if waiting:
                pending.append(
                    {
                        **self._request_event(state),
                        "pending_camera_ids": [s.camera_id for s in waiting],
                        "approve_by": iso(min(s.approve_by for s in waiting if s.approve_by)),
                    }
                )
        live = [
            {
                "share_id": s.id,
                "request_id": s.request_id,
                "camera_id": s.camera_id,
                "status": s.status,
                "starts_at": iso(s.starts_at),
                "ends_at": iso(s.ends_at),
                "viewers": viewers.get(s.token or "", 0),
            }
            for s in self._shares.values()
            if s.status in ACTIVE
        ]
        return {
            "cameras": cameras,
            "pending_requests": pending,
            "shares": live,
            "policy": policy_to_dict(self.owner.policy),
            "paused": is_paused(self.owner.policy, now),
            "stale": is_stale(self.owner, now),
            "lease_ends_at": iso(self._lease_end()),
        }

    def transparency(
        self, viewer_seconds: Mapping[str, float], viewers: Mapping[str, int]
    ) -> dict[str, Any]:
        """Per agency: requests, approved, declined, minutes live, minutes viewed, viewers."""
        now = self._clock()
        per: dict[str, dict[str, Any]] = {
            a.id: {
                "agency": a.id,
                "name": a.name,
                "requests": 0,
                "approved": 0,
                "declined": 0,
                "minutes_live": 0.0,
                "minutes_viewed": 0.0,
                "viewers": 0,
            }
            for a in self._agencies.values()
        }
        for state in self._requests.values():
            entry = per.setdefault(
                state.row.agency_id,
                {
                    "agency": state.row.agency_id,
                    "name": state.agency_name,
                    "requests": 0,
                    "approved": 0,
                    "declined": 0,
                    "minutes_live": 0.0,
                    "minutes_viewed": 0.0,
                    "viewers": 0,
                },
            )
            entry["requests"] += 1
            for share_id in state.share_ids:
                share = self._shares[share_id]
                if share.token is None:
                    entry["declined"] += share.status == DECLINED
                    continue
                entry["approved"] += 1
                entry["viewers"] += viewers.get(share.token, 0)
                entry["minutes_viewed"] += viewer_seconds.get(share.token, 0.0) / 60
                if share.starts_at is not None and share.ends_at is not None:
                    end = min(share.ended_at or now, share.ends_at, now)
                    entry["minutes_live"] += max(0.0, (end - share.starts_at).total_seconds()) / 60
        for entry in per.values():
            entry["minutes_live"] = round(entry["minutes_live"], 2)
            entry["minutes_viewed"] = round(entry["minutes_viewed"], 2)
        return {"agencies": sorted(per.values(), key=lambda e: str(e["agency"]))}
