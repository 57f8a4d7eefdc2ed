"""A minimal RTSP/TCP client for tests and benchmarks: DESCRIBE, SETUP every track, PLAY, then
read interleaved packets. Precise about timing (no decoder in the way) and cheap on CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RtspReply:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class RtspViewer:
    """A connected viewer after PLAY."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sdp: str
    bytes_in: int = 0
    packets: int = 0
    ended_at: float | None = None
    tracks: list[str] = field(default_factory=list)

    async def read_until_end(self, timeout: float) -> float | None:
        """Read media until the door closes the connection; the monotonic end time, or None."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    try:
                        chunk = await self.reader.read(65536)
                    except ConnectionError:
                        chunk = b""
                    if not chunk:
                        self.ended_at = time.monotonic()
                        return self.ended_at
                    self.bytes_in += len(chunk)
                    self.packets += chunk.count(b"$")
        return None

    async def until(self, check: Callable[[], bool], timeout: float = 20) -> None:
        """Wait until `check()` holds while `read_until_end` runs (the timeout only fails a
        broken run)."""
        async with asyncio.timeout(timeout):
            while not check():  # noqa: ASYNC110 - read_until_end updates the counters
                await asyncio.sleep(0.02)

    def close(self) -> None:
        self.writer.transport.abort()


async def request(  # noqa: PLR0917 - mirrors the wire: connection, method, URI, CSeq
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    uri: str,
    cseq: int,
    headers: dict[str, str] | None = None,
) -> RtspReply:
    lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {cseq}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    first, *rest = head.strip().split("\r\n")
    parsed = {}
    for line in rest:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    body = b""
    if int(parsed.get("content-length", "0")):
        body = await reader.readexactly(int(parsed["content-length"]))
    return RtspReply(int(first.split(" ")[1]), parsed, body.decode(errors="replace"))


async def play(url: str, *, timeout: float = 10) -> RtspViewer:
    """Connect through `url` (rtsp://host:port/TOKEN) and PLAY every track the SDP lists."""
    match = re.match(r"rtsp://([^:/]+):(\d+)(/.*)", url)
    assert match, url
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(match.group(1), int(match.group(2)))
        described = await request(reader, writer, "DESCRIBE", url, 1, {"Accept": "application/sdp"})
        if described.status != 200:
            writer.close()
            raise RtspRefusedError(described.status)
        base = described.headers.get("content-base", url + "/").rstrip("/")
        controls = re.findall(r"^a=control:(\S+)", described.body, flags=re.MULTILINE)
        tracks = [c for c in controls if c != "*"]
        session = ""
        for i, control in enumerate(tracks):
            track_url = control if "://" in control else f"{base}/{control}"
            headers = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={2 * i}-{2 * i + 1}"}
            if session:
                headers["Session"] = session
            setup = await request(reader, writer, "SETUP", track_url, 2 + i, headers)
            if setup.status != 200:
                writer.close()
                raise RtspRefusedError(setup.status)
            session = setup.headers.get("session", "").split(";")[0]
        played = await request(reader, writer, "PLAY", base + "/", 10, {"Session": session})
        if played.status != 200:
            writer.close()
            raise RtspRefusedError(played.status)
    return RtspViewer(reader, writer, described.body, tracks=tracks)


class RtspRefusedError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"RTSP {status}")
        self.status = status


@dataclass
class RtspAnswer:
    """One answer as the viewer saw it: status line, headers in order, body, and raw head."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None

    @property
    def names(self) -> set[str]:
        return {k.lower() for k, _ in self.headers}


@dataclass
class RtspConnection:
    """A raw RTSP connection for attacks: writes whatever bytes a test wants, reads answers and
    counts the interleaved bytes that arrive on each channel."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    channels: dict[int, int] = field(default_factory=dict)  # channel -> payload bytes
    payloads: list[tuple[int, bytes]] = field(default_factory=list)
    answers: list[RtspAnswer] = field(default_factory=list)
    cseq: int = 0
    session: str = ""
    _buf: bytes = b""
    keep_payloads: bool = False

    @classmethod
    async def open(cls, url: str) -> RtspConnection:
        match = re.match(r"rtsps?://([^:/]+):(\d+)", url)
        assert match, url
        reader, writer = await asyncio.open_connection(match.group(1), int(match.group(2)))
        return cls(reader, writer)

    def send(self, raw: bytes) -> None:
        self.writer.write(raw)

    async def ask(self, method: str, uri: str, timeout: float = 20, **headers: str) -> RtspAnswer:
        """Send a well-formed request (headers given as Transport="…", Session="…")."""
        self.cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}"]
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await self.answer(timeout)

    async def _more(self) -> bool:
        try:
            data = await self.reader.read(65536)
        except ConnectionError:
            data = b""
        self._buf += data
        return bool(data)

    def _frame(self) -> bool:
        """Take one whole frame off the buffer, if one is there."""
        buf = self._buf
        if len(buf) < 4 or buf[0:1] != b"$":
            return False
        end = 4 + int.from_bytes(buf[2:4])
        if len(buf) < end:
            return False
        self.channels[buf[1]] = self.channels.get(buf[1], 0) + end - 4
        if self.keep_payloads:
            self.payloads.append((buf[1], buf[4:end]))
        self._buf = buf[end:]
        return True

    async def answer(self, timeout: float = 20) -> RtspAnswer:
        """The next answer, counting the frames ahead of it."""
        async with asyncio.timeout(timeout):
            while True:
                while self._frame():
                    pass
                if not self._buf.startswith(b"$") and b"\r\n\r\n" in self._buf:
                    head, _, rest = self._buf.partition(b"\r\n\r\n")
                    first, *lines = head.decode("latin-1").split("\r\n")
                    headers = [
                        (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines)
                    ]
                    length = int(
                        next((v for k, v in headers if k.lower() == "content-length"), "0")
                    )
                    if len(rest) >= length:
                        self._buf = rest[length:]
                        answer = RtspAnswer(int(first.split(" ")[1]), headers, rest[:length], head)
                        self.answers.append(answer)
                        return answer
                if not await self._more():
                    raise ConnectionError(f"closed before an answer; left {self._buf[:200]!r}")

    async def media_until(self, check: Callable[[], bool], timeout: float = 20) -> None:
        """Read frames until `check()` holds (the timeout only fails a broken run)."""
        async with asyncio.timeout(timeout):
            while not check():
                while self._frame():
                    pass
                if check():
                    return
                if not await self._more():
                    raise ConnectionError("the door closed the connection")

    async def until_closed(self, timeout: float = 20) -> bytes:
        """Read until the door closes the connection; what arrived that was not a frame."""
        async with asyncio.timeout(timeout):
            while await self._more():
                while self._frame():
                    pass
        return self._buf

    async def play_video(self, url: str) -> RtspAnswer:
        """DESCRIBE, SETUP of the first published track, PLAY; returns the DESCRIBE answer."""
        described = await self.ask("DESCRIBE", url, Accept="application/sdp")
        assert described.status == 200, described
        base = described.header("Content-Base") or url + "/"
        control = re.findall(r"^a=control:(track\d+)", described.body.decode(), re.MULTILINE)[0]
        setup = await self.ask(
            "SETUP", base + control, Transport="RTP/AVP/TCP;unicast;interleaved=0-1"
        )
        assert setup.status == 200, setup
        self.session = (setup.header("Session") or "").split(";")[0]
        played = await self.ask("PLAY", base, Session=self.session)
        assert played.status == 200, played
        return described

    def close(self) -> None:
        self.writer.transport.abort()
