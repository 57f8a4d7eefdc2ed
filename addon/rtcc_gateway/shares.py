"""When does it start, when does it end: requests, their shares, and every way a share ends.

Data flows request -> policy decision -> share -> restreamer/door -> audit. This module owns the
share lifecycle and its single timer; the policy module says yes or no, the store remembers, the
audit log records, and the door (through `cut_listeners`) closes connections.

Memory holds what is open and what ended within the last hour; older requests live only in the
database (the city may read one for 7 days after it ended). The timer pops due deadlines from a
heap and checks the policy against the live shares only, so its work does not grow with history.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
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
from rtcc_gateway.deadlines import DeadlineHeap
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
from rtcc_gateway.storage_guard import STORAGE_ERRORS, StorageGuard, StorageUnavailableError
from rtcc_gateway.store import RequestRow, ShareRow, Store, iso
from rtcc_gateway.transparency import Figures, report

_LOGGER = logging.getLogger(__name__)

MAX_SLEEP_S: Final = 30.0  # the timer re-checks at least this often, as a safety net
RETRY_S: Final = 5.0  # how often unrecorded ends are retried in the storage-failure mode
TOKEN_BYTES: Final = 24  # 192 bits, URL-safe
POLICY_META_KEY: Final = "owner_policy"
KEEP_ENDED: Final = timedelta(hours=1)  # an ended request stays in memory this long
CITY_SEES_ENDED: Final = timedelta(days=7)  # and the city may read it from the store this long
MAX_PENDING_PER_AGENCY: Final = 50
MAX_PENDING: Final = 500
STORAGE_FAILED: Final = "storage_failed"  # the end reason when the database cannot be written

LIVE, SCHEDULED, PENDING, DECLINED, ENDED = "live", "scheduled", "pending", "declined", "ended"
ACTIVE: Final = frozenset({LIVE, SCHEDULED})

type CutListener = Callable[[str], Awaitable[None]]
type ForgetToken = Callable[[str], tuple[int, float]]
type Deadline = tuple[str, str]  # (what, share or request id)


def utc_now() -> datetime:
    """The gateway's clock."""
    return datetime.now(UTC)


def whole_seconds(moment: datetime) -> datetime:
    """Drop sub-seconds: every window the gateway hands out is in whole seconds."""
    return moment.replace(microsecond=0)


class NotFoundError(Exception):
    """No such request or share (for this caller)."""


