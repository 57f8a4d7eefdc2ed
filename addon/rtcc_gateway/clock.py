"""The gateway's one clock: wall time for records and deadlines, a steady count for intervals.

`Gateway(clock=...)` is the one place a clock is injected; every part reads time from the `Clock`
built there (tests move the wall clock to end shares, expire records and age signatures). The
steady count measures intervals (rate limits, idle times, log budgets) and never jumps when the
wall clock is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

type WallClock = Callable[[], datetime]
type Steady = Callable[[], float]


def utc_now() -> datetime:
    """The real wall clock, in UTC (the default of everything that takes a wall clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    """Both readings from one injected source."""

    now: WallClock = utc_now
    monotonic: Steady = time.monotonic
