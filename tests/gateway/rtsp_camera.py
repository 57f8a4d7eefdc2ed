"""A scripted RTSP camera on 127.0.0.1 for the door's connection and relay tests.

It answers DESCRIBE, SETUP and PLAY the way a camera does (interleaved TCP), then sends what the
test gives it; it keeps every request it got, so a test can wait for the one it expects. The
real cameras (tests/peers/camera_sim.py, go2rtc) are exercised by tests/media/.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from rtcc_gateway.door.rtsp.messages import Frame, Parser, Request, Response

SDP = (
    "v=0\r\no=- 1 1 IN IP4 192.168.1.20\r\ns=Living room camera\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
    "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=2\r\n"
)
SESSION = "CAMSESSION;timeout=2"  # a keep-alive every second (the door's least)


@dataclass
class Camera:
    """What the camera was asked, and a way to send media or hang up once it plays."""

    port: int = 0
    describe_status: int = 200
    requests: list[Request] = field(default_factory=list)
    frames: int = 0  # interleaved packets the camera got (a door passes none up)
    playing: asyncio.Event = field(default_factory=asyncio.Event)
    asked: asyncio.Condition = field(default_factory=asyncio.Condition)
    writer: asyncio.StreamWriter | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"

    def methods(self) -> list[str]:
        return [r.method for r in self.requests]

    async def wait_for(self, method: str, timeout: float = 20) -> Request:
        """The first request of `method` (the timeout only fails a broken run)."""
        async with asyncio.timeout(timeout), self.asked:
            await self.asked.wait_for(lambda: method in self.methods())
        return next(r for r in self.requests if r.method == method)

    def send(self, *frames: Frame) -> None:
        assert self.writer is not None
        self.writer.write(b"".join(f.encode() for f in frames))

    def hang_up(self) -> None:
        assert self.writer is not None
        self.writer.close()

    def _answer(self, request: Request) -> Response:
        cseq = ("CSeq", request.header("CSeq") or "0")
        if request.method == "DESCRIBE":
            if self.describe_status != 200:
                return Response(self.describe_status, "Refused", (cseq,))
            own = (cseq, ("Content-Type", "application/sdp"), ("X-Camera-Secret", "hunter2"))
            return Response(200, "OK", own, SDP.encode())
        if request.method == "SETUP":
            channel = 2 * sum(r.method == "SETUP" for r in self.requests) + 6
            transport = f"RTP/AVP/TCP;unicast;interleaved={channel - 2}-{channel - 1}"
            return Response(200, "OK", (cseq, ("Transport", transport), ("Session", SESSION)))
        if request.method == "PLAY":
            info = f"url={self.url}/trackID=1;seq=7;rtptime=99"
            return Response(200, "OK", (cseq, ("RTP-Info", info), ("Session", SESSION)))
        return Response(200, "OK", (cseq, ("Session", SESSION)))

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        parser = Parser("server", max_head=8190, max_body=4096, max_frame=4096)
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                parser.feed(data)
                while (event := parser.next_event()) is not None:
                    if isinstance(event, Frame):
                        self.frames += 1
                    if not isinstance(event, Request):
                        continue
                    writer.write(self._answer(event).encode())
                    await writer.drain()
                    async with self.asked:
                        self.requests.append(event)
                        self.asked.notify_all()
                    if event.method == "PLAY":
                        self.playing.set()
        writer.close()


@contextlib.asynccontextmanager
async def camera(describe_status: int = 200) -> AsyncIterator[Camera]:
    """A camera listening on a free loopback port until the block ends."""
    cam = Camera(describe_status=describe_status)
    server = await asyncio.start_server(cam.serve, "127.0.0.1", 0)
    cam.port = server.sockets[0].getsockname()[1]
    try:
        yield cam
    finally:
        server.close()
        if cam.writer is not None:
            cam.writer.transport.abort()
        await server.wait_closed()
