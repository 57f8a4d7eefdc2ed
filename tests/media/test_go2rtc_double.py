"""The go2rtc double reproduces the measured go2rtc rows (shared/facts/go2rtc.md) with real media.

The synthetic camera feeds it; ffmpeg/ffprobe and a raw RTSP client read from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from ..peers.camera import camera_available, run_camera
from ..peers.go2rtc import DOUBLE, RunningDouble, go2rtc_binary, run_double
from ..peers.rtsp_client import play

pytestmark = pytest.mark.media

_reason = camera_available()
if _reason is not None:
    pytest.skip(_reason, allow_module_level=True)

VIDEO_ONLY = "video=h264,h265"  # what the go2rtc backend asks for (restreamer/go2rtc.py)


@pytest.fixture(params=["double", "real"])
def binary(request: pytest.FixtureRequest) -> Path:
    """The double, and the real go2rtc when GO2RTC_BIN names one: both must pass these."""
    return go2rtc_binary(str(request.param))


@pytest.fixture
def double(
    tmp_path: Path, camera_url: str, binary: Path, socket_enabled: None
) -> Iterator[RunningDouble]:
    """A double holding one stream, `cam`, fed by the password-protected camera with audio."""
    with run_double(tmp_path, {"cam": camera_url}, binary) as running:
        yield running


async def run(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, out.decode(), err.decode()


async def probe(url: str) -> dict[str, int]:
    """codec_type -> frames read in the first 40 packets."""
    code, out, err = await run(
        "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-read_intervals", "%+#40",
        "-count_frames", "-show_entries", "stream=codec_type,nb_read_frames", "-of", "json", url,
    )  # fmt: skip
    assert code == 0, err
    return {s["codec_type"]: int(s["nb_read_frames"]) for s in json.loads(out)["streams"]}


@contextlib.asynccontextmanager
async def ffmpeg_viewer(url: str) -> AsyncIterator[list[int]]:
    """ffmpeg decoding `url`; yields a one-item list that holds its frame count as it runs."""
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-map", "0:v",
        "-f", "null", "-", "-progress", "pipe:1", "-stats_period", "0.25",
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    frames = [0]
    started = asyncio.Event()

    async def follow() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            if line.startswith(b"frame="):
                frames[0] = int(line.split(b"=")[1])
                if frames[0]:
                    started.set()

    task = asyncio.get_running_loop().create_task(follow())
    try:
        async with asyncio.timeout(20):
            await started.wait()
        yield frames
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        await task


async def test_rtsp_relays_the_camera_and_unknown_names_are_404(double: RunningDouble) -> None:
    assert set(await probe(double.rtsp("cam"))) == {"video", "audio"}
    code, _, err = await run("ffprobe", "-v", "error", "-rtsp_transport", "tcp", double.rtsp("no"))
    assert code != 0
    assert "404" in err


async def test_delete_leaves_live_consumers_running_and_refuses_new_ones(
    double: RunningDouble, socket_enabled: None
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        ffmpeg_viewer(double.rtsp("cam")) as frames,
        http.get(f"{double.api}/api/stream.mp4", params={"src": "cam"}) as mp4,
    ):
        assert mp4.status == 200
        await mp4.content.readexactly(1024)
        async with http.delete(f"{double.api}/api/streams", params={"src": "cam"}) as deleted:
            assert deleted.status == 200
        at_delete = frames[0]
        await asyncio.sleep(3)
        assert frames[0] >= at_delete + 20  # 15 fps: still flowing after DELETE
        more = 0
        async with asyncio.timeout(5):
            while more < 4096:
                more += len(await mp4.content.read(4096))

        # New connections: RTSP 404, MP4 404; the stream left the list and the file.
        code, _, err = await run(
            "ffprobe", "-v", "error", "-rtsp_transport", "tcp", double.rtsp("cam")
        )
        assert code != 0
        assert "404" in err
        async with http.get(f"{double.api}/api/stream.mp4", params={"src": "cam"}) as again:
            assert again.status == 404
        async with http.get(f"{double.api}/api/streams") as listed:
            assert await listed.json() == {}
        assert "cam" not in (yaml.safe_load(double.config_path.read_text()).get("streams") or {})


async def test_a_dead_camera_stalls_the_consumer_without_closing_it(
    tmp_path: Path, binary: Path, socket_enabled: None
) -> None:
    with contextlib.ExitStack() as camera:
        url = camera.enter_context(run_camera())
        with run_double(tmp_path, {"cam": url}, binary) as running:
            viewer = await play(running.rtsp("cam"))
            try:
                async with asyncio.timeout(10):
                    while viewer.bytes_in < 10_000:
                        viewer.bytes_in += len(await viewer.reader.read(65536))
                camera.close()  # the camera process dies; the double keeps running
                assert await viewer.read_until_end(timeout=3) is None  # no end of stream
            finally:
                viewer.close()


async def test_put_writes_the_stream_into_the_config_file_and_refuses_insecure_sources(
    tmp_path: Path, binary: Path, socket_enabled: None
) -> None:
    source = "rtsp://u:p@127.0.0.1:9/cam"
    with run_double(tmp_path, None, binary) as running:
        async with aiohttp.ClientSession() as http:
            url = f"{running.api}/api/streams"
            async with http.put(url, params={"name": "x", "src": source}) as put:
                assert put.status == 200
                assert await put.read() == b""
            assert yaml.safe_load(running.config_path.read_text())["streams"] == {"x": source}
            async with http.get(url) as listed:
                assert (await listed.json())["x"]["producers"] == [{"url": source}]
            for bad in ("exec:ffmpeg -i x", "exec:id", "echo:rtsp://a", "expr:1+1"):
                async with http.put(url, params={"name": "y", "src": bad}) as refused:
                    assert refused.status == 400
                    text = await refused.text()
                    assert "insecure" in text
            async with http.put(url, params={"name": "y", "src": "rtsp://a/b c"}) as spaced:
                assert spaced.status == 400
                assert "source with spaces may be insecure" in await spaced.text()
            async with http.put(url, params={"name": "y", "src": "exec:id"}) as refused:
                assert await refused.text() == "streams: source from insecure producer\n"
            assert set(yaml.safe_load(running.config_path.read_text())["streams"]) == {"x"}


@pytest.mark.parametrize(
    ("path", "query", "kinds"),
    [
        ("stream.mp4", "", {"video", "audio"}),
        ("stream.mp4", VIDEO_ONLY, {"video"}),
        ("stream.m3u8", "mp4", {"video", "audio"}),
        ("stream.m3u8", VIDEO_ONLY, {"video"}),
    ],
)
async def test_mp4_and_hls_carry_frames_and_video_only_drops_audio(
    double: RunningDouble, binary: Path, path: str, query: str, kinds: set[str]
) -> None:
    url = f"{double.api}/api/{path}?src=cam" + (f"&{query}" if query else "")
    frames = await probe(url)
    if binary == DOUBLE or kinds == {"video"}:
        assert set(frames) == kinds
    # else: which G.711 audio the real one carries depends on the query (the double uses AAC).
    assert frames["video"] > 0


async def test_hls_playlists_use_relative_session_urls(
    double: RunningDouble, socket_enabled: None
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{double.api}/api/stream.m3u8?src=cam&{VIDEO_ONLY}") as master:
            lines = (await master.text()).splitlines()
        assert lines[-1].startswith("hls/playlist.m3u8?id=")
        sid = lines[-1].split("=", 1)[1]
        async with http.get(f"{double.api}/api/{lines[-1]}") as playlist:
            text = await playlist.text()
        assert f'URI="init.mp4?id={sid}"' in text
        assert f"segment.m4s?id={sid}&n=" in text
        async with http.get(f"{double.api}/api/hls/playlist.m3u8?id=unknown") as unknown:
            assert unknown.status == 404


async def test_digest_camera(tmp_path: Path, binary: Path, socket_enabled: None) -> None:
    with run_camera("--user", "u", "--password", "p", "--auth", "digest") as url:
        source = url.replace("rtsp://", "rtsp://u:p@")
        with run_double(tmp_path, {"cam": source}, binary) as running:
            assert (await probe(running.rtsp("cam")))["video"] > 0
