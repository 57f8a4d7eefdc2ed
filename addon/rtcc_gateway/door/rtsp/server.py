"""The RTSP door: admits only live share tokens, relays each viewer to its upstream, and cuts.

Written here rather than taken from a library because the door must see every request and every
byte: it counts viewers, refuses UDP so all media passes through it, takes audio out of the
session description, authenticates to the camera itself, and closes connections the moment a
share ends. Unknown and expired tokens both get 404 and look alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urlsplit

from rtcc_gateway.door.sdp import filter_sdp
from rtcc_gateway.door.upstream_auth import UpstreamAuth, UpstreamAuthError
from rtcc_gateway.door.viewers import Viewer, ViewerRegistry
from rtcc_gateway.restreamer.base import Upstream

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT_S: Final = 10.0  # a request (or the camera's answer) must arrive whole within this
CONNECT_TIMEOUT_S: Final = 5.0
IDLE_TIMEOUT_S: Final = 60.0  # a relay with no bytes either way for this long is closed
MAX_REQUESTS_BEFORE_PLAY: Final = 32
MAX_BODY: Final = 64 * 1024
CHUNK: Final = 64 * 1024
SERVER_NAME: Final = "rtcc_share"
PUBLIC_METHODS: Final = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"


class RtspProtocolError(Exception):
    """The peer sent something that is not RTSP, or too much of it."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class RtspMessage:
    """One request or response: the first line, headers in order, and the body."""

    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def get(self, name: str, default: str = "") -> str:
        """The last value of a header (names compared without case)."""
        lower = name.lower()
        for key, value in reversed(self.headers):
            if key.lower() == lower:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of a header."""
        lower = name.lower()
        return [v for k, v in self.headers if k.lower() == lower]

    def set(self, name: str, value: str | None) -> None:
        """Replace (or with None, remove) a header."""
        lower = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lower]
        if value is not None:
            self.headers.append((name, value))

    @property
    def method(self) -> str:
        """A request's method."""
        return self.first_line.split(" ", 1)[0].upper()

    @property
    def uri(self) -> str:
        """A request's URI."""
        parts = self.first_line.split(" ")
        return parts[1] if len(parts) == 3 else ""  # noqa: PLR2004

    @property
    def status(self) -> int:
        """A response's status code (0 if unparsable)."""
        parts = self.first_line.split(" ", 2)
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0  # noqa: PLR2004

    @property
    def token(self) -> str:
        """A request's share token: the first path segment."""
        path = urlsplit(self.uri).path if "://" in self.uri else self.uri
        return unquote(path.lstrip("/").split("/", 1)[0])

    def encode(self) -> bytes:
        """Wire form, with Content-Length matching the body."""
        self.set("Content-Length", str(len(self.body)) if self.body else None)
        head = "\r\n".join([self.first_line, *(f"{k}: {v}" for k, v in self.headers)])
        return (head + "\r\n\r\n").encode() + self.body


async def read_message(
    reader: asyncio.StreamReader, max_header_bytes: int, *, request: bool, prefix: bytes = b""
) -> RtspMessage | None:
    """Read one message head and body; None at a clean end of stream."""
    try:
        head = prefix + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as err:
        if not err.partial.strip():
            return None
        raise RtspProtocolError(400, "Bad Request") from None
    except asyncio.LimitOverrunError:
        raise RtspProtocolError(431, "Request Header Fields Too Large") from None
    if len(head) > max_header_bytes:
        raise RtspProtocolError(431, "Request Header Fields Too Large")
    message = parse_head(head, request=request)
    length = message.get("Content-Length", "0")
    if not length.isdigit() or int(length) > MAX_BODY:
        raise RtspProtocolError(413, "Request Entity Too Large")
    if int(length):
        message.body = await reader.readexactly(int(length))
    return message


def parse_head(head: bytes, *, request: bool = True) -> RtspMessage:
    """Parse a first line and its headers."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise RtspProtocolError(400, "Bad Request") from None
    lines = text.rstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    valid = (
        len(parts) == 3 and parts[2].startswith("RTSP/")  # noqa: PLR2004
        if request
        else len(parts) >= 2 and parts[0].startswith("RTSP/")  # noqa: PLR2004
    )
    if not valid:
        raise RtspProtocolError(400, "Bad Request")
    message = RtspMessage(first_line=lines[0])
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise RtspProtocolError(400, "Bad Request")
        message.headers.append((name.strip(), value.strip()))
    return message


def response(status: int, reason: str, cseq: str, extra: dict[str, str] | None = None) -> bytes:
    """A response of the door's own, with no body."""
    message = RtspMessage(first_line=f"RTSP/1.0 {status} {reason}")
    message.headers = [("CSeq", cseq), ("Server", SERVER_NAME), *(extra or {}).items()]
    return message.encode()


@dataclass(frozen=True, slots=True)
class Admission:
    """A live share the door may serve, and where from."""

    token: str = field(repr=False)
    share_id: str
    request_id: str
    camera_id: str
    share_audio: bool
    upstream: Upstream


