"""The owner's event stream: numbered events fanned out to every WebSocket subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from rtcc_gateway.audit_chain import format_ts

_LOGGER = logging.getLogger(__name__)

QUEUE_SIZE: Final = 1000  # a subscriber this far behind is dropped (it re-reads /state)

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


class EventBus:
    """Publishes events; never blocks on a slow subscriber."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._seq = 0
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

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        """A queue of events; None means "you were dropped, reconnect"."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
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
