"""Issue 9's attacks on the RTSP door, each against `direct` and the real go2rtc, each checking
what the viewer got (status, bytes on which channel) and what reached the camera (a recording
relay stands where the camera is: only the methods and paths the gateway itself writes arrive).

With go2rtc, the camera's client is go2rtc, not the door: go2rtc sets up every track of the camera
for itself and keeps its camera session for a minute after its last viewer. There the camera
checks are on what go2rtc was sent so far; with `direct` they wait until the door has closed its
camera connection, so everything the door ever wrote is in the record.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..gateway.conftest import Harness, HarnessFactory
from ..peers.recording_rtsp import RecordingRelay
from ..peers.rtsp_client import RtspAnswer, RtspConnection
from .conftest import DoorShare, door_share

TCP = "RTP/AVP/TCP;unicast;interleaved=0-1"
# Every header an answer of the door may carry: all written by the door itself.
DOOR_HEADERS = {
    "cseq",
    "server",
    "public",
    "allow",
    "content-base",
    "content-type",
    "content-length",
    "transport",
    "session",
    "rtp-info",
}
GATEWAY_METHODS = {"OPTIONS", "DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER", "TEARDOWN"}
GATEWAY_HEADERS = {"cseq", "user-agent", "accept", "authorization", "transport", "session", "range"}


def door_wrote(answer: RtspAnswer) -> RtspAnswer:
    assert answer.names <= DOOR_HEADERS, answer.head
    assert answer.header("Server") == "rtcc_share"
    return answer


async def camera_got_only_what_the_gateway_writes(
    camera: RecordingRelay, backend: str, *, audio: bool = False
) -> None:
    """Only the gateway's own methods, on the registered path and its tracks, with its own
    headers (and no media ever sent towards the camera by a viewer)."""
    paths = {"/stream1", "/stream1/", "/stream1/stream=0"}
    if audio or backend == "go2rtc":
        paths.add("/stream1/stream=1")  # go2rtc sets up every camera track for itself
    go2rtc = backend == "go2rtc"
    if not go2rtc:
        await camera.wait_idle()
    assert camera.requests, "the camera was asked for the stream"
    for seen in camera.requests:
        assert seen.method in GATEWAY_METHODS, seen
        assert seen.path in paths, seen
        assert not seen.body, seen
        assert "client_port" not in (seen.header("Transport") or ""), seen
        names = {k.lower() for k, _ in seen.headers}
        if go2rtc:  # go2rtc's own requests, among them its ONVIF back-channel probe
            assert names <= {*GATEWAY_HEADERS, "require"}, seen
            assert (seen.header("User-Agent") or "go2rtc/").startswith("go2rtc/"), seen
        else:
            assert names <= GATEWAY_HEADERS, seen
            assert seen.header("User-Agent") == "rtcc_share", seen
    if not go2rtc:
        assert camera.frames_up == [], "the door sends the camera no media of the viewer's"


async def closed_once_for(h: Harness, what: str) -> None:
    """The audit holds one door violation: a connection the door closed, for `what`."""
    [violation] = [r["detail"] for r in await h.audit("door_violation")]
    assert violation["action"] == "closed"
    assert what in violation["what"]


@pytest.fixture
async def shared(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera: RecordingRelay,
    backend: str,
) -> DoorShare:
    """The recording relay's camera shared through `backend`, auto-approved."""
    return await door_share(harness_factory, config_dict, camera.url, backend)


