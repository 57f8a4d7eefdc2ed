"""Each viewer on the record: connects and disconnects audited and streamed to the owner.

A connected viewer is also kept in the database, so a restart after a crash can close it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.events import EventBus
from rtcc_gateway.storage_guard import STORAGE_ERRORS
from rtcc_gateway.store import Store
from rtcc_gateway.store_rows import viewer_closed, viewer_opened


class ViewerRecords:
    """The viewer registry's listener, and the after-crash close."""

    def __init__(
        self,
        *,
        audit: Callable[[], AuditLog],
        events: EventBus,
        clock: Callable[[], datetime],
        storage_error: Callable[[BaseException], Awaitable[None]],
    ) -> None:
        self._audit = audit  # late-bound: the log opens at start
        self._events = events
        self._clock = clock
        self._storage_error = storage_error

    async def record(self, kind: str, detail: dict[str, Any]) -> None:
        """One viewer's connect or disconnect: on the record and on the owner's stream."""
        viewer_id = str(detail.get("viewer_id", ""))
        also = (
            [viewer_opened(viewer_id, self._clock(), detail)]
            if kind == "viewer_connected"
            else [viewer_closed(viewer_id)]
            if kind == "viewer_disconnected"
            else []
        )
        try:
            await self._audit().append(kind, detail, also=also)
        except STORAGE_ERRORS as err:
            await self._storage_error(err)
        self._events.publish(kind, **detail)

    async def close_open(self, store: Store) -> int:
        """After a crash: every viewer the record still has connected gets its end, first.

        What is known: who, which share, when they connected; not how long they watched.
        """
        open_viewers = await store.open_viewers()
        for viewer_id, connected_at, detail in open_viewers:
            await self._audit().append(
                "viewer_disconnected",
                {
                    **detail,
                    "viewer_id": viewer_id,
                    "end_reason": "gateway_restart",
                    "connected_at": connected_at.isoformat(),
                    "duration_s": None,
                    "bytes": None,
                    "note": "the gateway stopped without closing this viewer; it ended by then",
                },
                also=[viewer_closed(viewer_id)],
            )
        return len(open_viewers)
