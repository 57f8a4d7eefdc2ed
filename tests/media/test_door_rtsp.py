"""The RTSP door with real video: ffprobe/ffmpeg as the city's client, the synthetic camera
behind it, links that work only inside the window.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from ..conftest import Clock
from ..gateway.conftest import HarnessFactory
from ..peers.rtsp_client import RtspRefusedError, play
from .conftest import count_frames, door_harness, ffprobe_error, ffprobe_streams, share_link


async def test_ffprobe_reads_frames_through_the_door_without_audio(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    url, _ = await share_link(h)
    streams = await ffprobe_streams(url)
    assert streams == [{"codec_type": "video", "codec_name": "h264"}], "audio stays home"
    assert await count_frames(url, 10) == 10


async def test_audio_passes_only_when_the_owner_allows_it(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend, share_audio=True)
    url, _ = await share_link(h)
    kinds = sorted(s["codec_type"] for s in await ffprobe_streams(url))
    assert kinds == ["audio", "video"]


async def test_a_viewer_cannot_set_up_the_hidden_audio_track(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    url, _ = await share_link(h)
    viewer = await play(url)
    try:
        assert "m=audio" not in viewer.sdp
        assert len(viewer.tracks) == 1
    finally:
        viewer.close()
    # The camera's audio control, guessed from the camera's own numbering, is refused.
    reader, writer = await asyncio.open_connection("127.0.0.1", h.bound.rtsp[1])
    try:
        writer.write(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = int(head.lower().split("content-length:")[1].split("\r\n")[0])
        await reader.readexactly(length)
        writer.write(
            f"SETUP {url}/stream=1 RTSP/1.0\r\nCSeq: 2\r\n"
            "Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n".encode()
        )
        reply = (await reader.readuntil(b"\r\n\r\n")).decode()
    finally:
        writer.close()
    assert reply.startswith("RTSP/1.0 404")


async def test_window_end_cuts_the_viewer_and_refuses_new_ones(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    clock = Clock()
    config_dict["cameras"][0]["source"] = camera_url
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    h.gateway.shares._clock = clock  # the timer and the door read the same moved clock
    url, _ = await share_link(h, duration_s=60)
    viewer = await play(url)
    watcher = asyncio.create_task(viewer.read_until_end(timeout=15))
    await asyncio.sleep(1.0)
    assert viewer.bytes_in > 0, "video flows inside the window"
    assert not watcher.done()
    clock.advance(61)
    moved = time.monotonic()
    await h.gateway.shares.tick()
    ended = await watcher
    assert ended is not None, "the viewer got end-of-stream"
    assert ended - moved < 2.0, (
        "cut at once, not at some idle timeout (bench/door_cut.py measures it)"
    )
    assert "404" in await ffprobe_error(url)
    with_reason = [r["detail"]["reason"] for r in await h.audit("share_ended")]
    assert with_reason == ["window_ended"]


async def test_revoke_and_city_delete_cut_live_viewers(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    url, answer = await share_link(h)
    viewer = await play(url)
    watcher = asyncio.create_task(viewer.read_until_end(timeout=10))
    await asyncio.sleep(0.5)
    await h.owner.call("POST", f"/api/v1/shares/{answer['shares'][0]['share_id']}/revoke")
    assert await watcher is not None

    url2, answer2 = await share_link(h, incident_id="INC-2")
    viewer2 = await play(url2)
    watcher2 = asyncio.create_task(viewer2.read_until_end(timeout=10))
    await asyncio.sleep(0.5)
    deleted = await h.city.call("DELETE", f"/api/v1/requests/{answer2['request_id']}")
    assert deleted.status == 204
    assert await watcher2 is not None
    with pytest.raises(RtspRefusedError) as refused:
        await play(url2)
    assert refused.value.status == 404


async def test_five_concurrent_viewers_are_counted_and_audited(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    url, _ = await share_link(h)
    viewers = await asyncio.gather(*(play(url) for _ in range(5)))
    readers = [asyncio.create_task(v.read_until_end(timeout=30)) for v in viewers]
    await asyncio.sleep(1.5)
    state = (await h.owner.call("GET", "/api/v1/state")).body
    assert state["cameras"][0]["viewers"] == 5
    assert state["shares"][0]["viewers"] == 5
    assert all(v.bytes_in > 10_000 for v in viewers)
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
    assert all(d["detail"]["duration_s"] > 1 for d in disconnected)
    report = (await h.owner.call("GET", "/api/v1/transparency")).body["agencies"]
    jpd = next(a for a in report if a["agency"] == "jpd")
    assert jpd["viewers"] == 5
    assert jpd["minutes_viewed"] > 0.1


async def test_unknown_token_and_udp_setup(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    door = f"rtsp://127.0.0.1:{h.bound.rtsp[1]}"
    assert "404" in await ffprobe_error(f"{door}/not-a-token")
    url, _ = await share_link(h)
    reader, writer = await asyncio.open_connection("127.0.0.1", h.bound.rtsp[1])
    try:
        writer.write(
            f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 5\r\n"
            "Transport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n".encode()
        )
        reply = (await reader.readuntil(b"\r\n\r\n")).decode()
    finally:
        writer.close()
    assert reply.startswith("RTSP/1.0 461 Unsupported Transport\r\n")
    assert "CSeq: 5" in reply


async def test_stalled_and_garbage_clients_do_not_delay_viewers(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, backend)
    url, _ = await share_link(h)
    port = h.bound.rtsp[1]
    stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    for sock in stalled[:10]:
        sock.sendall(b"DESCRIBE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\n")  # never finished
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"\x16\x03\x01 not rtsp at all \x00\xff\r\n\r\n")
    try:
        started = time.monotonic()
        viewer = await play(url)
        took = time.monotonic() - started
        viewer.close()
        assert took < 5.0, "stalled clients (REQUEST_TIMEOUT_S = 10 s) did not hold up this viewer"
        garbage.settimeout(5)
        assert garbage.recv(100).startswith(b"RTSP/1.0 400")
    finally:
        for sock in [*stalled, garbage]:
            sock.close()


async def test_a_wrong_camera_password_is_a_503_not_a_leak(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, backend: str
) -> None:
    wrong = camera_url.replace(":s3cret-cam@", ":wrong@")
    h = await door_harness(harness_factory, config_dict, wrong, backend)
    url, _ = await share_link(h)
    err = await ffprobe_error(url)
    assert "503" in err
    assert "s3cret" not in err
    assert "wrong" not in err