async def test_audio_cannot_be_set_up_before_or_beside_a_description(
    shared: DoorShare, camera: RecordingRelay, backend: str
) -> None:
    url = shared.url
    door, token = url.rsplit("/", 1)
    viewer = await RtspConnection.open(url)
    try:
        # Before any DESCRIBE on this connection, nothing can be set up, however it is named.
        for guess in ("stream=1", "trackID=1", "track0", "track1"):
            assert (
                door_wrote(await viewer.ask("SETUP", f"{url}/{guess}", Transport=TCP)).status == 404
            )
        assert (await viewer.ask("PLAY", f"{url}/", Session="guess")).status == 455
        # A DESCRIBE that failed publishes nothing either.
        assert (await viewer.ask("DESCRIBE", f"{door}/not-a-token")).status == 404
        assert (await viewer.ask("SETUP", f"{url}/stream=1", Transport=TCP)).status == 404
        assert (await viewer.ask("SETUP", f"{url}/track0", Transport=TCP)).status == 404
        assert camera.requests == [], "the door answered all of that without the camera"
        # After a served DESCRIBE: the published video, and nothing else.
        described = door_wrote(await viewer.ask("DESCRIBE", url))
        assert described.status == 200
        assert "m=audio" not in described.body.decode()
        for guess in ("stream=1", "trackID=1", "track1"):
            assert (await viewer.ask("SETUP", f"{url}/{guess}", Transport=TCP)).status == 404
        with_query = await viewer.ask("SETUP", f"/{token}/stream=1?x=1", Transport=TCP)
        assert with_query.status == 400
        assert b"query" in with_query.body
        setup = door_wrote(await viewer.ask("SETUP", f"{url}/track0", Transport=TCP))
        assert setup.status == 200
        session = (setup.header("Session") or "").split(";")[0]
        assert (await viewer.ask("PLAY", f"{url}/", Session=session)).status == 200
        await viewer.media_until(lambda: viewer.channels.get(0, 0) > 20_000)
        assert set(viewer.channels) <= {0, 1}, "video only, on the channels the door gave"
    finally:
        viewer.close()
    await camera_got_only_what_the_gateway_writes(camera, backend)
    if backend == "direct":
        assert [r.path for r in camera.seen("SETUP")] == ["/stream1/stream=0"]


@pytest.mark.parametrize(
    "transport",
    [
        "RTP/AVP;unicast;client_port=5000-5001;x=TCP-INTERLEAVED",  # the substring-test bypass
        "RTP/AVP;unicast;client_port=5000-5001",
        "RTP/AVP/UDP;unicast;client_port=5000-5001",
        "RTP/AVP/TCP;unicast;interleaved=0-1;client_port=5000-5001",
        "RTP/AVP/TCP;multicast;interleaved=0-1",
        "RTP/AVP/TCP;unicast;interleaved=0-1;destination=127.0.0.1",
        f"{TCP},RTP/AVP;unicast;client_port=5000-5001",
    ],
)
async def test_udp_is_461_whatever_it_is_dressed_as(
    shared: DoorShare, camera: RecordingRelay, backend: str, transport: str
) -> None:
    url = shared.url
    viewer = await RtspConnection.open(url)
    try:
        assert (await viewer.ask("DESCRIBE", url)).status == 200
        refused = door_wrote(await viewer.ask("SETUP", f"{url}/track0", Transport=transport))
        assert refused.status == 461
        # The door then still serves TCP, on channels of its choosing.
        setup = await viewer.ask(
            "SETUP", f"{url}/track0", Transport="RTP/AVP/TCP;unicast;interleaved=6-7"
        )
        assert setup.status == 200
        assert setup.header("Transport") == TCP
        session = (setup.header("Session") or "").split(";")[0]
        assert (await viewer.ask("PLAY", f"{url}/", Session=session)).status == 200
        await viewer.media_until(lambda: viewer.channels.get(0, 0) > 10_000)
        assert set(viewer.channels) <= {0, 1}
    finally:
        viewer.close()
    await camera_got_only_what_the_gateway_writes(camera, backend)
    if backend == "direct":
        assert [r.header("Transport") for r in camera.seen("SETUP")] == [TCP]


