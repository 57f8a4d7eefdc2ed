"""What is in memory and where: requests, their shares, the indexes and the deadlines.

Memory holds what is open and what ended within the last hour; older requests live only in the
database. Every share sits in the indexes its status says (token and active while live or
scheduled), and its deadlines are in one heap, so the timer's work does not grow with history.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from rtcc_gateway.deadlines import DeadlineHeap
from rtcc_gateway.shares.status import ShareStatus, is_active, is_final
from rtcc_gateway.store import RequestRow, ShareRow

KEEP_ENDED: Final = timedelta(hours=1)  # an ended request stays in memory this long
MAX_PENDING_PER_AGENCY: Final = 50
MAX_PENDING: Final = 500

type Deadline = tuple[str, str]  # (what, share or request id)


class NotFoundError(Exception):
    """No such request or share (for this caller)."""


class NothingPendingError(Exception):
    """The request holds no pending camera (of those named): decided already, or ended."""


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

    async def wait_until_decided(self, timeout: float) -> None:
        """Long-poll: return when no share is pending any more, or after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(s.status == ShareStatus.PENDING for s in self.shares):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            changed = self.changed.wait()
            self.polled.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed, remaining)

    def touch(self) -> None:
        """Wake everyone long-polling this request."""
        self.changed.set()
        self.changed = asyncio.Event()


class ShareBook:
    """The requests and shares in memory, indexed by id, token, status and deadline."""

    def __init__(self) -> None:
        self.requests: dict[str, RequestState] = {}
        self.shares: dict[str, ShareRow] = {}
        self.active: dict[str, ShareRow] = {}
        self.deadlines: DeadlineHeap[Deadline] = DeadlineHeap()
        self._by_token: dict[str, ShareRow] = {}
        self._pending: dict[str, str] = {}  # request id -> agency id, while pending
        self._pending_per_agency: Counter[str] = Counter()
        self.ended_at: dict[str, datetime] = {}  # request id -> when it became final

    def add(self, state: RequestState, *, now: datetime, final_at: datetime | None = None) -> None:
        """A request (new or restored) and its shares into memory."""
        self.requests[state.row.id] = state
        for share in state.shares:
            self.shares[share.id] = share
            self.index(share)
        self.changed(state, now=now, final_at=final_at)

    def drop(self, request_id: str) -> RequestState:
        """A request out of memory (it stays in the database)."""
        state = self.requests.pop(request_id)
        self.ended_at.pop(request_id, None)
        for share in state.shares:
            self.shares.pop(share.id, None)
        return state

    def index(self, share: ShareRow) -> None:
        """Put a share where its status says: token and active indexes, and its deadlines."""
        if is_active(share) and share.token:
            self._by_token[share.token] = share
            self.active[share.id] = share
            if share.ends_at is not None:
                self.deadlines.set(("end", share.id), share.ends_at)
            if share.status == ShareStatus.SCHEDULED and share.starts_at is not None:
                self.deadlines.set(("start", share.id), share.starts_at)
        else:
            self.active.pop(share.id, None)
            if share.token:
                self._by_token.pop(share.token, None)
            self.deadlines.cancel(("end", share.id))
            self.deadlines.cancel(("start", share.id))
        if share.status == ShareStatus.PENDING and share.approve_by is not None:
            self.deadlines.set(("approve", share.id), share.approve_by)
        else:
            self.deadlines.cancel(("approve", share.id))

    def changed(
        self, state: RequestState, *, now: datetime, final_at: datetime | None = None
    ) -> None:
        """After any change to a request's shares: wake pollers, keep the pending count.

        A request that is final leaves memory an hour later (the "forget" deadline).
        """
        state.touch()
        request_id, agency_id = state.row.id, state.row.agency_id
        pending = any(s.status == ShareStatus.PENDING for s in state.shares)
        if pending and request_id not in self._pending:
            self._pending[request_id] = agency_id
            self._pending_per_agency[agency_id] += 1
        elif not pending and request_id in self._pending:
            del self._pending[request_id]
            self._pending_per_agency[agency_id] -= 1
        if is_final(state.shares) and request_id not in self.ended_at:
            ended = final_at or now
            self.ended_at[request_id] = ended
            self.deadlines.set(("forget", request_id), ended + KEEP_ENDED)

    def changed_share(self, share: ShareRow, *, now: datetime) -> None:
        """`changed` for the request of one share, if it is still in memory."""
        state = self.requests.get(share.request_id)
        if state is not None:
            self.changed(state, now=now)

    def pending_requests(self) -> list[RequestState]:
        """Requests with a share waiting for the owner, oldest first."""
        return [self.requests[r] for r in self._pending]

    def memory(self) -> dict[str, int]:
        """How much is held in memory (for tests and benchmarks)."""
        return {
            "requests": len(self.requests),
            "shares": len(self.shares),
            "active": len(self.active),
            "pending": len(self._pending),
            "deadlines": len(self.deadlines),
        }

    def live_share(self, token: str, now: datetime) -> ShareRow | None:
        """The share a token names if it is live now; unknown and expired look alike (None).

        Every active token is compared in constant time, with no early exit, so the time taken
        says nothing about how close a guess was.
        """
        share = None
        wanted = token.encode()
        for candidate, row in self._by_token.items():
            if hmac.compare_digest(candidate.encode(), wanted):
                share = row
        if share is None or share.status != ShareStatus.LIVE:
            return None
        if share.ends_at is not None and now >= share.ends_at:
            return None
        return share

    def live_tokens(self) -> set[str]:
        """The tokens of every live share."""
        return {s.token for s in self.active.values() if s.status == ShareStatus.LIVE and s.token}

    def check_capacity(self, agency_id: str, now: datetime) -> None:
        """At most 50 requests waiting for the owner per agency, and 500 in all (else 429).

        A request refused here is not recorded: the city may ask again after Retry-After.
        """
        if self._pending_per_agency[agency_id] >= MAX_PENDING_PER_AGENCY:
            limit, mine = MAX_PENDING_PER_AGENCY, agency_id
        elif len(self._pending) >= MAX_PENDING:
            limit, mine = MAX_PENDING, None
        else:
            return
        waits = [
            share.approve_by
            for request_id, owner in self._pending.items()
            if mine is None or owner == mine
            for share in self.requests[request_id].shares
            if share.status == ShareStatus.PENDING and share.approve_by is not None
        ]
        retry = max(1, int((min(waits, default=now) - now).total_seconds()) + 1)
        raise TooManyPendingError(limit, retry)
