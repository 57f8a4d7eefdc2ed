"""Who is watching now: every viewer connection of every share, counted, audited, and cut.

Both doors register each viewer here. Cutting a share closes all its connections at once, which
is the only way to end live viewers (go2rtc's DELETE does not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from rtcc_gateway.clock import Steady, WallClock, utc_now
from rtcc_gateway.door.share_admission import ShareAdmission
from rtcc_gateway.store_rows import iso

_LOGGER = logging.getLogger(__name__)

type Notify = Callable[[str, dict[str, Any]], Coroutine[Any, Any, None]]

# A viewer that got no media for this long has lost its camera (go2rtc keeps such a viewer
# connected and silent): both doors end it with this `end_reason`.
NO_MEDIA_S: Final = 10.0
CAMERA_LOST: Final = "camera_lost"


@dataclass(slots=True)
class Viewer:
    """One viewer connection through a door."""

    id: str
    share: ShareAdmission  # the share it watches, as the door admitted it
    remote: str
    kind: str  # rtsp | mp4 | hls
    started: float  # monotonic, for durations
    connected_at: datetime  # the gateway's clock, for the owner to read
    close: Callable[[], None]
    bytes_out: int = 0
    recorded: asyncio.Task[None] | None = None


class ViewerRegistry:
    """Live viewers per share token, with totals for the transparency report."""

    def __init__(
        self, notify: Notify, now: WallClock = utc_now, monotonic: Steady = time.monotonic
    ) -> None:
        self._notify = notify
        self._now = now  # the gateway's wall clock: when a viewer connected
        self._monotonic = monotonic  # its steady count: how long a viewer watched
        self._live: dict[str, dict[str, Viewer]] = {}
        self._cut: set[str] = set()
        self.totals: dict[str, tuple[int, float]] = {}  # token -> (viewers ever, seconds watched)
        self._tasks: set[asyncio.Task[None]] = set()

    def counts(self) -> dict[str, int]:
        """Viewers now, per token."""
        return {token: len(v) for token, v in self._live.items() if v}

    def seconds(self) -> dict[str, float]:
        """Seconds watched per token, ended viewers plus live ones so far."""
        now = self._monotonic()
        out = {token: total[1] for token, total in self.totals.items()}
        for token, viewers in self._live.items():
            out[token] = out.get(token, 0.0) + sum(now - v.started for v in viewers.values())
        return out

    def by_share(self) -> dict[str, list[dict[str, str]]]:
        """Viewers now per share id, oldest first: id, since when (ISO 8601 UTC) and via what."""
        out: dict[str, list[dict[str, str]]] = {}
        for viewers in self._live.values():
            for viewer in sorted(viewers.values(), key=lambda v: v.started):
                out.setdefault(viewer.share.share_id, []).append(
                    {
                        "viewer_id": viewer.id,
                        "connected_at": iso(viewer.connected_at) or "",
                        "via": viewer.kind,
                    }
                )
        return out

    def ever(self) -> dict[str, int]:
        """Viewers ever per token."""
        return {token: total[0] for token, total in self.totals.items()}

    def connect(
        self, share: ShareAdmission, *, remote: str, kind: str, close: Callable[[], None]
    ) -> Viewer | None:
        """Register a viewer of an admitted share now; None if it was cut (the caller closes).

        Registration is synchronous so a cut can never miss a viewer; the record of it is
        written by a task of its own, which a cancelled caller cannot interrupt.
        """
        if share.token in self._cut:
            return None
        viewer = Viewer(
            id=f"vwr_{secrets.token_urlsafe(8)}",
            share=share,
            remote=remote,
            kind=kind,
            started=self._monotonic(),
            connected_at=self._now(),
            close=close,
        )
        self._live.setdefault(share.token, {})[viewer.id] = viewer
        count, seconds = self.totals.get(share.token, (0, 0.0))
        self.totals[share.token] = (count + 1, seconds)
        viewer.recorded = self._spawn(self._notify("viewer_connected", self._detail(viewer)))
        return viewer

    async def disconnect(self, viewer: Viewer, end_reason: str | None = None) -> None:
        """A viewer left or was cut: record how long, how much and why (after its connect record).

        `end_reason` is set when the door knows it (`camera_lost`).
        """
        live = self._live.get(viewer.share.token, {})
        if live.pop(viewer.id, None) is None:
            return
        duration = self._monotonic() - viewer.started
        count, seconds = self.totals.get(viewer.share.token, (0, 0.0))
        self.totals[viewer.share.token] = (count, seconds + duration)
        detail = self._detail(viewer)
        detail.update(duration_s=round(duration, 3), bytes=viewer.bytes_out)
        if end_reason is not None:
            detail["end_reason"] = end_reason
        connected = viewer.recorded

        async def record() -> None:
            if connected is not None:
                await connected
            await self._notify("viewer_disconnected", detail)

        await asyncio.shield(self._spawn(record()))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for every pending record (at shutdown)."""
        # Only the unfinished ones: a finished task stays in the set until its done callback
        # runs, and awaiting finished tasks does not yield to the loop, so waiting on it would
        # spin forever without letting that callback run (seen as a stop that never ended).
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.wait(pending)

    def _detail(self, viewer: Viewer) -> dict[str, Any]:
        return {
            "viewer_id": viewer.id,
            "share_id": viewer.share.share_id,
            "request_id": viewer.share.request_id,
            "camera_id": viewer.share.camera_id,
            "remote": viewer.remote,
            "via": viewer.kind,
            "viewers": len(self._live.get(viewer.share.token, {})),
        }

    async def cut(self, token: str) -> None:
        """Close every connection of a share now; refuse new ones from now on."""
        self._cut.add(token)
        for viewer in list(self._live.get(token, {}).values()):
            with contextlib.suppress(Exception):
                viewer.close()

    def forget(self, token: str) -> tuple[int, float]:
        """A share long ended: drop what is kept of it; returns (viewers ever, seconds watched).

        Nothing is dropped while one of its viewers is still registered.
        """
        totals = self.totals.get(token, (0, 0.0))
        if not self._live.get(token):
            self._live.pop(token, None)
            self.totals.pop(token, None)
            self._cut.discard(token)
        return totals

    def is_cut(self, token: str) -> bool:
        """Whether the share behind this token was cut."""
        return token in self._cut