async def test_after_play_every_request_is_still_held_to_the_rules(
    shared: DoorShare, camera: RecordingRelay, backend: str
) -> None:
    h, url, _ = shared
    door = url.rsplit("/", 1)[0]
    viewer = await RtspConnection.open(url)
    try:
        await viewer.play_video(url)
        await viewer.media_until(lambda: viewer.channels.get(0, 0) > 10_000)
        refusals = [
            ("SET_PARAMETER", url, 405),
            ("RECORD", url, 405),
            ("PAUSE", f"{url}/", 405),
            ("DESCRIBE", f"{door}/another-token", 404),
            ("DESCRIBE", url, 455),
            ("SETUP", f"{url}/stream=1", 404),
            ("SETUP", f"{url}/track0", 455),
            ("PLAY", f"{url}/stream=1", 404),
        ]
        for method, uri, status in refusals:
            answer = door_wrote(
                await viewer.ask(method, uri, Transport=TCP, Session=viewer.session)
            )
            assert answer.status == status, (method, uri)
        viewer.send(
            f"ANNOUNCE {url} RTSP/1.0\r\nCSeq: 50\r\nContent-Type: application/sdp\r\n"
            "Content-Length: 10\r\n\r\nv=0\r\ns=x\r\n".encode()
        )
        announced = door_wrote(await viewer.answer())
        assert announced.status == 405
        assert (
            announced.header("Allow") == "OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"
        )
        # Keep-alives and OPTIONS are answered by the door itself.
        kept = door_wrote(await viewer.ask("GET_PARAMETER", f"{url}/", Session=viewer.session))
        assert kept.status == 200
        assert door_wrote(await viewer.ask("OPTIONS", "*")).status == 200
        flowing = viewer.channels[0]
        await viewer.media_until(lambda: viewer.channels[0] > flowing + 10_000)
        assert set(viewer.channels) <= {0, 1}
        # Anything that is not RTSP ends the connection.
        viewer.send(b"\x16\x03\x01 not rtsp \x00\r\n\r\n")
        assert (await viewer.answer()).status == 400
        await viewer.until_closed()
    finally:
        viewer.close()
    await camera_got_only_what_the_gateway_writes(camera, backend)
    if backend == "direct":
        assert len(camera.seen("DESCRIBE")) == 2, "the door's DESCRIBE, then with credentials"
    violations = [r["detail"] for r in await h.audit("door_violation")]
    assert [v["what"].split(" ")[0] for v in violations[:-1]] == [
        *(m for m, _, _ in refusals),
        "ANNOUNCE",
    ]
    assert all(v["action"] == "refused" for v in violations[:-1])
    assert violations[-1]["action"] == "closed"
    assert "request line" in violations[-1]["what"]
    assert {v["remote"] for v in violations} == {"127.0.0.1"}


@pytest.mark.parametrize(
    "case",
    [
        ("/../201", 400),
        ("/%2e%2e/201", 400),
        ("/%2E%2E%2F201", 400),
        ("/..%2f201", 400),
        ("/./../201", 400),
        ("/201", 404),
        ("/stream1/../../Streaming/Channels/201", 400),
    ],
)
async def test_paths_never_reach_the_camera(
    shared: DoorShare, camera: RecordingRelay, backend: str, case: tuple[str, int]
) -> None:
    suffix, status = case
    url = shared.url
    viewer = await RtspConnection.open(url)
    try:
        assert door_wrote(await viewer.ask("DESCRIBE", url + suffix)).status == status
        assert camera.requests == [], "refused before the door spoke to anyone"
        assert (await viewer.ask("DESCRIBE", url)).status == 200
    finally:
        viewer.close()
    await camera_got_only_what_the_gateway_writes(camera, backend)
    assert not any("201" in r.path or ".." in r.path for r in camera.requests)


