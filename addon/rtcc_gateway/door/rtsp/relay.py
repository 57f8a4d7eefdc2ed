"""After PLAY: the door relays media down and keeps parsing what the viewer sends up.

Down, only interleaved frames on channels set up through the door pass (renumbered to the
channels the door gave the viewer); the upstream's answers to the door's own keep-alives stay
here. Up, the viewer's frames (RTCP receiver reports) are length-checked and dropped, and its
requests are held to the same rules as before PLAY and answered by the door; anything that is
not RTSP ends the connection as a door violation. The door keeps the upstream session alive
with keep-alives of its own, since the viewer's never reach it.

A camera that stops sending media ends the relay with `camera_lost`: at once when the upstream
closes (the direct backend), or after `no_media_s` without a media frame, since go2rtc keeps a
viewer whose camera died connected and silent (measured: 56 s of nothing, then its own timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from rtcc_gateway.door.rtsp.messages import Frame, Parser, Request, Response, RtspError
from rtcc_gateway.door.rtsp.rules import Answer, RefusedError, Teardown, Viewing, decide
from rtcc_gateway.door.rtsp.upstream import CameraError, UpstreamSession
from rtcc_gateway.door.viewers import CAMERA_LOST, NO_MEDIA_S, Viewer

CHUNK: Final = 64 * 1024

# Writes the door's answer (status, reason, CSeq, headers, why) to the viewer.
type Reply = Callable[[int, str, str, tuple[tuple[str, str], ...], str], None]
# Records a door violation: what happened, and what the door did ("refused" or "closed").
type Violation = Callable[[str, str], Awaitable[None]]


@dataclass(slots=True)
class Relay:
    """Both directions of one playing viewer, and the door's keep-alives upstream."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    parser: Parser
    viewing: Viewing
    upstream: UpstreamSession
    channels: dict[int, int]
    viewer: Viewer | None
    reply: Reply
    violation: Violation
    no_media_s: float = NO_MEDIA_S
    end_reason: str | None = None  # CAMERA_LOST when the relay ended for want of media

    async def run(self) -> None:
        """Relay until a side ends, the viewer tears down or breaks the rules, or media stops."""
        tasks = [asyncio.ensure_future(t()) for t in (self._down, self._up, self._keepalive)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(
                    asyncio.CancelledError, ConnectionError, TimeoutError, OSError, CameraError
                ):
                    await task

    async def _down(self) -> None:
        upstream = self.upstream
        loop = asyncio.get_running_loop()
        media_deadline = loop.time() + self.no_media_s
        while True:
            # Only media moves the deadline: answers to the door's keep-alives do not.
            try:
                async with asyncio.timeout_at(media_deadline):
                    data = await upstream.reader.read(CHUNK)
            except TimeoutError:
                self.end_reason = CAMERA_LOST
                return
            if not data:
                self.end_reason = CAMERA_LOST
                return
            upstream.parser.feed(data)
            out = _frames_for_viewer(upstream, self.channels)
            if out:
                media_deadline = loop.time() + self.no_media_s
                self.writer.write(out)
                if self.viewer is not None:
                    self.viewer.bytes_out += len(out)
                await self.writer.drain()

    async def _up(self) -> None:
        while True:
            try:
                event = self.parser.next_event()
            except RtspError as err:
                self.reply(err.status, err.reason, "0", (), err.why)
                await self.violation(err.why, "closed")
                return
            if event is None:
                data = await self.reader.read(CHUNK)
                if not data:
                    return
                self.parser.feed(data)
            elif isinstance(event, Request):
                ended = await _answer(event, self.viewing, self.reply, self.violation)
                await self.writer.drain()  # a viewer that asks without reading waits here
                if ended:
                    self.upstream.teardown()
                    return

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.upstream.keepalive_interval)
            self.upstream.keepalive()
            await self.upstream.writer.drain()


def _frames_for_viewer(upstream: UpstreamSession, channels: dict[int, int]) -> bytes:
    """The frames of what arrived so far that the viewer may have, as one write."""
    parts: list[bytes] = []
    while True:
        parts.append(upstream.parser.take_frames(channels))
        event = _next(upstream.parser)
        if event is None:
            break
        if isinstance(event, Response):
            upstream.note(event)
        # A request from the upstream (some servers send them) gets nothing from the viewer;
        # a frame here is a partial one completed, or one take_frames stopped before.
        elif isinstance(event, Frame) and (channel := channels.get(event.channel)) is not None:
            parts.append(Frame(channel, event.payload).encode())
    return b"".join(parts)


def _next(parser: Parser) -> Frame | Request | Response | None:
    try:
        return parser.next_event()
    except RtspError as err:
        raise CameraError("camera_answered_garbage", err.why) from None


async def _answer(request: Request, viewing: Viewing, reply: Reply, violation: Violation) -> bool:
    """Answer one request made while playing; True when the viewer tore down."""
    try:
        decision = decide(viewing, request)
    except RefusedError as err:
        reply(err.status, err.reason, request.cseq, err.headers, err.why)
        # The method is the viewer's word (a token, but of any length): the record keeps a bit.
        await violation(f"{request.method[:32]} refused with {err.status}: {err.why}", "refused")
        return False
    if isinstance(decision, Answer):
        reply(200, "OK", request.cseq, decision.headers, "")
        return False
    if isinstance(decision, Teardown):
        reply(200, "OK", request.cseq, (), "")
        return True
    # DESCRIBE, SETUP and a first PLAY are refused by the rules once playing.
    reply(
        455, "Method Not Valid in This State", request.cseq, (), "already playing"
    )  # pragma: no cover
    return False  # pragma: no cover
