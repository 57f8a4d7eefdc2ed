"""A minimal RTSP/TCP client for tests and benchmarks: DESCRIBE, SETUP every track, PLAY, then
read interleaved packets. Precise about timing (no decoder in the way) and cheap on CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
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
