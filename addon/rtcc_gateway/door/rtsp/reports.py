"""What the RTSP door tells the owner's audit log, bounded so that no viewer can flood it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from rtcc_gateway.clock import Steady

# The owner's audit log: append one record of this kind with this detail.
type Report = Callable[[str, dict[str, Any]], Awaitable[None]]

PER_MINUTE: Final = 30  # records per key (a share's violations) per minute; the rest are counted


class Reports:
    """Writes door records through `sink`, at most `per_minute` a minute for each key."""

    def __init__(self, sink: Report | None, *, clock: Steady = time.monotonic) -> None:
        self._sink = sink
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, records)
        self._suppressed: dict[str, int] = {}

    def allow(self, key: str, per_minute: int = PER_MINUTE) -> bool:
        """Whether a record for `key` may be written now (counted as written if so)."""
        if self._sink is None:
            return False
        now = self._clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= 60:  # noqa: PLR2004
            start, count = now, 0
        if count >= per_minute:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._windows[key] = (start, count + 1)
        if len(self._windows) > 10_000:  # noqa: PLR2004 - keys of long-gone shares
            self._windows = {k: w for k, w in self._windows.items() if now - w[0] < 60}  # noqa: PLR2004
        return True

    async def write(self, key: str, kind: str, detail: dict[str, Any]) -> None:
        """Write one record that `allow(key)` admitted, with what was suppressed before it."""
        if self._sink is None:
            return
        if suppressed := self._suppressed.pop(key, 0):
            detail = {**detail, "suppressed_before": suppressed}
        await self._sink(kind, detail)

    async def report(self, key: str, kind: str, detail: dict[str, Any]) -> None:
        """`allow` and `write` in one."""
        if self.allow(key):
            await self.write(key, kind, detail)
