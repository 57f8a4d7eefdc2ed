"""Per-agency rate limit: a sliding one-minute window over every verified call."""

from __future__ import annotations

import math
from collections import deque
from typing import Final

WINDOW_S: Final = 60.0


class RateLimiter:
    """Counts calls per key; `hit` answers 0 when allowed, else the seconds to wait."""

    def __init__(self) -> None:
        self._calls: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, now: float) -> int:
        """Record a call at monotonic time `now` unless over `limit`; returns Retry-After."""
        calls = self._calls.setdefault(key, deque())
        while calls and now - calls[0] >= WINDOW_S:
            calls.popleft()
        if len(calls) >= limit:
            return max(1, math.ceil(WINDOW_S - (now - calls[0])))
        calls.append(now)
        return 0
