"""The façade over requests, their shares and the timer: the city's and the owner's actions.

Data flows request -> policy decision -> share -> restreamer/door -> audit. The parts: the state
machine (status.py), memory (book.py), transitions on the record (lifecycle.py), the owner's
actions (owner_side.py), the timer (timer.py) and its work (enforce.py), the saved policy
(owner_policy.py), the views (views.py) and the links (links.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.clock import WallClock, utc_now
from rtcc_gateway.config import Agency, Camera, Policy
from rtcc_gateway.events import EventBus
from rtcc_gateway.policy import OwnerState, Reason, decide
from rtcc_gateway.redact import Secrets
from rtcc_gateway.restreamer.base import Restreamer
from rtcc_gateway.shares.book import KEEP_ENDED, NotFoundError, RequestState, ShareBook
from rtcc_gateway.shares.enforce import Enforcer, ForgetToken
from rtcc_gateway.shares.lifecycle import (
    CutListener,
    ShareLifecycle,
    refuse_unless_recordable,
    write_or_503,
)
from rtcc_gateway.shares.links import Links
from rtcc_gateway.shares.owner_policy import PolicyInForce, load_owner
from rtcc_gateway.shares.owner_side import OwnerSide
from rtcc_gateway.shares.parts import ShareParts
from rtcc_gateway.shares.status import (
    STORAGE_FAILED,
    ShareStatus,
    is_active,
    new_share,
)
from rtcc_gateway.shares.timer import ShareTimer, next_wake
from rtcc_gateway.shares.views import (
    city_ask,
    city_view,
    decided_record,
    owner_state,
    received_record,
    request_event,
)
from rtcc_gateway.storage_guard import STORAGE_ERRORS, StorageGuard, StorageUnavailableError
from rtcc_gateway.store import RequestRow, ShareRow, Store, iso
from rtcc_gateway.transparency import Figures, report

_LOGGER = logging.getLogger(__name__)

CITY_SEES_ENDED: Final = timedelta(days=7)  # the city may read an ended request this long


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
        secrets: Secrets,
        clock: WallClock = utc_now,
    ) -> None:
        self._agencies = dict(agencies)
        self._links = Links(rtsp_base_url, public_base_url, http_links)
        self._secrets = secrets
        self._lock = asyncio.Lock()
        # What the parts below share, held once: memory, the policy in force, store, audit...
        self._p = parts = ShareParts(
            book=ShareBook(),
            policy=PolicyInForce(owner),
            store=store,
            audit=audit,
            events=events,
            restreamer=restreamer,
            guard=guard,
            clock=clock,
        )
        self._timer = ShareTimer(
            tick=self.tick,
            next_due=self._next_due,
            clock=clock,
            rollback=store.rollback,
            guard=guard,
        )
        self._life = ShareLifecycle(parts, camera=self.camera, wake=self._timer.wake)
        self._enforcer = Enforcer(parts, life=self._life)
        self._owner_side = OwnerSide(
            parts=parts,
            life=self._life,
            lock=self._lock,
            enforce=self._enforcer.enforce,
            find_request=lambda request_id: self._stored_request(request_id, seen_for=None),
            use_cameras=self._use_cameras,
            wake=self._timer.wake,
        )

    @property
    def guard(self) -> StorageGuard:
        """What the database's health allows: refuses new work while it cannot be recorded."""
        return self._p.guard

    @property
    def owner(self) -> OwnerState:
        """The owner's policy and cameras in force."""
        return self._p.policy.state

    def on_cut(self, listener: CutListener) -> None:
        """Call `listener(token)` first thing when a live share ends (the doors cut viewers)."""
        self._life.on_cut(listener)

    def on_forget(self, forget_token: ForgetToken) -> None:
        """Called with each token of a request leaving memory; returns its viewer figures."""
        self._enforcer.forget_token = forget_token

    # --- start, restore, stop ------------------------------------------------------------------

    async def load(self) -> None:
        """Restore from the database, failing closed.

        A share whose window ended while the gateway was down is closed and audited, never
        resumed; live ones resume only until their end. Requests that ended over an hour ago stay
        in the database; their figures are read back as totals.
        """
        saved = await load_owner(self._p.store)
        if saved is not None:
            self._use_cameras(saved.cameras)
            self._p.policy.state = saved
        now = self._p.clock()
        cutoff = now - KEEP_ENDED
        self._enforcer.archive = {
            agency: Figures.from_totals(t)
            for agency, t in (await self._p.store.totals_before(cutoff)).items()
        }
        by_request: dict[str, list[ShareRow]] = {}
        for share in await self._p.store.load_shares(cutoff):
            by_request.setdefault(share.request_id, []).append(share)
        for row in await self._p.store.load_requests(cutoff):
            state = self._state(row, by_request.get(row.id, []))
            ended = [s.ended_at for s in state.shares if s.ended_at is not None]
            final_at = row.ended_at or max(ended, default=row.created_at)
            self._p.book.add(state, now=now, final_at=final_at)
        await self.tick(restored=True)
        live = self._p.book.live_tokens()
        await self._p.restreamer.reconcile(live)
        for share in [s for s in self._p.book.active.values() if s.token in live]:
            await self._p.restreamer.add(self._life.spec(share))

    def _state(self, row: RequestRow, shares: list[ShareRow]) -> RequestState:
        agency = self._agencies.get(row.agency_id)
        return RequestState(
            row=row, agency_name=agency.name if agency else row.agency_id, shares=shares
        )

    def _use_cameras(self, cameras: tuple[Camera, ...]) -> None:
        # Camera sources may hold credentials: redacted from the audit log and the logs.
        self._secrets.add(*(c.source for c in cameras))

    def start(self) -> None:
        """Run the timer."""
        self._timer.start()

    async def stop(self) -> None:
        """Stop the timer (shares stay as stored; a restart resumes or closes them)."""
        await self._timer.stop()
        if self._life.unrecorded and not await self._life.flush():
            _LOGGER.error(
                "stopping with %d share ends not recorded: the database could not be written",
                self._life.unrecorded,
            )

    def memory(self) -> dict[str, int]:
        """How much is held in memory (for tests and benchmarks)."""
        return self._p.book.memory()

    # --- lookups -------------------------------------------------------------------------------

    def live_share(self, token: str) -> ShareRow | None:
        """The share a token names if it is live now; unknown and expired look alike (None)."""
        return self._p.book.live_share(token, self._p.clock())

    def camera(self, camera_id: str) -> Camera | None:
        """A camera of the registry in force."""
        return next((c for c in self.owner.cameras if c.id == camera_id), None)

    def offered_cameras(self) -> list[Camera]:
        """Cameras with consent on, whatever the schedule (the list must not reveal it)."""
        return [c for c in self.owner.cameras if c.consent]

    async def request_for(self, request_id: str, agency_id: str) -> RequestState:
        """The request if this agency made it (from the store for 7 days after it ended)."""
        state = self._p.book.requests.get(request_id)
        if state is None:
            state = await self._stored_request(request_id, seen_for=CITY_SEES_ENDED)
        if state is None or state.row.agency_id != agency_id:
            raise NotFoundError(request_id)
        return state

    async def _stored_request(
        self, request_id: str, seen_for: timedelta | None
    ) -> RequestState | None:
        """A request no longer in memory, as a read-only view (None if gone or too old)."""
        found = await self._p.store.get_request(request_id)
        if found is None:
            return None
        row, shares = found
        if seen_for is not None and row.ended_at and self._p.clock() - row.ended_at > seen_for:
            return None
        return self._state(row, shares)

    # --- the city's side -----------------------------------------------------------------------

    async def submit(self, agency: Agency, body: dict[str, Any]) -> RequestState:
        """Decide a validated city request per camera and record everything."""
        async with self._lock:
            refuse_unless_recordable(self._p.guard)
            now = self._p.clock()
            start = body.get("start") or now
            ask = city_ask(body, start)
            decisions = decide(self.owner, ask, now)
            if any(d.outcome == "ask" for d in decisions):
                self._p.book.check_capacity(agency.id, now)  # only a request that would wait
            request_id = f"req_{secrets.token_urlsafe(12)}"
            stored_body = {**body, "start": iso(start)}
            row = RequestRow(id=request_id, agency_id=agency.id, created_at=now, body=stored_body)
            timeout = self.owner.policy.approval_timeout_s
            shares = [new_share(request_id, d, start, now, timeout) for d in decisions]
            await write_or_503(self._p.store.add_request(row, shares), self._p.store, self._p.guard)
            state = RequestState(row=row, agency_name=agency.name, shares=shares)
            self._p.book.add(state, now=now)
            async with self._undo_on_failure(state):
                await self._p.audit.append(
                    "request_received", received_record(state, self.owner, ask, decisions)
                )
                self._p.events.publish("request_received", **request_event(state))
                for share, decision in zip(state.shares, decisions, strict=True):
                    await self._p.audit.append(
                        "request_decided", decided_record(share, decision, agency)
                    )
                self._p.events.publish("request_decided", **request_event(state))
                for share in state.shares:
                    if share.status == ShareStatus.LIVE:
                        await self._life.activate(share)
            self._timer.wake()
            return state

    @contextlib.asynccontextmanager
    async def _undo_on_failure(self, state: RequestState) -> AsyncIterator[None]:
        """A request stored but not fully on the record: its shares end now.

        The city gets 503 and never saw their links.
        """
        try:
            yield
        except STORAGE_ERRORS as err:
            self._p.guard.note("cannot record a request", err)
            await self._life.end_all([(s, STORAGE_FAILED) for s in state.shares if is_active(s)])
            raise StorageUnavailableError from None

    async def city_cancel(self, request_id: str, agency_id: str) -> None:
        """The city's DELETE: every share of the request is cut now (idempotent)."""
        async with self._lock:
            state = await self.request_for(request_id, agency_id)
            if state.row.id not in self._p.book.requests:
                return  # ended long ago; nothing is left to cut
            await self._life.end_all(
                [(s, Reason.CITY_CANCELLED) for s in state.shares if is_active(s)]
            )
            for share in state.shares:
                if share.status == ShareStatus.PENDING:
                    declined = self._life.decline(share, Reason.CITY_CANCELLED)
                    await write_or_503(declined, self._p.store, self._p.guard)
            self._p.book.changed(state, now=self._p.clock())

    async def wait_for_decision(self, state: RequestState, timeout: float) -> None:
        """Long-poll: return when the request is no longer pending or after `timeout`."""
        await state.wait_until_decided(timeout)

    def long_poll_started(self, request_id: str) -> asyncio.Event:
        """Set once a long-poll waits on this request (what a test waits for before acting)."""
        return self._p.book.requests[request_id].polled

    def city_view(self, state: RequestState) -> dict[str, Any]:
        """The request as the city sees it: no reasons, links only while live or scheduled."""
        return city_view(state, self._links)

    # --- the owner's side (owner_side.py) -------------------------------------------------------

    async def set_policy(self, policy: Policy, cameras: tuple[Camera, ...]) -> None:
        """A push from the integration: replaces policy and cameras, renews the lease."""
        await self._owner_side.set_policy(policy, cameras)

    async def pause(self, until: datetime | None) -> None:
        """Pause sharing (optionally until a time); live shares end now."""
        await self._owner_side.set_paused(paused=True, until=until)

    async def resume(self) -> None:
        """Resume sharing."""
        await self._owner_side.set_paused(paused=False, until=None)

    async def approve(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says yes to pending cameras; the policy still applies (default deny)."""
        return await self._owner_side.approve(request_id, camera_ids)

    async def deny(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says no to pending cameras."""
        return await self._owner_side.deny(request_id, camera_ids)

    async def revoke_share(self, share_id: str) -> None:
        """End one share now."""
        await self._owner_side.revoke_share(share_id)

    async def revoke(self, camera_id: str | None) -> int:
        """End every active share of one camera, or of all; returns how many ended."""
        return await self._owner_side.revoke(camera_id)

    # --- the timer's work (enforce.py) ---------------------------------------------------------

    async def tick(self, *, restored: bool = False) -> None:
        """Process whatever is due now (the timer calls this; tests may too)."""
        async with self._lock:
            if self._p.guard.failed:
                await self._life.flush()
                return
            await self._enforcer.enforce(self._p.clock(), restored=restored)
            if not self._p.guard.reserved:
                await self._p.guard.ensure_reserve()

    def _next_due(self, now: datetime) -> datetime:
        return next_wake(
            now,
            guard=self._p.guard,
            deadlines=self._p.book.deadlines,
            any_active=bool(self._p.book.active),
            owner=self.owner,
        )

    # --- views for the owner -------------------------------------------------------------------

    def owner_state(self, viewers: Mapping[str, int]) -> dict[str, Any]:
        """GET /api/v1/state: cameras, pending requests, live shares, the policy in force."""
        active = self._p.book.active.values()
        pending = self._p.book.pending_requests()
        return owner_state(self.owner, active, pending, viewers, self._p.clock())

    def transparency(
        self, viewer_seconds: Mapping[str, float], viewers: Mapping[str, int]
    ) -> dict[str, Any]:
        """Per agency: requests, approved, declined, minutes live, minutes viewed, viewers."""
        figures = {t: (viewers.get(t, 0), viewer_seconds.get(t, 0.0)) for t in viewer_seconds}
        for token, count in viewers.items():
            figures.setdefault(token, (count, 0.0))
        return report(
            {a.id: a.name for a in self._agencies.values()},
            self._enforcer.archive,
            ((s.row, s.agency_name, s.shares) for s in self._p.book.requests.values()),
            self._p.clock(),
            figures,
        )
