"""The RTSP listener: one `Connection` per viewer, all of them closed when the door stops.

Written here rather than taken from a library because the door must see every request and every
byte: it counts viewers, keeps all media inside its own TCP connections, serves only video
unless the owner shares audio, authenticates to the camera itself, and closes connections the
moment a share ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time

from rtcc_gateway.clock import Steady
from rtcc_gateway.door.rtsp.connection import REQUEST_TIMEOUT_S, Admission, Admit, Connection
from rtcc_gateway.door.rtsp.reports import Report, Reports
from rtcc_gateway.door.rtsp.upstream import CameraError
from rtcc_gateway.door.upstream_auth import UpstreamAuthError
from rtcc_gateway.door.viewers import NO_MEDIA_S, ViewerRegistry

__all__ = ["Admission", "Admit", "RtspDoor"]


async def _admit_nothing(_token: str) -> Admission | None:
    return None


class RtspDoor:
    """The RTSP listener."""

    def __init__(
        self,
        max_header_bytes: int,
        admit: Admit = _admit_nothing,
        viewers: ViewerRegistry | None = None,
        report: Report | None = None,
        no_media_s: float = NO_MEDIA_S,
        *,
        clock: Steady = time.monotonic,
    ) -> None:
        self._max_header = max_header_bytes
        # How long a playing viewer may get no media before the camera counts as lost; read for
        # each new connection (tests shorten it on a running door).
        self.no_media_s = no_media_s
        self.admit = admit
        self.viewers = viewers
        self.reports = Reports(report, clock=clock)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        """Connections open now, whatever their state."""
        return len(self._connections)

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None) -> tuple[str, int]:
        """Open the listener; returns the bound address."""
        self._server = await asyncio.start_server(
            self._accept,
            host,
            port,
            ssl=tls,
            limit=self._max_header,
            reuse_address=True,
            ssl_handshake_timeout=REQUEST_TIMEOUT_S if tls else None,
        )
        sockname = self._server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        connection = Connection(
            reader,
            writer,
            max_head=self._max_header,
            admit=self.admit,
            viewers=self.viewers,
            reports=self.reports,
            no_media_s=self.no_media_s,
        )
        try:
            await connection.run()
        except (
            ConnectionError,
            TimeoutError,
            ssl.SSLError,
            UpstreamAuthError,
            CameraError,
            OSError,
        ):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