class TooManyPendingError(Exception):
    """The agency (or everyone) has as many requests waiting for the owner as allowed."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(limit)
        self.limit = limit
        self.retry_after = retry_after


@dataclass(slots=True)
class RequestState:
    """A city request in memory: its stored row, its shares, and a way to wait for changes."""

    row: RequestRow
    agency_name: str
    shares: list[ShareRow]
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    polled: asyncio.Event = field(default_factory=asyncio.Event)  # a long-poll is waiting

    @property
    def share_ids(self) -> list[str]:
        """The ids of its shares, in order."""
        return [s.id for s in self.shares]

    def touch(self) -> None:
        """Wake everyone long-polling this request."""
        self.changed.set()
        self.changed = asyncio.Event()


@dataclass(slots=True)
class _Unrecorded:
    """Ends cut in memory whose rows and records are still to be written."""

    shares: list[ShareRow]
    details: list[dict[str, Any]]
    stored: bool = False


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


def _is_final(state: RequestState) -> bool:
    return not any(s.status == PENDING or s.status in ACTIVE for s in state.shares)


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
        guard: StorageGuard,
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
        self.guard = guard
        self._clock = clock
        self._requests: dict[str, RequestState] = {}
        self._shares: dict[str, ShareRow] = {}
        self._by_token: dict[str, ShareRow] = {}
        self._active: dict[str, ShareRow] = {}
        self._pending: dict[str, str] = {}  # request id -> agency id, while pending
        self._pending_per_agency: Counter[str] = Counter()
        self._ended_at: dict[str, datetime] = {}  # request id -> when it became final
        self._deadlines: DeadlineHeap[Deadline] = DeadlineHeap()
        self._archive: dict[str, Figures] = {}
        self._unrecorded: list[_Unrecorded] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._stale_announced = False
        self.cut_listeners: list[CutListener] = []
        self.forget_token: ForgetToken | None = None

    # --- start, restore, stop ------------------------------------------------------------------

    async def load(self) -> None:
        """Restore from the database, failing closed.

        A share whose window ended while the gateway was down is closed and audited, never
        resumed; live ones resume only until their end. Requests that ended over an hour ago stay
        in the database; their figures are read back as totals.
        """
        await self._load_policy()
        now = self._clock()
        cutoff = now - KEEP_ENDED
        self._archive = {
            agency: Figures.from_totals(t)
            for agency, t in (await self._store.totals_before(cutoff)).items()
        }
        shares = await self._store.load_shares(cutoff)
        by_request: dict[str, list[ShareRow]] = {}
        for share in shares:
            by_request.setdefault(share.request_id, []).append(share)
        for row in await self._store.load_requests(cutoff):
            agency = self._agencies.get(row.agency_id)
            state = RequestState(
                row=row,
                agency_name=agency.name if agency else row.agency_id,
                shares=by_request.get(row.id, []),
            )
            self._requests[row.id] = state
            for share in state.shares:
                self._shares[share.id] = share
                self._index(share)
            ended = [s.ended_at for s in state.shares if s.ended_at is not None]
            self._changed(state, final_at=row.ended_at or max(ended, default=row.created_at))
        await self.tick(restored=True)
        live = {s.token for s in self._active.values() if s.status == LIVE and s.token}
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
        if self._unrecorded and not await self._flush_unrecorded():
            _LOGGER.error(
                "stopping with %d share ends not recorded: the database could not be written",
                sum(len(u.shares) for u in self._unrecorded),
            )

    # --- bookkeeping: indexes, deadlines, memory -------------------------------------------------

    def _index(self, share: ShareRow) -> None:
        """Put a share where its status says: token and active indexes, and its deadlines."""
        if share.status in ACTIVE and share.token:
            self._by_token[share.token] = share
            self._active[share.id] = share
            if share.ends_at is not None:
                self._deadlines.set(("end", share.id), share.ends_at)
            if share.status == SCHEDULED and share.starts_at is not None:
                self._deadlines.set(("start", share.id), share.starts_at)
        else:
            self._active.pop(share.id, None)
            if share.token:
                self._by_token.pop(share.token, None)
            self._deadlines.cancel(("end", share.id))
            self._deadlines.cancel(("start", share.id))
        if share.status == PENDING and share.approve_by is not None:
            self._deadlines.set(("approve", share.id), share.approve_by)
        else:
            self._deadlines.cancel(("approve", share.id))

    def _changed(self, state: RequestState, *, final_at: datetime | None = None) -> None:
        """After any change to a request's shares: wake pollers, keep the pending count.

        A request that is final leaves memory an hour later (`_forget`).
        """
        state.touch()
        request_id, agency_id = state.row.id, state.row.agency_id
        pending = any(s.status == PENDING for s in state.shares)
        if pending and request_id not in self._pending:
            self._pending[request_id] = agency_id
            self._pending_per_agency[agency_id] += 1
        elif not pending and request_id in self._pending:
            del self._pending[request_id]
            self._pending_per_agency[agency_id] -= 1
        if _is_final(state) and request_id not in self._ended_at:
            ended = final_at or self._clock()
            self._ended_at[request_id] = ended
            self._deadlines.set(("forget", request_id), ended + KEEP_ENDED)

    async def _forget(self, request_id: str) -> None:
        """An hour after it ended: into the database's keeping (and the figures' totals)."""
        state = self._requests.get(request_id)
        ended = self._ended_at.get(request_id)
        if state is None or ended is None or not _is_final(state):
            return
        try:
            await self._store.set_request_ended(request_id, ended)
        except STORAGE_ERRORS as err:
            self.guard.note("cannot let an ended request go from memory", err)
            self._deadlines.set(("forget", request_id), self._clock() + KEEP_ENDED)
            return
        figures: dict[str, tuple[int, float]] = {}
        for share in state.shares:
            if share.token and self.forget_token is not None:
                figures[share.token] = self.forget_token(share.token)
        archive = self._archive.setdefault(state.row.agency_id, Figures())
        archive.add_request(state.shares, self._clock(), figures)
        del self._requests[request_id]
        del self._ended_at[request_id]
        for share in state.shares:
            self._shares.pop(share.id, None)

    def memory(self) -> dict[str, int]:
        """How much is held in memory (for tests and benchmarks)."""
        return {
            "requests": len(self._requests),
            "shares": len(self._shares),
            "active": len(self._active),
            "pending": len(self._pending),
            "deadlines": len(self._deadlines),
        }

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

    async def request_for(self, request_id: str, agency_id: str) -> RequestState:
        """The request if this agency made it (from the store for 7 days after it ended)."""
        state = self._requests.get(request_id)
        if state is None:
            state = await self._stored_request(request_id, seen_for=CITY_SEES_ENDED)
        if state is None or state.row.agency_id != agency_id:
            raise NotFoundError(request_id)
        return state

    async def _stored_request(
        self, request_id: str, seen_for: timedelta | None
    ) -> RequestState | None:
        """A request no longer in memory, as a read-only view (None if gone or too old)."""
        found = await self._store.get_request(request_id)
        if found is None:
            return None
        row, shares = found
        if seen_for is not None and row.ended_at and self._clock() - row.ended_at > seen_for:
            return None
        agency = self._agencies.get(row.agency_id)
        return RequestState(
            row=row, agency_name=agency.name if agency else row.agency_id, shares=shares
        )

    # --- the city's side -----------------------------------------------------------------------

    def _check_capacity(self, agency: Agency) -> None:
        """At most 50 requests waiting for the owner per agency, and 500 in all (else 429).

        A request refused here is not recorded: the city may ask again after Retry-After.
        """
        if self._pending_per_agency[agency.id] >= MAX_PENDING_PER_AGENCY:
            limit, mine = MAX_PENDING_PER_AGENCY, agency.id
        elif len(self._pending) >= MAX_PENDING:
            limit, mine = MAX_PENDING, None
        else:
            return
        now = self._clock()
        waits = [
            share.approve_by
            for request_id, owner in self._pending.items()
            if mine is None or owner == mine
            for share in self._requests[request_id].shares
            if share.status == PENDING and share.approve_by is not None
        ]
        retry = max(1, int((min(waits, default=now) - now).total_seconds()) + 1)
        raise TooManyPendingError(limit, retry)

    def _refuse_unless_recordable(self) -> None:
        if not self.guard.can_start_shares():
            raise StorageUnavailableError

    async def submit(self, agency: Agency, body: dict[str, Any]) -> RequestState:
        """Decide a validated city request per camera and record everything."""
        async with self._lock:
            self._refuse_unless_recordable()
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
            if any(d.outcome == "ask" for d in decisions):
                self._check_capacity(agency)  # only a request that would wait counts
            request_id = f"req_{secrets.token_urlsafe(12)}"
            stored_body = {**body, "start": iso(start)}
            row = RequestRow(id=request_id, agency_id=agency.id, created_at=now, body=stored_body)
            shares = [self._new_share(request_id, d, start, now) for d in decisions]
            await self._write(self._store.add_request(row, shares))
            state = RequestState(row=row, agency_name=agency.name, shares=shares)
            self._requests[request_id] = state
            for share in shares:
                self._shares[share.id] = share
                self._index(share)
            self._changed(state)
            async with self._undo_on_failure(state):
                await self._record_submission(state, ask, decisions, agency)
            self._wake.set()
            return state

    async def _record_submission(
        self, state: RequestState, ask: CityAsk, decisions: list[CameraDecision], agency: Agency
    ) -> None:
        body = state.row.body
        await self._audit.append(
            "request_received",
            {
                "request_id": state.row.id,
                "agency": agency.id,
                "incident_id": body["incident_id"],
                "offense": body["offense"],
                "reason": body["reason"],
                "location": body["location"],
                "radius_m": body["radius_m"],
                "camera_ids": body.get("camera_ids"),
                "start": body["start"],
                "duration_s": body.get("duration_s"),
                "not_offered": self._not_offered(ask, decisions),
            },
        )
        self._events.publish("request_received", **self._request_event(state))
        for share, decision in zip(state.shares, decisions, strict=True):
            await self._audit_decision(share, decision, agency)
        self._events.publish("request_decided", **self._request_event(state))
        for share in state.shares:
            if share.status == LIVE:
                await self._activate(share)

    @contextlib.asynccontextmanager
    async def _undo_on_failure(self, state: RequestState) -> AsyncIterator[None]:
        """A request stored but not fully on the record: its shares end now.

        The city gets 503 and never saw their links.
        """
        try:
            yield
        except STORAGE_ERRORS as err:
            self.guard.note("cannot record a request", err)
            await self._end_all([(s, STORAGE_FAILED) for s in state.shares if s.status in ACTIVE])
            raise StorageUnavailableError from None

    async def _write[T](self, write: Awaitable[T]) -> T:
        """A write whose failure is the caller's 503 (logged once a minute, not per request)."""
        try:
            return await write
        except STORAGE_ERRORS as err:
            await self._store.rollback()
            self.guard.note("cannot write the database", err)
            raise StorageUnavailableError from None

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
            state = await self.request_for(request_id, agency_id)
            if state.row.id not in self._requests:
                return  # ended long ago; nothing is left to cut
            await self._end_all(
                [(s, Reason.CITY_CANCELLED) for s in state.shares if s.status in ACTIVE]
            )
            for share in state.shares:
                if share.status == PENDING:
                    await self._write(self._decline(share, Reason.CITY_CANCELLED))
            self._changed(state)

    async def wait_for_decision(self, state: RequestState, timeout: float) -> None:
        """Long-poll: return when the request is no longer pending or after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.status_of(state) == "pending":
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            changed = state.changed.wait()
            state.polled.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed, remaining)

    def long_poll_started(self, request_id: str) -> asyncio.Event:
        """Set once a long-poll waits on this request (what a test waits for before acting)."""
        return self._requests[request_id].polled

    def status_of(self, state: RequestState) -> str:
        """The request's status now."""
        return request_status(state.shares)

    def city_view(self, state: RequestState) -> dict[str, Any]:
        """The request as the city sees it: no reasons, links only while live or scheduled."""
        shares = []
        for share in state.shares:
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
        """A push from the integration: replaces policy and cameras, renews the lease.

        The new policy applies (and cuts what it must) before it is saved, so a save that fails
        never leaves a share live against the owner's wish.
        """
        async with self._lock:
            now = self._clock()
            self._audit.add_secrets(*(c.source for c in cameras))
            LOG_SECRETS.add(*(c.source for c in cameras))
            self.owner = OwnerState(policy=policy, cameras=cameras, pushed_at=now)
            self._stale_announced = False
            await self._enforce(now)
            await self._write(self._save_policy())
            await self._write(
                self._audit.append(
                    "policy_updated",
                    {
                        "paused": policy.paused,
                        "paused_until": iso(policy.paused_until),
                        "privacy_windows": len(policy.privacy_windows),
                        "cameras_with_consent": sorted(c.id for c in cameras if c.consent),
                    },
                )
            )
            # A source may have changed (some camera URLs expire): live streams follow.
            for share in list(self._active.values()):
                camera = self.camera(share.camera_id)
                if share.status == LIVE and share.token and camera is not None:
                    await self._restreamer.add(self._spec(share))
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
            await self._enforce(self._clock())
            await self._write(self._save_policy())
            await self._write(self._audit.append("paused", {"until": iso(until)}))
        self._wake.set()

    async def resume(self) -> None:
        """Resume sharing."""
        async with self._lock:
            policy = replace(self.owner.policy, paused=False, paused_until=None)
            self.owner = replace(self.owner, policy=policy)
            await self._write(self._save_policy())
            await self._write(self._audit.append("resumed", {}))
        self._wake.set()

    async def _owner_request(self, request_id: str) -> RequestState:
        state = self._requests.get(request_id)
        if state is None:
            state = await self._stored_request(request_id, seen_for=None)
        if state is None:
            raise NotFoundError(request_id)
        return state

    def _pending_of(self, state: RequestState, camera_ids: list[str] | None) -> list[ShareRow]:
        """The request's pending shares, all or those of the named cameras."""
        return [
            s
            for s in state.shares
            if s.status == PENDING and (camera_ids is None or s.camera_id in camera_ids)
        ]

    async def approve(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says yes to pending cameras; the policy still applies (default deny)."""
        async with self._lock:
            now = self._clock()
            state = await self._owner_request(request_id)
            waiting = self._pending_of(state, camera_ids)
            if waiting:
                self._refuse_unless_recordable()
            start = datetime.fromisoformat(state.row.body["start"])
            starting: list[ShareRow] = []
            for share in waiting:
                blocked = blocking_reason(self.owner, share.camera_id, now)
                if blocked is not None:
                    await self._write(self._decline(share, blocked))
                    continue
                self._open_window(share, start, now)
                await self._write(self._store.update_shares([share]))
                self._index(share)
                await self._write(
                    self._audit.append(
                        "owner_approved",
                        {
                            "request_id": request_id,
                            "share_id": share.id,
                            "camera_id": share.camera_id,
                            "starts_at": iso(share.starts_at),
                            "ends_at": iso(share.ends_at),
                        },
                    )
                )
                if share.status == LIVE:
                    starting.append(share)
            self._events.publish("request_decided", **self._request_event(state))
            for share in starting:
                await self._write(self._activate(share))
            if request_id in self._requests:
                self._changed(state)
        self._wake.set()
        return state

    async def deny(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says no to pending cameras."""
        async with self._lock:
            state = await self._owner_request(request_id)
            for share in self._pending_of(state, camera_ids):
                await self._write(self._decline(share, Reason.OWNER_DENIED))
            if request_id in self._requests:
                self._changed(state)
            self._events.publish("request_decided", **self._request_event(state))
        return state

    async def revoke_share(self, share_id: str) -> None:
        """End one share now."""
        async with self._lock:
            share = self._shares.get(share_id)
            if share is None:
                if not await self._store.has_share(share_id):
                    raise NotFoundError(share_id)
                return  # ended long ago
            if share.status in ACTIVE:
                await self._end(share, Reason.REVOKED)

    async def revoke(self, camera_id: str | None) -> int:
        """End every active share of one camera, or of all; returns how many ended."""
        async with self._lock:
            ending: list[tuple[ShareRow, Reason | str]] = [
                (share, Reason.REVOKED)
                for share in self._active.values()
                if camera_id in (None, share.camera_id)
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

    async def _end(self, share: ShareRow, reason: Reason | str, *, restored: bool = False) -> None:
        """Close one live or scheduled share."""
        await self._end_all([(share, reason)], restored=restored)

    async def _cut(self, token: str, share_id: str) -> None:
        for listener in list(self.cut_listeners):
            try:
                await listener(token)
            except Exception:
                _LOGGER.exception("a door failed to cut share %s", share_id)

    async def _end_all(
        self, ending: list[tuple[ShareRow, Reason | str]], *, restored: bool = False
    ) -> None:
        """Close shares, cutting first and recording after.

        Every door cuts every viewer of all of them first (fast); then the streams go and the
        bookkeeping follows, so one share's records never delay another's cut. A record that
        cannot be written is kept, and retried, and the gateway goes into its storage-failure
        mode (storage_guard.py): the cut itself never waits for the disk.
        """
        if not ending:
            return
        now = self._clock()
        cut: list[str] = []
        details: list[dict[str, Any]] = []
        for share, reason in ending:
            was_live = share.status == LIVE
            share.status = ENDED
            share.ended_at = now
            share.reason = str(reason)
            self._index(share)
            if was_live and not restored:
                cut.append(share.token or "")
                await self._cut(share.token or "", share.id)
            detail = {
                "request_id": share.request_id,
                "share_id": share.id,
                "camera_id": share.camera_id,
                "reason": str(reason),
            }
            if restored:
                detail["note"] = "ended while the gateway was not running"
            details.append(detail)
        for token in cut:
            await self._restreamer.remove(token)
        for detail in details:
            self._events.publish("share_ended", **detail)
        for share, _ in ending:
            state = self._requests.get(share.request_id)
            if state is not None:
                self._changed(state)
        self._unrecorded.append(_Unrecorded([s for s, _ in ending], details))
        await self._flush_unrecorded()

    async def _flush_unrecorded(self) -> bool:
        """Write every kept end; on failure use the reserve once, else the failure mode."""
        written = 0
        while self._unrecorded:
            item = self._unrecorded[0]
            try:
                if not item.stored:
                    await self._store.update_shares(item.shares)
                    item.stored = True
                while item.details:
                    await self._audit.append("share_ended", item.details[0])
                    item.details.pop(0)
                    written += 1
            except STORAGE_ERRORS as err:
                await self._store.rollback()
                if await self.guard.release_reserve():
                    continue
                await self._fail_storage(err)
                return False
            self._unrecorded.pop(0)
        if self.guard.failed:
            self.guard.leave_failed(written)
        return True

    async def _fail_storage(self, err: BaseException) -> None:
        """The failure mode: every share is cut now, new ones are refused.

        It lasts until the records are written (the timer retries).
        """
        if self.guard.failed:
            return
        self.guard.enter_failed(err)
        await self._end_all([(s, STORAGE_FAILED) for s in list(self._active.values())])
        self._wake.set()

    async def _decline(self, share: ShareRow, reason: Reason) -> None:
        share.status = DECLINED
        share.reason = str(reason)
        share.approve_by = None
        self._index(share)
        state = self._requests.get(share.request_id)
        if state is not None:
            self._changed(state)
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

    async def _due(
        self, now: datetime
    ) -> tuple[list[ShareRow], list[tuple[ShareRow, Reason | str]]]:
        """Pop the deadlines due at `now`: declines happen here; returns (starting, ending)."""
        starting: list[ShareRow] = []
        ending: list[tuple[ShareRow, Reason | str]] = []
        for what, ident in self._deadlines.due(now):
            if what == "forget":
                await self._forget(ident)
                continue
            share = self._shares.get(ident)
            if share is None:
                continue
            if what == "approve" and share.status == PENDING:
                await self._decline(share, Reason.APPROVAL_TIMEOUT)
            elif what == "end" and share.status in ACTIVE:
                ending.append((share, Reason.WINDOW_ENDED))
            elif what == "start" and share.status == SCHEDULED:
                starting.append(share)
        return starting, ending

    async def _enforce(self, now: datetime, *, restored: bool = False) -> None:
        """Apply every deadline and policy rule due at `now`.

        Deadlines come from the heap; the policy is checked against the active shares only.
        """
        starting, ending = await self._due(now)
        ended = {s.id for s, _ in ending}
        for share in list(self._active.values()):
            blocked = blocking_reason(self.owner, share.camera_id, now)
            if blocked is not None and share.id not in ended:
                ending.append((share, blocked))
                ended.add(share.id)
        for share in starting:
            if share.id in ended:
                continue
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
            if self.guard.failed:
                await self._flush_unrecorded()
                return
            await self._enforce(self._clock(), restored=restored)
            if not self.guard.reserved:
                await self.guard.ensure_reserve()

    def _next_deadline(self, now: datetime) -> datetime:
        if self.guard.failed or not self.guard.reserved:
            return now + timedelta(seconds=RETRY_S)
        candidates = [now + timedelta(seconds=MAX_SLEEP_S)]
        due = self._deadlines.next()
        if due is not None:
            candidates.append(due)
        if self._active:
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
            except STORAGE_ERRORS as err:
                # A decline or a start that could not be written: retried at the next tick.
                await self._store.rollback()
                self.guard.note("the share timer cannot write the database", err)
                await asyncio.sleep(1)
            except Exception:
                # The timer must survive anything: a stopped timer would leave shares open.
                _LOGGER.exception("share timer failed; retrying in 1 s")
                await asyncio.sleep(1)

    # --- views for the owner -------------------------------------------------------------------

    def _request_event(self, state: RequestState) -> dict[str, Any]:
        body = state.row.body
        return {
            "request_id": state.row.id,
            "agency": state.agency_name,
            "incident_id": body["incident_id"],
            "offense": body["offense"],
            "reason": body["reason"],
            "camera_ids": [s.camera_id for s in state.shares],
            "status": request_status(state.shares),
            "start": body.get("start"),
            "duration_s": body.get("duration_s"),
        }

    def owner_state(self, viewers: Mapping[str, int]) -> dict[str, Any]:
        """GET /api/v1/state: cameras, pending requests, live shares, the policy in force."""
        now = self._clock()
        pending_states = [self._requests[r] for r in self._pending]
        by_camera: dict[str, set[str]] = {}
        for share in self._active.values():
            by_camera.setdefault(share.camera_id, set()).add(share.status)
        for state in pending_states:
            for share in state.shares:
                if share.status == PENDING:
                    by_camera.setdefault(share.camera_id, set()).add(PENDING)
        cameras = []
        for camera in self.owner.cameras:
            statuses = by_camera.get(camera.id, set())
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
                    "viewers": sum(
                        viewers.get(s.token or "", 0)
                        for s in self._active.values()
                        if s.camera_id == camera.id and s.status == LIVE
                    ),
                }
            )
        pending = []
        for state in pending_states:
            waiting = [s for s in state.shares if s.status == PENDING]
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
            for s in self._active.values()
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
        figures = {t: (viewers.get(t, 0), viewer_seconds.get(t, 0.0)) for t in viewer_seconds}
        for token, count in viewers.items():
            figures.setdefault(token, (count, 0.0))
        return report(
            {a.id: a.name for a in self._agencies.values()},
            self._archive,
            ((s.row, s.agency_name, s.shares) for s in self._requests.values()),
            self._clock(),
            figures,
        )
