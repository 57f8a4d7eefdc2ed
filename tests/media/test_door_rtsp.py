"""The RTSP door with real video: ffprobe/ffmpeg as the city's client, the synthetic camera
behind it, links that work only inside the window.
"""

from __future__ import annotations

import asyncio
import socket
from functools import partial
from typing import Any

import pytest

from ..conftest import Clock
from ..gateway.conftest import HarnessFactory
from ..peers.recording_rtsp import RecordingRelay
from ..peers.rtsp_client import RtspConnection, RtspRefusedError, play
from .conftest import (
    count_frames,
    door_harness,
    door_share,
    ffprobe_error,
    ffprobe_streams,
    share_link,
)

TCP = "RTP/AVP/TCP;unicast;interleaved=0-1"


async def test_ffprobe_reads_frames_through_the_door_without_audio(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    url = (await door_share(harness_factory, config_dict, camera_url, backend)).url
    streams = await ffprobe_streams(url)
    assert streams == [{"codec_type": "video", "codec_name": "h264"}], "audio stays home"
    assert await count_frames(url, 10) == 10


async def test_audio_passes_only_when_the_owner_allows_it(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    url = (
        await door_share(harness_factory, config_dict, camera_url, backend, share_audio=True)
    ).url
    kinds = sorted(s["codec_type"] for s in await ffprobe_streams(url))
    assert kinds == ["audio", "video"]


async def test_a_viewer_cannot_set_up_the_hidden_audio_track(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera: RecordingRelay,
    backend: str,
) -> None:
    url = (await door_share(harness_factory, config_dict, camera.url, backend)).url
    viewer = await play(url)
    try:
        assert "m=audio" not in viewer.sdp
        assert len(viewer.tracks) == 1
    finally:
        viewer.close()
    # The camera's audio control, guessed from the camera's own numbering or go2rtc's (which
    # picks the track by the number after the last "="), is refused: only what the door
    # published on this connection can be set up.
    attacker = await RtspConnection.open(url)
    try:
        assert (await attacker.ask("DESCRIBE", url)).status == 200
        for guess in ("stream=1", "trackID=1", "track1", "stream=0", "trackID=0"):
            refused = await attacker.ask("SETUP", f"{url}/{guess}", Transport=TCP)
            assert refused.status == 404, guess
    finally:
        attacker.close()
    if backend == "direct":
        # What the door wrote is all the camera got: never the audio track. (go2rtc sets up
        # every track of the camera for itself; what it serves the door is checked above.)
        await camera.wait_idle()
        setups = [r.path for r in camera.seen("SETUP")]
        assert setups == ["/stream1/stream=0"], "the first viewer's video, nothing else"


async def test_window_end_cuts_the_viewer_and_refuses_new_ones(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    clock = Clock()  # the timer, the door and the city API read the same moved clock
    h = await door_harness(partial(harness_factory, clock=clock), config_dict, camera_url, backend)
    url, _ = await share_link(h, duration_s=60)
    token = url.rsplit("/", 1)[1]
    viewer = await play(url)
    watcher = asyncio.create_task(viewer.read_until_end(timeout=30))
    await viewer.until(lambda: viewer.bytes_in > 0)  # video flows inside the window
    assert h.gateway.viewers.counts() == {token: 1}, "still watching before the window ends"
    clock.advance(61)
    await h.gateway.shares.tick()
    # The tick cuts at once (bench/door_cut.py measures how fast); an idle timeout would not
    # end it before the watcher gives up.
    assert await watcher is not None, "the viewer got end-of-stream"
    assert "404" in await ffprobe_error(url)
    with_reason = [r["detail"]["reason"] for r in await h.audit("share_ended")]
    assert with_reason == ["window_ended"]


async def test_revoke_and_city_delete_cut_live_viewers(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h, url, answer = await door_share(harness_factory, config_dict, camera_url, backend)
    viewer = await play(url)
    watcher = asyncio.create_task(viewer.read_until_end(timeout=30))
    await viewer.until(lambda: viewer.bytes_in > 0)  # watching: registered with the gateway
    await h.owner.call("POST", f"/api/v1/shares/{answer['shares'][0]['share_id']}/revoke")
    assert await watcher is not None

    url2, answer2 = await share_link(h, incident_id="INC-2")
    viewer2 = await play(url2)
    watcher2 = asyncio.create_task(viewer2.read_until_end(timeout=30))
    await viewer2.until(lambda: viewer2.bytes_in > 0)
    deleted = await h.city.call("DELETE", f"/api/v1/requests/{answer2['request_id']}")
    assert deleted.status == 204
    assert await watcher2 is not None
    with pytest.raises(RtspRefusedError) as refused:
        await play(url2)
    assert refused.value.status == 404


async def test_five_concurrent_viewers_are_counted_and_audited(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h, url, _ = await door_share(harness_factory, config_dict, camera_url, backend)
    viewers = await asyncio.gather(*(play(url) for _ in range(5)))
    readers = [asyncio.create_task(v.read_until_end(timeout=60)) for v in viewers]
    await asyncio.gather(*(v.until(lambda v=v: v.bytes_in > 10_000) for v in viewers))
    state = (await h.owner.call("GET", "/api/v1/state")).body
    assert state["cameras"][0]["viewers"] == 5
    assert state["shares"][0]["viewers"] == 5
    await h.owner.call("POST", "/api/v1/revoke")
    assert all(r is not None for r in await asyncio.gather(*readers))
    # Each viewer's end is recorded by its own task just after the cut: wait for the five.
    async with asyncio.timeout(5):
        while len(disconnected := await h.audit("viewer_disconnected")) < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    connected = await h.audit("viewer_connected")
    assert len(connected) == len(disconnected) == 5
    assert {d["detail"]["remote"] for d in disconnected} == {"127.0.0.1"}
    assert all(d["detail"]["bytes"] > 10_000 for d in disconnected)
    assert all(d["detail"]["duration_s"] > 0 for d in disconnected)
    report = (await h.owner.call("GET", "/api/v1/transparency")).body["agencies"]
    jpd = next(a for a in report if a["agency"] == "jpd")
    assert jpd["viewers"] == 5
    assert jpd["minutes_viewed"] > 0


async def test_unknown_token_and_udp_setup(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    door = f"rtsp://127.0.0.1:{h.bound.rtsp[1]}"
    assert "404" in await ffprobe_error(f"{door}/not-a-token")
    url, _ = await share_link(h)
    viewer = await RtspConnection.open(url)
    try:
        assert (await viewer.ask("DESCRIBE", url)).status == 200
        viewer.cseq = 4
        udp = await viewer.ask(
            "SETUP", f"{url}/track0", Transport="RTP/AVP;unicast;client_port=5000-5001"
        )
    finally:
        viewer.close()
    assert udp.status == 461
    assert udp.head.startswith(b"RTSP/1.0 461 Unsupported Transport\r\nCSeq: 5\r\n")
    assert b"RTP/AVP/TCP" in udp.body, "the refusal says what is served"


async def test_stalled_and_garbage_clients_do_not_delay_viewers(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h, url, _ = await door_share(harness_factory, config_dict, camera_url, backend)
    port = h.bound.rtsp[1]
    stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    for sock in stalled[:10]:
        sock.sendall(b"DESCRIBE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\n")  # never finished
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"\x16\x03\x01 not rtsp at all \x00\xff\r\n\r\n")
    try:
        viewer = await play(url)
        # The stalled clients are still connected, waiting out their request timeout: this
        # viewer did not queue behind them.
        for sock in stalled:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)  # nothing yet, and no end of stream either
        viewer.close()
        garbage.settimeout(20)
        assert garbage.recv(100).startswith(b"RTSP/1.0 400")
    finally:
        for sock in [*stalled, garbage]:
            sock.close()


async def test_a_wrong_camera_password_is_a_503_not_a_leak(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    wrong = camera_url.replace(":s3cret-cam@", ":wrong@")
    h, url, _ = await door_share(harness_factory, config_dict, wrong, backend)
    err = await ffprobe_error(url)
    assert "503" in err
    assert "s3cret" not in err
    assert "wrong" not in err
    # go2rtc answers such a DESCRIBE with 404; the door asks the camera itself why.
    [record] = await h.audit("camera_unavailable")
    assert record["detail"]["cause"] == "camera_refused_credentials"
    assert record["detail"]["camera_id"] == "front_door"
    assert record["detail"]["through"] == ("camera" if backend == "direct" else "restreamer")
    assert "wrong" not in str(record)
