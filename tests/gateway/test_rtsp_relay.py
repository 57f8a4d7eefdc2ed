"""After PLAY: media goes down renumbered and only on set-up channels, the camera's answers to the
door's keep-alives stay with the door, the viewer's requests are answered by the door's rules and
its packets go nowhere, and a camera that hangs up or falls silent ends the relay as lost."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from rtcc_gateway.door.rtsp.messages import Frame, Parser, Request
from rtcc_gateway.door.rtsp.relay import Relay
from rtcc_gateway.door.rtsp.rules import Viewing
from rtcc_gateway.door.rtsp.upstream import UpstreamSession
from rtcc_gateway.door.viewers import CAMERA_LOST
from rtcc_gateway.restreamer.base import upstream_from_url

from .rtsp_camera import Camera, camera

pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass
class Playing:
    """A relay between a scripted camera and a viewer's end of a socket pair."""

    relay: Relay
    cam: Camera
    viewer_reader: asyncio.StreamReader
    viewer_writer: asyncio.StreamWriter
    replies: list[tuple[Any, ...]] = field(default_factory=list)
    violations: list[tuple[str, str]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def ask(self, method: str, uri: str = "rtsp://door/tok/", **headers: str) -> None:
        own = (("CSeq", "9"), *headers.items())
        self.viewer_writer.write(Request(method, uri, own).encode())

    async def ended(self) -> None:
        assert self.task is not None
        await asyncio.wait_for(self.task, 20)

    async def frames(self, count: int) -> list[Frame]:
        """The next `count` packets the viewer gets (anything else fails the parse)."""
        parser = Parser("client", max_head=8190, max_body=4096)
        got: list[Frame] = []
        async with asyncio.timeout(20):
            while len(got) < count:
                parser.feed(await self.viewer_reader.read(65536))
                while (event := parser.next_event()) is not None:
                    assert isinstance(event, Frame), event
                    got.append(event)
        return got


async def playing_relay(cam: Camera, no_media_s: float) -> Playing:
    session = await UpstreamSession.open(upstream_from_url(cam.url), 8190)
    await session.describe(keep_audio=False)
    upstream_channels = await session.setup(0, (0, 1))
    await session.play()
    door_side, viewer_side = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=door_side)
    viewer_reader, viewer_writer = await asyncio.open_connection(sock=viewer_side)
    viewing = Viewing(session_id="doorsession", token="tok", controls=("track0",))
    viewing.set_up(0, (0, 1))
    viewing.playing = True
    playing: Playing

    def reply(*answer: Any) -> None:  # (status, reason, CSeq, headers, why)
        playing.replies.append(answer)

    async def violation(what: str, action: str) -> None:
        playing.violations.append((what, action))

    relay = Relay(
        reader=reader,
        writer=writer,
        parser=Parser("server", max_head=8190, max_body=4096, max_frame=2048),
        viewing=viewing,
        upstream=session,
        channels=dict(zip(upstream_channels, (0, 1), strict=True)),
        viewer=None,
        reply=reply,
        violation=violation,
        no_media_s=no_media_s,
    )
    playing = Playing(relay, cam, viewer_reader, viewer_writer)
    playing.task = asyncio.create_task(relay.run())
    return playing


@pytest.fixture
async def play() -> AsyncIterator[Playing]:
    async with camera() as cam:
        playing = await playing_relay(cam, no_media_s=60)
        yield playing
        playing.viewer_writer.transport.abort()
        playing.relay.writer.transport.abort()
        playing.relay.upstream.close()
        await playing.ended()


async def test_media_goes_down_on_the_viewers_channels_and_nothing_else_does(
    play: Playing,
) -> None:
    play.cam.send(Frame(4, b"rtp-1"), Frame(7, b"unset"), Frame(5, b"sr"), Frame(4, b"rtp-2"))
    assert await play.frames(3) == [Frame(0, b"rtp-1"), Frame(1, b"sr"), Frame(0, b"rtp-2")]


async def test_the_cameras_answer_to_a_keepalive_stays_with_the_door(play: Playing) -> None:
    await play.cam.wait_for("GET_PARAMETER")  # the camera's session lasts 2 s
    play.cam.send(Frame(4, b"after"))
    assert await play.frames(1) == [Frame(0, b"after")]  # no answer came first
    assert play.relay.end_reason is None


async def test_a_teardown_is_answered_passed_up_and_ends_the_relay(play: Playing) -> None:
    play.viewer_writer.write(Frame(1, b"receiver report").encode())
    play.ask("TEARDOWN", Session="doorsession")
    await play.ended()
    await play.cam.wait_for("TEARDOWN")
    assert [r[:3] for r in play.replies] == [(200, "OK", "9")]
    assert play.relay.end_reason is None
    assert play.cam.frames == 0  # the viewer's report went nowhere


async def test_a_request_the_rules_refuse_is_answered_and_recorded_and_play_goes_on(
    play: Playing,
) -> None:
    play.ask("DESCRIBE", Accept="application/sdp")
    play.ask("GET_PARAMETER", Session="doorsession")
    play.ask("TEARDOWN", Session="doorsession")
    await play.ended()
    assert [r[0] for r in play.replies] == [455, 200, 200]
    assert ("Session", "doorsession;timeout=60") in play.replies[1][3]
    assert play.violations == [("DESCRIBE refused with 455: already set up", "refused")]
    assert "DESCRIBE" not in play.cam.methods()[1:]  # only the door's own, before PLAY


async def test_what_is_not_rtsp_from_the_viewer_ends_the_relay_as_a_violation(
    play: Playing,
) -> None:
    play.viewer_writer.write(b"\x00\x01 not rtsp at all\r\n\r\n")
    await play.ended()
    assert play.replies[0][0] == 400
    ((_, action),) = play.violations
    assert action == "closed"
    assert play.relay.end_reason is None


async def test_a_camera_that_hangs_up_ends_the_relay_as_lost(play: Playing) -> None:
    play.cam.hang_up()
    await play.ended()
    assert play.relay.end_reason == CAMERA_LOST


async def test_a_camera_that_falls_silent_ends_the_relay_as_lost() -> None:
    async with camera() as cam:
        playing = await playing_relay(cam, no_media_s=0.2)
        try:
            await playing.ended()
        finally:
            playing.viewer_writer.transport.abort()
            playing.relay.writer.transport.abort()
            playing.relay.upstream.close()
    assert playing.relay.end_reason == CAMERA_LOST
