"""The owner's event stream: numbered events fanned out to every WebSocket subscriber.

The latest events are held (a bounded buffer) so a client that was away can ask for those after
the last `seq` it handled. Numbers restart with each gateway run, so every run has a `stream` id:
a cursor of another run (or older than what is held) is answered with `gap`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from rtcc_gateway.audit_chain import format_ts
from rtcc_gateway.clock import WallClock, utc_now

_LOGGER = logging.getLogger(__name__)

QUEUE_SIZE: Final = 1000  # a subscriber this far behind is dropped (it re-reads /state)
HELD: Final = 500  # events kept for replay; fewer than a queue holds, so a replay always fits

EVENT_TYPES: Final = frozenset(
    {
        "request_received",
        "request_decided",
        "share_started",
        "share_ended",
        "viewer_connected",
        "viewer_disconnected",
        "policy_stale",
        "audit_head",
        "storage_failed",
        "storage_recovered",
    }
)


@dataclass(frozen=True, slots=True)
class Replay:
    """The held events after a cursor, and whether some after it are no longer held."""

    stream: str
    seq: int  # the latest event's number (0: none yet); the next cursor when nothing is replayed
    gap: bool
    events: list[dict[str, Any]]

    def hello(self) -> dict[str, Any]:
        """The first message of a stream opened with `after`: what follows is replayed."""
        return {
            "type": "replay",
            "stream": self.stream,
            "seq": self.seq,
            "gap": self.gap,
            "replayed": len(self.events),
        }


class EventBus:
    """Publishes events; never blocks on a slow subscriber."""

    def __init__(self, clock: WallClock = utc_now) -> None:
        self._clock = clock
        self._seq = 0
        self.stream = f"evs_{secrets.token_urlsafe(9)}"
        self._held: deque[dict[str, Any]] = deque(maxlen=HELD)
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def publish(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send one event to every subscriber; returns it."""
        assert type_ in EVENT_TYPES, type_  # noqa: S101 - a programming error, caught in tests
        self._seq += 1
        event = {
            "seq": self._seq,
            "ts": format_ts(self._clock()),  # the audit log's format
            "type": type_,
            **fields,
        }
        self._held.append(event)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                _LOGGER.warning("dropping an event subscriber %d events behind", QUEUE_SIZE)
                self._subscribers.discard(queue)
                # Make room for the goodbye, so the subscriber learns it must re-read the state.
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)
        return event

    def replay(self, after: int, stream: str | None = None) -> Replay:
        """The held events numbered above `after`, of this run.

        A cursor of another run (its `stream`, or a number this run never reached) cannot be
        matched: everything held is replayed, with `gap` (what came after it may be lost).
        """
        other_run = (stream is not None and stream != self.stream) or after > self._seq
        if other_run:
            after = 0
        first_held = self._held[0]["seq"] if self._held else self._seq + 1
        gap = other_run or after + 1 < first_held
        events = [e for e in self._held if e["seq"] > after]
        return Replay(self.stream, self._seq, gap, events)

    def subscribe(self, replay: Replay | None = None) -> asyncio.Queue[dict[str, Any] | None]:
        """A queue of events, a replay's hello and events first; None means "you were dropped".

        Taking the replay and subscribing happen with nothing in between (publish is
        synchronous), so no event is missed or given twice.
        """
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        if replay is not None:
            for event in [replay.hello(), *replay.events]:
                queue.put_nowait(event)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        """Stop delivering to `queue`."""
        self._subscribers.discard(queue)

    def close(self) -> None:
        """Tell every subscriber the stream ends."""
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._subscribers.clear()
