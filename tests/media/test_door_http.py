"""The HTTP door (MP4 and HLS) in front of go2rtc (the double, or the real one when present)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest

from ..conftest import Clock
from ..gateway.conftest import Harness, HarnessFactory
from .conftest import count_frames, door_harness, ffprobe_streams, share_link


@pytest.fixture(params=["double", "go2rtc"])
def http_backend(request: pytest.FixtureRequest) -> str:
    """Only go2rtc backends serve MP4 and HLS."""
    from ..peers.go2rtc import go2rtc_binary  # noqa: PLC0415

    go2rtc_binary(str(request.param))
    return str(request.param)


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


async def test_mp4_and_hls_carry_video_only(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, http_backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, http_backend)
    mp4, hls, answer = await http_links(h)
    assert set(answer["shares"][0]["links"]) == {"rtsp", "mp4", "hls"}
    assert [s["codec_type"] for s in await ffprobe_streams(mp4)] == ["video"]
    assert await count_frames(mp4, 5) == 5
    assert [s["codec_type"] for s in await ffprobe_streams(hls)] == ["video"]


async def test_audio_in_mp4_only_when_the_owner_allows_it(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, http_backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, http_backend, share_audio=True)
    mp4, _, _ = await http_links(h)
    kinds = sorted(s["codec_type"] for s in await ffprobe_streams(mp4))
    assert kinds == ["audio", "video"]


async def test_window_end_cuts_mp4_and_refuses_hls(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, http_backend: str
) -> None:
    clock = Clock()
    h = await door_harness(harness_factory, config_dict, camera_url, http_backend)
    h.gateway.shares._clock = clock
    mp4, hls, _ = await http_links(h, duration_s=60)
    async with aiohttp.ClientSession() as session:
        async with session.get(hls) as master:
            assert master.status == 200
            playlist_url = re.search(
                r"^(hls/playlist\.m3u8\?id=\S+)$", await master.text(), re.MULTILINE
            )
        assert playlist_url is not None
        playlist = hls.rsplit("/", 1)[0] + "/" + playlist_url.group(1)
        async with session.get(playlist) as inner:
            assert inner.status == 200
        async with session.get(mp4) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "video/mp4"
            state = (await h.owner.call("GET", "/api/v1/state")).body
            assert state["shares"][0]["viewers"] >= 1
            clock.advance(61)
            moved = time.monotonic()
            cut = asyncio.create_task(h.gateway.shares.tick())
            with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientConnectionError)):
                await asyncio.wait_for(read_to_end(resp), 10)
            ended = time.monotonic() - moved
            await cut
        assert ended < 2.0, "cut at once, not at some idle timeout (bench/door_cut.py measures it)"
        for url in (mp4, hls, playlist):
            async with session.get(url) as after:
                assert after.status == 404
    # The MP4 handler records its viewer's end as it unwinds; give it a moment.
    async with asyncio.timeout(5):
        while len(disconnected := await h.audit("viewer_disconnected")) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert {d["detail"]["via"] for d in disconnected} == {"mp4", "hls"}


async def test_unknown_tokens_and_foreign_sessions_are_404(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str, http_backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, http_backend)
    _, hls, _ = await http_links(h)
    _, other_hls, _ = await http_links(h, incident_id="INC-2")
    door = f"http://127.0.0.1:{h.bound.public[1]}"
    async with aiohttp.ClientSession() as session:
        for path in ("/s/nope/stream.mp4", "/s/nope/index.m3u8", "/s/nope/hls/playlist.m3u8?id=x"):
            async with session.get(door + path) as resp:
                assert resp.status == 404
                assert resp.content_type == "application/problem+json"
        async with session.get(hls) as master:
            session_id = re.search(r"id=([\w-]+)", await master.text())
        assert session_id is not None
        # A session of one share is not served under another share's token.
        foreign = other_hls.rsplit("/", 1)[0] + f"/hls/playlist.m3u8?id={session_id.group(1)}"
        async with session.get(foreign) as resp:
            assert resp.status == 404