@pytest.mark.parametrize("smuggled", [b"\r", b"\n"])
async def test_a_bare_cr_or_lf_in_a_header_is_400_and_echoes_nothing(
    shared: DoorShare, camera: RecordingRelay, backend: str, smuggled: bytes
) -> None:
    h, url, _ = shared
    before = await RtspConnection.open(url)
    try:
        before.send(b"OPTIONS * RTSP/1.0\r\nCSeq: 1" + smuggled + b"X-Injected: yes\r\n\r\n")
        refused = door_wrote(await before.answer())
        assert refused.status == 400
        assert b"X-Injected" not in refused.head + refused.body
        assert b"bare CR or LF" in refused.body
        await before.until_closed()
    finally:
        before.close()
    playing = await RtspConnection.open(url)
    try:
        await playing.play_video(url)
        playing.send(
            f"GET_PARAMETER {url}/ RTSP/1.0\r\nCSeq: 9".encode()
            + smuggled
            + f"X-Injected: yes\r\nSession: {playing.session}\r\n\r\n".encode()
        )
        refused = door_wrote(await playing.answer())
        assert refused.status == 400
        assert b"X-Injected" not in refused.head + refused.body
        await playing.until_closed()
    finally:
        playing.close()
    await closed_once_for(h, "bare CR or LF")
    await camera_got_only_what_the_gateway_writes(camera, backend)
    assert not any("x-injected" in {k.lower() for k, _ in r.headers} for r in camera.requests)


async def test_answers_and_the_description_carry_nothing_of_the_camera(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera: RecordingRelay,
    camera_url: str,
    backend: str,
) -> None:
    url = (
        await door_share(harness_factory, config_dict, camera.url, backend, share_audio=True)
    ).url
    viewer = await RtspConnection.open(url)
    try:
        assert door_wrote(await viewer.ask("OPTIONS", url)).status == 200
        described = door_wrote(await viewer.ask("DESCRIBE", url))
        assert described.header("Content-Base") == f"{url}/"
        sdp = described.body.decode()
        assert sdp.startswith(
            "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=rtcc_share\r\nc=IN IP4 0.0.0.0\r\n"
        )
        assert "a=control:track0" in sdp
        assert "a=control:track1" in sdp, "audio is shared here"
        session = ""
        for i, track in enumerate(("track0", "track1")):
            setup = door_wrote(
                await viewer.ask(
                    "SETUP",
                    f"{url}/{track}",
                    Transport=f"RTP/AVP/TCP;unicast;interleaved={2 * i}-{2 * i + 1}",
                    **({"Session": session} if session else {}),
                )
            )
            assert setup.status == 200
            session = (setup.header("Session") or "").split(";")[0]
        played = door_wrote(await viewer.ask("PLAY", f"{url}/", Session=session))
        assert played.status == 200
        info = played.header("RTP-Info")
        if info is not None:  # the GStreamer camera sends one; go2rtc does not
            assert [e.split(";")[0] for e in info.split(",")] == [
                f"url={url}/track0",
                f"url={url}/track1",
            ]
        await viewer.media_until(lambda: viewer.channels.get(2, 0) > 1000)
        assert set(viewer.channels) <= {0, 1, 2, 3}
        assert door_wrote(await viewer.ask("TEARDOWN", f"{url}/", Session=session)).status == 200
        await viewer.until_closed()
    finally:
        viewer.close()
    camera_port = camera_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    camera_sessions = {
        line.split(b":", 1)[1].split(b";")[0].strip()
        for answer in camera.answers
        for line in answer.split(b"\r\n")
        if line.lower().startswith(b"session:")
    }
    for answer in viewer.answers:
        wire = answer.head + answer.body
        for port in (camera.port, camera_port):
            assert f"127.0.0.1:{port}".encode() not in wire
            assert f":{port}/".encode() not in wire
        for leak in (b"stream1", b"GStreamer", b"go2rtc", b"viewer:", b"s3cret"):
            assert leak not in wire, (leak, wire)
        assert not any(s in wire for s in camera_sessions), "the camera's session id stays home"
        assert answer.header("WWW-Authenticate") is None
    await camera_got_only_what_the_gateway_writes(camera, backend, audio=True)
    if backend == "direct":
        assert camera.seen("TEARDOWN"), "the door ended its camera session itself"


