"""The RTSP door: reads a viewer's requests and admits only live share tokens.

Written here rather than taken from a library because the door must see every request and
every byte to count viewers and cut them at once, which no RTSP server library exposes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT_S: Final = 10.0  # a request must arrive whole within this
MAX_REQUESTS_BEFORE_PLAY: Final = 32
SERVER_NAME: Final = "rtcc_share"


@dataclass(slots=True)
class RtspRequest:
    """One parsed RTSP request."""

    method: str
    uri: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def cseq(self) -> str:
        """The CSeq to echo back (RFC 2326 requires it on every response)."""
        return self.headers.get("cseq", "0")

    @property
    def token(self) -> str:
        """The first path segment: the share token."""
        path = urlsplit(self.uri).path if "://" in self.uri else self.uri
        return path.lstrip("/").split("/", 1)[0]


class RtspProtocolError(Exception):
    """The client sent something that is not RTSP, or too much of it."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_request(reader: asyncio.StreamReader, max_header_bytes: int) -> RtspRequest | None:
    """Read one request head (and skip its body); None at a clean end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as err:
        if not err.partial.strip():
            return None
        raise RtspProtocolError(400, "Bad Request") from None
    except asyncio.LimitOverrunError:
        raise RtspProtocolError(431, "Request Header Fields Too Large") from None
    if len(head) > max_header_bytes:
        raise RtspProtocolError(431, "Request Header Fields Too Large")
    request = parse_head(head)
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > max_header_bytes:
        raise RtspProtocolError(413, "Request Entity Too Large")
    if int(length):
        await reader.readexactly(int(length))
    return request


def parse_head(head: bytes) -> RtspRequest:
    """Parse a request line and its headers (names lower-cased)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise RtspProtocolError(400, "Bad Request") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("RTSP/"):  # noqa: PLR2004
        raise RtspProtocolError(400, "Bad Request")
    request = RtspRequest(method=parts[0].upper(), uri=parts[1], version=parts[2])
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise RtspProtocolError(400, "Bad Request")
        request.headers[name.strip().lower()] = value.strip()
    return request


def response(status: int, reason: str, cseq: str, extra: dict[str, str] | None = None) -> bytes:
    """An RTSP response head with no body."""
    lines = [f"RTSP/1.0 {status} {reason}", f"CSeq: {cseq}", f"Server: {SERVER_NAME}"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# Given a token, the door asks whether it names a live share (None: unknown or expired, which
# look exactly alike to the caller).
type TokenLookup = Callable[[str], Awaitable[object | None]]


async def _no_shares(_token: str) -> object | None:
    return None


class RtspDoor:
    """The RTSP listener. Without a live share for a token it answers 404, like for any token."""

    def __init__(self, max_header_bytes: int, lookup: TokenLookup = _no_shares) -> None:
        self._max_header = max_header_bytes
        self._lookup = lookup
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None) -> tuple[str, int]:
        """Open the listener; returns the bound address."""
        self._server = await asyncio.start_server(
            self._accept, host, port, ssl=tls, limit=self._max_header, reuse_address=True
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
        assert task is not None  # noqa: S101 - always inside a task here
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, ssl.SSLError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(MAX_REQUESTS_BEFORE_PLAY):
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    request = await read_request(reader, self._max_header)
            except RtspProtocolError as err:
                writer.write(response(err.status, err.reason, "0"))
                await writer.drain()
                return
            if request is None:
                return
            writer.write(await self._answer(request))
            await writer.drain()

    async def _answer(self, request: RtspRequest) -> bytes:
        if request.method == "OPTIONS":
            return response(
                200, "OK", request.cseq, {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"}
            )
        if request.method not in ("DESCRIBE", "SETUP", "PLAY", "TEARDOWN"):
            return response(405, "Method Not Allowed", request.cseq)
        share = await self._lookup(request.token)
        if share is None:
            return response(404, "Not Found", request.cseq)
        return response(503, "Service Unavailable", request.cseq)
