"""A heap of deadlines, so the share timer's work follows what is due, not how much history exists.

Each key has at most one deadline; setting it again or cancelling it leaves the old heap entry in
place, to be skipped when it surfaces (and swept out when stale entries pile up).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from datetime import datetime
from typing import Final

_SWEEP_MIN: Final = 256


class DeadlineHeap[K: Hashable]:
    """Keys with a moment each; `due(now)` pops every key whose moment has come."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, K]] = []
        self._when: dict[K, tuple[datetime, int]] = {}
        self._counter = 0  # breaks ties, so keys themselves are never compared

    def __len__(self) -> int:
        return len(self._when)

    def __contains__(self, key: K) -> bool:
        return key in self._when

    def set(self, key: K, when: datetime) -> None:
        """Give `key` the deadline `when` (replacing any it had)."""
        self._counter += 1
        self._when[key] = (when, self._counter)
        heapq.heappush(self._heap, (when, self._counter, key))
        if len(self._heap) > max(_SWEEP_MIN, 2 * len(self._when)):
            self._sweep()

    def cancel(self, key: K) -> None:
        """Forget `key`'s deadline, if it has one."""
        self._when.pop(key, None)

    def when(self, key: K) -> datetime | None:
        """The deadline of `key`, or None."""
        entry = self._when.get(key)
        return None if entry is None else entry[0]

    def next(self) -> datetime | None:
        """The earliest deadline, or None when there is none."""
        self._drop_stale_top()
        return self._heap[0][0] if self._heap else None

    def due(self, now: datetime) -> list[K]:
        """Remove and return every key whose deadline is at or before `now`, earliest first."""
        out: list[K] = []
        while True:
            self._drop_stale_top()
            if not self._heap or self._heap[0][0] > now:
                return out
            _, _, key = heapq.heappop(self._heap)
            del self._when[key]
            out.append(key)

    def _drop_stale_top(self) -> None:
        heap = self._heap
        while heap and self._when.get(heap[0][2]) != (heap[0][0], heap[0][1]):
            heapq.heappop(heap)

    def _sweep(self) -> None:
        self._heap = [(w, c, k) for k, (w, c) in self._when.items()]
        heapq.heapify(self._heap)