# Given a token, the door asks whether it names a live share (None: unknown or expired).
type Admit = Callable[[str], Awaitable[Admission | None]]


async def _admit_nothing(_token: str) -> Admission | None:
    return None


class _UpstreamSession:
    """The door's own RTSP session with the upstream for one viewer."""

    def __init__(
        self,
        admission: Admission,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_header: int,
    ) -> None:
        self.admission = admission
        self.reader = reader
        self.writer = writer
        self._max_header = max_header
        self._cseq = 0
        up = admission.upstream
        self._auth = UpstreamAuth(up.username, up.password or "") if up.username else None
        self.removed_controls: tuple[str, ...] = ()

    @classmethod
    async def open(cls, admission: Admission, max_header: int) -> _UpstreamSession:
        up = admission.upstream
        # Cameras on the owner's LAN nearly always have self-signed certificates; the link is
        # inside the home, so an rtsps:// camera gets encryption without certificate checks.
        context = None
        if up.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(
                up.host, up.port, ssl=context, limit=max_header
            )
        return cls(admission, reader, writer, max_header)

    def upstream_uri(self, client_uri: str) -> str:
        """The client's URI with its /TOKEN prefix replaced by the upstream base."""
        path = urlsplit(client_uri).path if "://" in client_uri else client_uri
        suffix = path.lstrip("/").split("/", 1)
        return self.admission.upstream.base + ("/" + suffix[1] if len(suffix) > 1 else "")

    async def exchange(self, request: RtspMessage, door_base: str) -> RtspMessage:
        """Send a viewer's request upstream, authenticating as needed.

        Returns the answer rewritten for the viewer.
        """
        uri = self.upstream_uri(request.uri)
        answer: RtspMessage | None = None
        for attempt in range(2):
            self._cseq += 1
            outgoing = RtspMessage(
                first_line=f"{request.method} {uri} RTSP/1.0",
                headers=[
                    (k, v)
                    for k, v in request.headers
                    if k.lower() not in ("cseq", "authorization", "content-length", "require")
                ],
                body=request.body,
            )
            outgoing.set("CSeq", str(self._cseq))
            if self._auth is not None and (auth := self._auth.header(request.method, uri)):
                outgoing.set("Authorization", auth)
            self.writer.write(outgoing.encode())
            await self.writer.drain()
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                first = await _skip_interleaved(self.reader)
                answer = await read_message(
                    self.reader, self._max_header, request=False, prefix=first
                )
            if answer is None:
                raise ConnectionError("the upstream closed the connection")
            challenges = answer.get_all("WWW-Authenticate")
            if answer.status == 401 and attempt == 0 and self._auth is not None and challenges:  # noqa: PLR2004
                self._auth.learn(challenges)
                continue
            break
        if answer is None:
            raise ConnectionError("no answer from the upstream")
        return self._rewrite(answer, request, door_base)

    def _rewrite(self, answer: RtspMessage, request: RtspMessage, door_base: str) -> RtspMessage:
        base = self.admission.upstream.base
        to_door = _upstream_url_pattern(base)
        answer.set("CSeq", request.get("CSeq", "0"))
        answer.set("WWW-Authenticate", None)
        answer.headers = [(k, to_door.sub(door_base, v)) for k, v in answer.headers]
        if request.method == "DESCRIBE" and answer.status == 200 and answer.body:  # noqa: PLR2004
            filtered = filter_sdp(
                answer.body.decode("utf-8", "replace"),
                keep_audio=self.admission.share_audio,
                to_door=lambda text: to_door.sub(door_base, text),
            )
            answer.body = filtered.text.encode()
            self.removed_controls = filtered.removed_controls
        if answer.status == 401:  # noqa: PLR2004 - the camera refused the owner's credentials
            answer.first_line = "RTSP/1.0 503 Service Unavailable"
            answer.body = b""
        return answer

    def is_removed_track(self, client_uri: str) -> bool:
        """Whether a SETUP names a track the door took out of the description."""
        path = urlsplit(client_uri).path if "://" in client_uri else client_uri
        tail = path.rstrip("/")
        return any(
            c and (tail.endswith("/" + c.rsplit("/", 1)[-1]) or tail == c)
            for c in self.removed_controls
        )

    def close(self) -> None:
        self.writer.transport.abort()


def _upstream_url_pattern(base: str) -> re.Pattern[str]:
    """Match the upstream's URL for this stream however the camera writes its host and port.

    Cameras echo their own form of the URL, not the one the door sent.
    """
    path = urlsplit(base).path.rstrip("/")
    return re.compile(r"rtsps?://[^/\s;,\"]+" + re.escape(path))


async def _skip_interleaved(reader: asyncio.StreamReader) -> bytes:
    """Drop interleaved media frames (`$`, channel, 16-bit length) ahead of an answer.

    Servers may send RTP/RTCP at any time once a track is set up. Returns the first byte of
    the answer, already read.
    """
    while (first := await reader.readexactly(1)) == b"$":
        header = await reader.readexactly(3)
        await reader.readexactly(int.from_bytes(header[1:3]))
    return first


