"""Sliding one-minute windows per key: the per-agency rate limit and the audit caps.

Every limiter reads the gateway's wall clock (clock.py), so a test that moves it moves the windows;
a clock set back forgets the calls it would place in the future rather than block until then.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from rtcc_gateway.clock import WallClock, utc_now

WINDOW_S: Final = 60.0
_MIN_SWEEP: Final = 1024  # keys kept before idle ones are first swept out


class RateLimiter:
    """Counts calls per key; `hit` answers 0 when allowed, else the seconds to wait.

    Keys idle for a whole window are dropped now and then, so a spray of source addresses cannot
    grow the table without bound.
    """

    def __init__(self, clock: WallClock = utc_now) -> None:
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._sweep_at = _MIN_SWEEP

    def hit(self, key: str, limit: int) -> int:
        """Record a call now unless over `limit`; returns Retry-After (0: allowed)."""
        now = self._clock().timestamp()
        calls = self._calls.setdefault(key, deque())
        if calls and calls[-1] > now:  # the clock was set back
            calls.clear()
        while calls and now - calls[0] >= WINDOW_S:
            calls.popleft()
        if len(calls) >= limit:
            return max(1, math.ceil(WINDOW_S - (now - calls[0])))
        calls.append(now)
        if len(self._calls) > self._sweep_at:
            self._sweep(now)
        return 0

    def _sweep(self, now: float) -> None:
        self._calls = {k: c for k, c in self._calls.items() if c and now - c[-1] < WINDOW_S}
        # Amortized: the next sweep waits until the table has doubled again.
        self._sweep_at = max(_MIN_SWEEP, 2 * len(self._calls))

    def __len__(self) -> int:
        """How many keys are remembered now."""
        return len(self._calls)
