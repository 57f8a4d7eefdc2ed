"""A recording RTSP relay: it stands where the camera is, in front of the real synthetic camera,
logs every request it is sent (and every interleaved frame sent towards the camera), and passes
everything on unchanged, so tests can check what reached the camera.

Two knobs for faults a real camera will not make on cue: `session_timeout` rewrites the timeout
in the camera's Session headers (the door must keep such a session alive itself), and
`inject_down` slips frames into the camera's stream towards its clients, at a frame boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Received:
    """One request the camera got."""

    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path if "://" in self.uri else self.uri

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None


def _parse_request(unit: bytes) -> Received:
    head, _, body = unit.partition(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    method, uri = ([*first.split(" "), "", ""])[:2]
    headers = tuple((k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines))
    return Received(method, uri, headers, body)


async def _units(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """One interleaved frame or one whole message at a time (whatever is left at the end)."""
    buf = b""
    while True:
        if buf.startswith(b"$") and len(buf) >= 4:
            end = 4 + int.from_bytes(buf[2:4])
            if len(buf) >= end:
                yield buf[:end]
                buf = buf[end:]
                continue
        elif not buf.startswith(b"$") and b"\r\n\r\n" in buf:
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            need = int(length.group(1)) if length else 0
            if len(rest) >= need:
                yield head + b"\r\n\r\n" + rest[:need]
                buf = rest[need:]
                continue
        try:
            data = await reader.read(65536)
        except ConnectionError:
            data = b""
        if not data:
            if buf:
                yield buf
            return
        buf += data


@dataclass
class RecordingRelay:
    """Listens on a free loopback port and relays each connection to the camera."""

    camera_url: str
    session_timeout: int | None = None
    requests: list[Received] = field(default_factory=list)
    frames_up: list[tuple[int, bytes]] = field(default_factory=list)
    answers: list[bytes] = field(default_factory=list)  # the camera's answers, as sent on
    connections: int = 0
    open_connections: int = 0
    _pending: list[list[bytes]] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """The camera's URL (credentials and path kept) with the relay's port."""
        parts = urlsplit(self.camera_url)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}{parts.path}"

    def inject_down(self, *frames: bytes) -> None:
        """Send these frames to every client now connected, after the camera's next unit."""
        for pending in self._pending:
            pending.extend(frames)

    def seen(self, method: str) -> list[Received]:
        return [r for r in self.requests if r.method == method]

    async def wait_for(self, check: Callable[[], bool], timeout: float = 20) -> None:
        """Until `check()` holds (the timeout only fails a broken run)."""
        async with asyncio.timeout(timeout):
            while not check():  # noqa: ASYNC110 - the relay's own tasks update the record
                await asyncio.sleep(0.02)

    async def wait_idle(self, timeout: float = 20) -> None:
        """Until no client is connected to the camera through the relay."""
        await self.wait_for(lambda: self.open_connections == 0, timeout)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.open_connections += 1
        parts = urlsplit(self.camera_url)
        pending: list[bytes] = []
        self._pending.append(pending)
        try:
            cam_reader, cam_writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            writer.close()
            self.open_connections -= 1
            return
        pumps = [
            asyncio.ensure_future(self._up(reader, cam_writer)),
            asyncio.ensure_future(self._down(cam_reader, writer, pending)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            for sock in (writer, cam_writer):
                sock.transport.abort()
            self._pending.remove(pending)
            self.open_connections -= 1
            self._tasks.discard(task)

    async def _up(self, reader: asyncio.StreamReader, cam: asyncio.StreamWriter) -> None:
        async for unit in _units(reader):
            if unit.startswith(b"$"):
                self.frames_up.append((unit[1], unit[4:]))
            else:
                self.requests.append(_parse_request(unit))
            cam.write(unit)
            await cam.drain()

    async def _down(
        self, cam: asyncio.StreamReader, writer: asyncio.StreamWriter, pending: list[bytes]
    ) -> None:
        async for unit in _units(cam):
            out = unit
            if not unit.startswith(b"$"):
                if self.session_timeout is not None:
                    out = re.sub(
                        rb"(?im)^(session:\s*[^;\r\n]+)(;timeout=\d+)?",
                        rb"\1;timeout=" + str(self.session_timeout).encode(),
                        unit,
                    )
                self.answers.append(out)
            writer.write(out + b"".join(pending))
            pending.clear()
            await writer.drain()
