"""The HTTP door (MP4 and HLS) in front of the real go2rtc, with ffprobe as the city's player."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rtcc_gateway.door import http as http_door
from rtcc_gateway.restreamer.go2rtc import Go2rtcRestreamer

from ..conftest import Clock
from ..gateway.conftest import Harness, HarnessFactory
from ..peers.process import children, cmdline
from .conftest import CAMERA_PASSWORD, count_frames, door_harness, ffprobe_streams, share_link


async def http_links(h: Harness, **changes: Any) -> tuple[str, str, dict[str, Any]]:
    """A share's MP4 and HLS links at the door's real port, and the answer."""
    _, answer = await share_link(h, **changes)
    links = answer["shares"][0]["links"]
    door = f"http://127.0.0.1:{h.bound.public[1]}"
    mp4 = links["mp4"].replace("http://127.0.0.1:8443", door)
    hls = links["hls"].replace("http://127.0.0.1:8443", door)
    return mp4, hls, answer


async def read_to_end(resp: aiohttp.ClientResponse) -> int:
    """Read a streamed body until the server ends it; returns the bytes read."""
    received = 0
    async for chunk in resp.content.iter_chunked(65536):
        received += len(chunk)
    return received


async def playlist_url(session: aiohttp.ClientSession, hls: str) -> str:
    """The media playlist the master playlist names (opening an HLS session)."""
    async with session.get(hls) as master:
        assert master.status == 200, await master.text()
        entry = re.search(r"^(hls/playlist\.m3u8\?id=\S+)$", await master.text(), re.MULTILINE)
    assert entry is not None
    return hls.rsplit("/", 1)[0] + "/" + entry.group(1)


async def ffmpeg_children(h: Harness) -> list[list[str]]:
    """The command lines of go2rtc's ffmpeg children right now."""
    backend = h.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    assert backend.pid is not None
    lines = [cmdline(pid) for pid in children(backend.pid)]
    return [line for line in lines if line and Path(line[0]).name == "ffmpeg"]


@pytest.fixture
async def mp4_reader() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_mp4_and_hls_carry_video_only(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, "go2rtc")
    mp4, hls, answer = await http_links(h)
    assert set(answer["shares"][0]["links"]) == {"rtsp", "mp4", "hls"}
    assert [s["codec_type"] for s in await ffprobe_streams(mp4)] == ["video"]
    assert await count_frames(mp4, 5) == 5
    assert [s["codec_type"] for s in await ffprobe_streams(hls)] == ["video"]
    # Nothing transcodes for a share without audio: the whole MP4 consumer is set up (and ffmpeg
    # would have been started) before its first frame.
    assert await ffmpeg_children(h) == []
    backend = h.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    assert list((await backend.list_streams()).values()) == [[camera_url]]


async def test_audio_in_mp4_and_hls_only_when_the_owner_allows_it(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    # The camera sends G.711; go2rtc's MP4 and HLS carry AAC only, so the share transcodes.
    h = await door_harness(harness_factory, config_dict, camera_url, "go2rtc", share_audio=True)
    mp4, hls, _ = await http_links(h)
    expected = [
        {"codec_type": "audio", "codec_name": "aac"},
        {"codec_type": "video", "codec_name": "h264"},
    ]
    for url in (mp4, hls):
        streams = sorted(await ffprobe_streams(url), key=lambda s: str(s["codec_type"]))
        assert streams == expected, url


async def test_the_audio_transcoder_never_sees_the_camera_password(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera_url: str,
    mp4_reader: aiohttp.ClientSession,
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, "go2rtc", share_audio=True)
    mp4, _, _ = await http_links(h)
    token = mp4.split("/")[-2]
    async with mp4_reader.get(mp4) as resp:
        assert resp.status == 200
        await resp.content.readexactly(4096)  # go2rtc has set up the AAC consumer by now
        lines = await ffmpeg_children(h)
    assert len(lines) == 1, "one ffmpeg transcodes the share's audio"
    line = " ".join(lines[0])
    assert CAMERA_PASSWORD not in line
    assert camera_url.split("@", 1)[1] not in line, "ffmpeg reads go2rtc, not the camera"
    backend = h.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    assert f"rtsp://127.0.0.1:{backend.rtsp_address()[1]}/{token}?audio" in line
    assert "exec:" not in line  # the hardened config allows ffmpeg, and only ffmpeg, to run


async def test_window_end_cuts_mp4_and_refuses_hls(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    clock = Clock()
    h = await door_harness(partial(harness_factory, clock=clock), config_dict, camera_url, "go2rtc")
    mp4, hls, _ = await http_links(h, duration_s=60)
    async with aiohttp.ClientSession() as session:
        playlist = await playlist_url(session, hls)
        async with session.get(playlist) as inner:
            assert inner.status == 200
        async with session.get(mp4) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "video/mp4"
            state = (await h.owner.call("GET", "/api/v1/state")).body
            assert state["shares"][0]["viewers"] >= 1
            clock.advance(61)
            await h.gateway.shares.tick()  # the cut is done when the tick returns
            # go2rtc's DELETE leaves its sessions running (facts/go2rtc.md): only the door's cut
            # can end this stream, so its end at all is the proof. (bench/door_cut.py times it.)
            with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientConnectionError)):
                await asyncio.wait_for(read_to_end(resp), 60)
        for url in (mp4, hls, playlist):
            async with session.get(url) as after:
                assert after.status == 404
    # The MP4 handler records its viewer's end as it unwinds: wait for that record.
    async with asyncio.timeout(30):
        while len(disconnected := await h.audit("viewer_disconnected")) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert {d["detail"]["via"] for d in disconnected} == {"mp4", "hls"}


async def test_unknown_tokens_and_foreign_sessions_are_404(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, "go2rtc")
    _, hls, _ = await http_links(h)
    _, other_hls, _ = await http_links(h, incident_id="INC-2")
    door = f"http://127.0.0.1:{h.bound.public[1]}"
    async with aiohttp.ClientSession() as session:
        for path in ("/s/nope/stream.mp4", "/s/nope/index.m3u8", "/s/nope/hls/playlist.m3u8?id=x"):
            async with session.get(door + path) as resp:
                assert resp.status == 404
                assert resp.content_type == "application/problem+json"
        playlist = await playlist_url(session, hls)
        session_id = playlist.rsplit("id=", 1)[1]
        # A session of one share is not served under another share's token.
        foreign = other_hls.rsplit("/", 1)[0] + f"/hls/playlist.m3u8?id={session_id}"
        async with session.get(foreign) as resp:
            assert resp.status == 404
        async with session.get(playlist) as resp:
            assert resp.status == 200


async def test_a_hung_go2rtc_is_a_503_not_a_crash(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    camera_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_door, "FETCH_TIMEOUT", aiohttp.ClientTimeout(total=2))
    h = await door_harness(harness_factory, config_dict, camera_url, "go2rtc")
    _, hls, _ = await http_links(h)
    backend = h.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    assert backend.pid is not None
    os.kill(backend.pid, signal.SIGSTOP)
    try:
        async with aiohttp.ClientSession() as session, session.get(hls) as resp:
            assert resp.status == 503
            assert (await resp.json())["detail"] == "The stream is not available right now."
    finally:
        if backend.pid is not None:
            os.kill(backend.pid, signal.SIGCONT)