async def test_viewer_frames_are_dropped_and_oversized_ones_close(
    shared: DoorShare, camera: RecordingRelay, backend: str
) -> None:
    h, url, _ = shared
    viewer = await RtspConnection.open(url)
    try:
        await viewer.play_video(url)
        viewer.send(b"$\x01\x00\x0cMARKER-RTCP!")  # an RTCP-sized frame: dropped quietly
        kept = await viewer.ask("GET_PARAMETER", f"{url}/", Session=viewer.session)
        assert kept.status == 200, "the frame was read and dropped; the connection lives on"
        assert (await viewer.ask("TEARDOWN", f"{url}/", Session=viewer.session)).status == 200
    finally:
        viewer.close()
    if backend == "direct":
        await camera.wait_for(lambda: bool(camera.seen("TEARDOWN")))
    assert not any(b"MARKER" in payload for _, payload in camera.frames_up)
    big = await RtspConnection.open(url)
    try:
        await big.play_video(url)
        big.send(b"$\x00\xff\xff" + b"x" * 0xFFFF)
        # The door answers 400 and closes; closing on what it left unread may reset the
        # connection before the viewer reads that answer, so the end is what is certain.
        left = await big.until_closed()
        assert left == b"" or left.startswith(b"RTSP/1.0 400"), left[:100]
    finally:
        big.close()
    await closed_once_for(h, "65535 bytes")
    await camera_got_only_what_the_gateway_writes(camera, backend)


# --- direct only: here the door itself is the camera's client ------------------------------


async def test_only_channels_set_up_through_the_door_reach_the_viewer(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: RecordingRelay
) -> None:
    """The camera (here the relay, on cue) sends frames on channels nobody set up: dropped.
    With go2rtc the camera's frames go to go2rtc, which sends the door only what it set up."""
    url = (await door_share(harness_factory, config_dict, camera.url, "direct")).url
    viewer = await RtspConnection.open(url)
    viewer.keep_payloads = True
    try:
        await viewer.play_video(url)
        await viewer.media_until(lambda: viewer.channels.get(0, 0) > 5_000)
        camera.inject_down(
            b"$\x02\x00\x09AUDIO-LIK", b"$\x05\x00\x04EVIL", b"$\x00\x00\x0bAFTER-THEM!"
        )
        await viewer.media_until(lambda: (0, b"AFTER-THEM!") in viewer.payloads)
    finally:
        viewer.close()
    assert set(viewer.channels) <= {0, 1}
    assert not any(b"EVIL" in p or b"AUDIO-LIK" in p for _, p in viewer.payloads)


async def test_the_door_keeps_the_camera_session_alive_itself(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: RecordingRelay
) -> None:
    """A camera that wants to hear from its client every 2 s gets the door's own keep-alives;
    the viewer's (and its RTCP) never reach it."""
    camera.session_timeout = 2
    url = (await door_share(harness_factory, config_dict, camera.url, "direct")).url
    viewer = await RtspConnection.open(url)
    try:
        await viewer.play_video(url)
        viewer.send(b"$\x01\x00\x08RTCP-RR!")
        viewer.send(
            f"GET_PARAMETER {url}/ RTSP/1.0\r\nCSeq: 20\r\nUser-Agent: city-player\r\n"
            f"Session: {viewer.session}\r\n\r\n".encode()
        )
        assert (await viewer.answer()).status == 200
        await camera.wait_for(lambda: len(camera.seen("GET_PARAMETER")) >= 2)
        flowing = viewer.channels.get(0, 0)
        await viewer.media_until(lambda: viewer.channels.get(0, 0) > flowing + 10_000)
    finally:
        viewer.close()
    [play] = camera.seen("PLAY")
    for keepalive in camera.seen("GET_PARAMETER"):
        assert keepalive.path == "/stream1/"
        assert keepalive.header("User-Agent") == "rtcc_share"
        assert keepalive.header("Session") == play.header("Session")
    await camera_got_only_what_the_gateway_writes(camera, "direct")
