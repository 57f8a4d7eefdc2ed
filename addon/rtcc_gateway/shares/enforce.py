"""The timer's work: what is due happens, and the policy is applied to the active shares.

Due: ends, starts, approval timeouts, requests to forget; the policy: privacy windows, pause,
consent, the owner's lease.

Deadlines come from the heap; the policy is checked against the active shares only, so a tick
costs what is open, not what was ever shared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rtcc_gateway.policy import Reason, blocking_reason, is_stale
from rtcc_gateway.shares.book import KEEP_ENDED
from rtcc_gateway.shares.lifecycle import Ending, ShareLifecycle
from rtcc_gateway.shares.owner_policy import lease_end
from rtcc_gateway.shares.parts import ShareParts
from rtcc_gateway.shares.status import ACTIVE, ShareStatus, go_live, is_final
from rtcc_gateway.storage_guard import STORAGE_ERRORS
from rtcc_gateway.store import ShareRow, iso
from rtcc_gateway.transparency import Figures

type ForgetToken = Callable[[str], tuple[int, float]]


class Enforcer:
    """Applies deadlines and the policy in force; keeps the figures of forgotten requests."""

    def __init__(
        self,
        parts: ShareParts,
        *,
        life: ShareLifecycle,
    ) -> None:
        self._p = parts
        self._life = life
        self.archive: dict[str, Figures] = {}  # agency id -> figures of requests forgotten
        self.forget_token: ForgetToken | None = None

    async def enforce(self, now: datetime, *, restored: bool = False) -> None:
        """Apply every deadline and policy rule due at `now`."""
        starting, ending = await self._due(now)
        ended = {s.id for s, _ in ending}
        owner = self._p.policy.state
        for share in list(self._p.book.active.values()):
            blocked = blocking_reason(owner, share.camera_id, now)
            if blocked is not None and share.id not in ended:
                ending.append((share, blocked))
                ended.add(share.id)
        for share in starting:
            if share.id in ended:
                continue
            go_live(share)
            await self._p.store.update_shares([share])
            if not restored:
                await self._life.activate(share)
        await self._life.end_all(ending, restored=restored)
        if is_stale(owner, now) and not self._p.policy.stale_announced:
            self._p.policy.stale_announced = True
            since = iso(lease_end(owner))
            self._p.events.publish("policy_stale", since=since)
            await self._p.audit.append("policy_stale", {"since": since})

    async def _due(self, now: datetime) -> tuple[list[ShareRow], list[Ending]]:
        """Pop the deadlines due at `now`: declines happen here; returns (starting, ending)."""
        starting: list[ShareRow] = []
        ending: list[Ending] = []
        for what, ident in self._p.book.deadlines.due(now):
            if what == "forget":
                await self._forget(ident)
                continue
            share = self._p.book.shares.get(ident)
            if share is None:
                continue
            if what == "approve" and share.status == ShareStatus.PENDING:
                await self._life.decline(share, Reason.APPROVAL_TIMEOUT)
            elif what == "end" and share.status in ACTIVE:
                ending.append((share, Reason.WINDOW_ENDED))
            elif what == "start" and share.status == ShareStatus.SCHEDULED:
                starting.append(share)
        return starting, ending

    async def _forget(self, request_id: str) -> None:
        """An hour after it ended: into the database's keeping (and the figures' totals)."""
        state = self._p.book.requests.get(request_id)
        ended = self._p.book.ended_at.get(request_id)
        if state is None or ended is None or not is_final(state.shares):
            return
        try:
            await self._p.store.set_request_ended(request_id, ended)
        except STORAGE_ERRORS as err:
            self._p.guard.note("cannot let an ended request go from memory", err)
            self._p.book.deadlines.set(("forget", request_id), self._p.clock() + KEEP_ENDED)
            return
        figures: dict[str, tuple[int, float]] = {}
        for share in state.shares:
            if share.token and self.forget_token is not None:
                figures[share.token] = self.forget_token(share.token)
        archive = self.archive.setdefault(state.row.agency_id, Figures())
        archive.add_request(state.shares, self._p.clock(), figures)
        self._p.book.drop(request_id)
