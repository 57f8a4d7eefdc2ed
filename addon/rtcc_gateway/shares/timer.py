"""The single timer that ends shares: it sleeps until the next thing due, then ticks.

What is due comes from the deadline heap (share ends and starts, approval timeouts, requests to
forget) and, while shares are active, from the owner's schedule and lease; a wake-up also comes
early whenever something changes. It re-checks at least every 30 s as a safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from rtcc_gateway.deadlines import DeadlineHeap
from rtcc_gateway.policy import OwnerState
from rtcc_gateway.schedule import next_window_start
from rtcc_gateway.shares.owner_policy import lease_end
from rtcc_gateway.storage_guard import STORAGE_ERRORS, StorageGuard
from rtcc_gateway.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

MAX_SLEEP_S: Final = 30.0  # the timer re-checks at least this often, as a safety net
RETRY_S: Final = 5.0  # how often unrecorded ends are retried in the storage-failure mode


def next_wake[T](
    now: datetime,
    *,
    guard: StorageGuard,
    deadlines: DeadlineHeap[T],
    any_active: bool,
    owner: OwnerState,
) -> datetime:
    """When the timer must look again."""
    if guard.failed or not guard.reserved:
        return now + timedelta(seconds=RETRY_S)
    candidates = [now + timedelta(seconds=MAX_SLEEP_S)]
    due = deadlines.next()
    if due is not None:
        candidates.append(due)
    if any_active:
        window = next_window_start(owner.policy, now)
        if window is not None:
            candidates.append(window)
        lease = lease_end(owner)
        if lease is not None:
            candidates.append(lease)
    return min(candidates)


@dataclass(eq=False, kw_only=True, slots=True)
class ShareTimer:
    """Runs `tick` whenever `next_due` says, or sooner when woken."""

    tick: Callable[[], Awaitable[None]]
    next_due: Callable[[datetime], datetime]
    clock: Callable[[], datetime]
    rollback: Callable[[], Awaitable[None]]  # after a tick that could not write
    guard: StorageGuard
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def wake(self) -> None:
        """Something changed: look again now."""
        self._wake.set()

    def start(self) -> None:
        """Run the timer."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the timer."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock()
            delay = max(0.0, (self.next_due(now) - now).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            try:
                await self.tick()
            except STORAGE_ERRORS as err:
                # A decline or a start that could not be written: retried at the next tick.
                await self.rollback()
                self.guard.note("the share timer cannot write the database", err)
                await asyncio.sleep(1)
            except Exception:
                # The timer must survive anything: a stopped timer would leave shares open.
                _LOGGER.exception("share timer failed; retrying in 1 s")
                await asyncio.sleep(1)