def _door_base(request: RtspMessage) -> str:
    """The viewer's URL up to and including the token (what control URLs are relative to)."""
    uri = request.uri
    if "://" not in uri:
        return "/" + request.token
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}/{parts.path.lstrip('/').split('/', 1)[0]}"


class RtspDoor:
    """The RTSP listener."""

    def __init__(
        self,
        max_header_bytes: int,
        admit: Admit = _admit_nothing,
        viewers: ViewerRegistry | None = None,
    ) -> None:
        self._max_header = max_header_bytes
        self.admit = admit
        self.viewers = viewers
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

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
        upstream: _UpstreamSession | None = None
        try:
            upstream = await self._serve(reader, writer)
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            TimeoutError,
            ssl.SSLError,
            UpstreamAuthError,
            OSError,
        ):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            if upstream is not None:
                upstream.close()
            writer.transport.abort()

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> RtspMessage | None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                return await read_message(reader, self._max_header, request=True)
        except RtspProtocolError as err:
            writer.write(response(err.status, err.reason, "0"))
            await writer.drain()
            return None

    async def _answer_locally(
        self, request: RtspMessage, session: _UpstreamSession | None
    ) -> tuple[bytes | None, Admission | None]:
        """Answer here what must not reach the upstream.

        Returns the door's own answer, or else the admission to forward the request under.
        """
        cseq = request.get("CSeq", "0")
        if request.method == "OPTIONS":
            return response(200, "OK", cseq, {"Public": PUBLIC_METHODS}), None
        if request.method not in ("DESCRIBE", "SETUP", "PLAY", "TEARDOWN", "GET_PARAMETER"):
            return response(405, "Method Not Allowed", cseq, {"Allow": PUBLIC_METHODS}), None
        admission = await self.admit(request.token)
        if admission is None or (
            session is not None and admission.share_id != session.admission.share_id
        ):
            return response(404, "Not Found", cseq), None
        if request.method == "SETUP":
            transport = request.get("Transport").upper()
            if "TCP" not in transport or "INTERLEAVED" not in transport:
                # Every byte of media must pass the door, so no UDP.
                return response(461, "Unsupported Transport", cseq), None
            if session is not None and session.is_removed_track(request.uri):
                return response(404, "Not Found", cseq), None
        return None, admission

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _UpstreamSession | None:
        session: _UpstreamSession | None = None
        remote = str((writer.get_extra_info("peername") or ("unknown",))[0])
        for _ in range(MAX_REQUESTS_BEFORE_PLAY):
            request = await self._read(reader, writer)
            if request is None:
                return session
            local, admission = await self._answer_locally(request, session)
            if local is not None or admission is None:
                writer.write(local or b"")
                await writer.drain()
                continue
            if session is None:
                try:
                    session = await _UpstreamSession.open(admission, self._max_header)
                except (OSError, TimeoutError):
                    _LOGGER.warning("camera %s did not answer the door", admission.camera_id)
                    writer.write(response(503, "Service Unavailable", request.get("CSeq", "0")))
                    await writer.drain()
                    return None
            try:
                answer = await session.exchange(request, _door_base(request))
            except RtspProtocolError:
                _LOGGER.warning("camera %s answered the door with garbage", admission.camera_id)
                writer.write(response(503, "Service Unavailable", request.get("CSeq", "0")))
                await writer.drain()
                return session
            writer.write(answer.encode())
            await writer.drain()
            if request.method == "TEARDOWN":
                return session
            if request.method == "PLAY" and answer.status == 200:  # noqa: PLR2004
                await self._relay(reader, writer, session, remote)
                return session
        return session

    async def _relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        session: _UpstreamSession,
        remote: str,
    ) -> None:
        admission = session.admission

        def close() -> None:
            writer.transport.abort()
            session.close()

        viewer: Viewer | None = None
        if self.viewers is not None:
            viewer = self.viewers.connect(
                token=admission.token,
                share_id=admission.share_id,
                camera_id=admission.camera_id,
                request_id=admission.request_id,
                remote=remote,
                kind="rtsp",
                close=close,
            )
            if viewer is None:
                close()
                return
        try:
            await _pump_both(reader, writer, session.reader, session.writer, viewer)
        finally:
            close()
            if viewer is not None and self.viewers is not None:
                await self.viewers.disconnect(viewer)


async def _pump_both(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    viewer: Viewer | None,
) -> None:
    """Relay bytes both ways until either side ends or nothing moves for IDLE_TIMEOUT_S."""

    async def down() -> None:
        while True:
            async with asyncio.timeout(IDLE_TIMEOUT_S):
                chunk = await up_reader.read(CHUNK)
            if not chunk:
                return
            client_writer.write(chunk)
            if viewer is not None:
                viewer.bytes_out += len(chunk)
            await client_writer.drain()

    async def up() -> None:
        while True:
            chunk = await client_reader.read(CHUNK)
            if not chunk:
                return
            up_writer.write(chunk)
            await up_writer.drain()

    tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(
                asyncio.CancelledError, ConnectionError, TimeoutError, OSError
            ):
                await task
