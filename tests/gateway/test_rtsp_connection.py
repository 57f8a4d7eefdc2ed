"""One viewer's connection to the RTSP door: every answer is the door's own, a token admit refuses
is 404, a camera that cannot serve is a 503 and a record naming why, and after PLAY the camera's
media reaches the viewer on the viewer's channels until the camera goes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from rtcc_gateway.door.rtsp.connection import NO_SHARE, SERVER_NAME, Admission, Connection
from rtcc_gateway.door.rtsp.messages import Frame
from rtcc_gateway.door.rtsp.reports import Reports
from rtcc_gateway.restreamer.base import upstream_from_url

from ..peers.rtsp_client import RtspAnswer, RtspConnection
from .rtsp_camera import Camera, camera

pytestmark = pytest.mark.usefixtures("socket_enabled")

TOKEN = "tok_live_share_0123456789"


@dataclass
class Door:
    """A listener serving each connection with `Connection`, and what it was asked and wrote."""

    url: str = ""
    upstream_url: str = ""
    asked: list[str] = field(default_factory=list)
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def admit(self, token: str) -> Admission | None:
        self.asked.append(token)
        if token != TOKEN:
            return None
        upstream = upstream_from_url(self.upstream_url)
        return Admission(TOKEN, "shr_1", "req_1", "front_door", False, upstream=upstream)

    async def record(self, kind: str, detail: dict[str, Any]) -> None:
        self.records.append((kind, detail))

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reports = Reports(self.record)
        conn = Connection(
            reader, writer, max_head=8190, admit=self.admit, viewers=None, reports=reports
        )
        try:
            await conn.run()
        finally:
            self.ended.set()

    async def connect(self) -> RtspConnection:
        return await RtspConnection.open(self.url)

    async def ask(self, method: str, path: str, **headers: str) -> RtspAnswer:
        """One request on a connection of its own."""
        viewer = await self.connect()
        try:
            return await viewer.ask(method, f"{self.url}/{path}", 20, **headers)
        finally:
            viewer.close()


@pytest.fixture
async def cam() -> AsyncIterator[Camera]:
    async with camera() as made:
        yield made


@pytest.fixture
async def door(cam: Camera) -> AsyncIterator[Door]:
    made = Door(upstream_url=cam.url)
    server = await asyncio.start_server(made.serve, "127.0.0.1", 0)
    made.url = f"rtsp://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield made
    server.close()
    await server.wait_closed()


async def test_options_is_the_doors_own_answer_with_the_cseq_echoed(door: Door) -> None:
    answer = await door.ask("OPTIONS", TOKEN)
    assert answer.status == 200
    assert (answer.header("CSeq"), answer.header("Server")) == ("1", SERVER_NAME)
    assert "PLAY" in (answer.header("Public") or "")
    assert door.asked == []  # OPTIONS names no share


async def test_a_token_admit_refuses_is_404_saying_no_live_share(door: Door) -> None:
    answer = await door.ask("DESCRIBE", "tok_guess", Accept="application/sdp")
    assert answer.status == 404
    assert NO_SHARE in answer.body.decode()
    assert door.asked == ["tok_guess"]


async def test_describe_serves_the_doors_description_and_none_of_the_cameras_headers(
    door: Door, cam: Camera
) -> None:
    answer = await door.ask("DESCRIBE", TOKEN, Accept="application/sdp")
    assert answer.status == 200
    assert answer.header("Content-Base") == f"{door.url}/{TOKEN}/"
    sdp = answer.body.decode()
    assert "m=video" in sdp
    assert "m=audio" not in sdp  # the share does not share audio
    assert "Living room" not in sdp
    assert "192.168.1.20" not in sdp
    assert "x-camera-secret" not in answer.names
    assert (await cam.wait_for("DESCRIBE")).uri == cam.url


async def test_a_camera_that_refuses_is_a_503_and_a_record_naming_why(door: Door) -> None:
    async with camera(describe_status=404) as refusing:
        door.upstream_url = refusing.url
        viewer = await door.connect()
        try:
            answer = await viewer.ask("DESCRIBE", f"{door.url}/{TOKEN}", Accept="application/sdp")
            assert await viewer.until_closed() == b""
        finally:
            viewer.close()
    assert answer.status == 503
    ((kind, detail),) = door.records
    assert kind == "camera_unavailable"
    assert (detail["cause"], detail["through"]) == ("camera_stream_not_found", "camera")
    assert detail["share_id"] == "shr_1"


async def test_a_camera_that_does_not_answer_is_a_503_and_unreachable(door: Door) -> None:
    async with camera() as gone:
        door.upstream_url = gone.url
    answer = await door.ask("DESCRIBE", TOKEN, Accept="application/sdp")  # its port is closed
    assert answer.status == 503
    assert [d["cause"] for _, d in door.records] == ["camera_unreachable"]


async def test_junk_before_play_is_refused_and_the_connection_closed(door: Door) -> None:
    viewer = await door.connect()
    try:
        viewer.send(b"HELLO\x00 there\r\n\r\n")
        answer = await viewer.answer()
        assert await viewer.until_closed() == b""
    finally:
        viewer.close()
    assert answer.status == 400
    await asyncio.wait_for(door.ended.wait(), 20)


async def test_a_playing_viewer_gets_the_cameras_media_on_its_own_channels(
    door: Door, cam: Camera
) -> None:
    viewer = await door.connect()
    viewer.keep_payloads = True
    try:
        await viewer.play_video(f"{door.url}/{TOKEN}")
        played = viewer.answers[-1]
        assert viewer.session
        assert viewer.session != "CAMSESSION"  # the door's own session id
        assert played.header("RTP-Info") == f"url={door.url}/{TOKEN}/track0;seq=7;rtptime=99"
        setup = await cam.wait_for("SETUP")
        assert "interleaved=0-1" in (setup.header("Transport") or "")
        cam.send(Frame(4, b"video"), Frame(8, b"not set up"), Frame(5, b"rtcp"))
        await viewer.media_until(lambda: len(viewer.payloads) == 2)
        assert viewer.payloads == [(0, b"video"), (1, b"rtcp")]
        cam.hang_up()
        await viewer.until_closed()
    finally:
        viewer.close()
    await asyncio.wait_for(door.ended.wait(), 20)
    assert viewer.payloads == [(0, b"video"), (1, b"rtcp")]


async def test_teardown_before_play_is_answered_and_ends_the_connection(door: Door) -> None:
    viewer = await door.connect()
    try:
        answer = await viewer.ask("TEARDOWN", f"{door.url}/{TOKEN}")
        assert await viewer.until_closed() == b""
    finally:
        viewer.close()
    assert answer.status == 200
