"""What the gateway relies on go2rtc for, and the API double held to it.

The first half pins down facts about the real go2rtc (shared/facts/go2rtc.md) with real media: the
synthetic camera feeds it; ffmpeg/ffprobe and a raw RTSP client read from it. The second half runs
every API call the gateway makes against the double and the real binary, each started by the
gateway's own Go2rtcServer with the gateway's hardened config, and fails on any difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from rtcc_gateway.restreamer.go2rtc_config import (
    VIDEO_ONLY_QUERY,
    WITH_AUDIO_QUERY,
    parse_version,
    probe_version,
)
from rtcc_gateway.restreamer.go2rtc_server import Go2rtcServer

from ..peers.camera import camera_available, run_camera
from ..peers.go2rtc import DOUBLE, RunningGo2rtc, go2rtc_binary, run_go2rtc
from ..peers.rtsp_client import play

pytestmark = pytest.mark.media

_reason = camera_available()
if _reason is not None:
    pytest.skip(_reason, allow_module_level=True)

SOURCE = "rtsp://u:p@127.0.0.1:9/cam"  # never connected to: no viewer asks


@pytest.fixture
def real(tmp_path: Path, camera_url: str, socket_enabled: None) -> Iterator[RunningGo2rtc]:
    """The real go2rtc holding one stream, `cam`, fed by the password-protected camera with audio."""
    with run_go2rtc(go2rtc_binary(), tmp_path, {"cam": camera_url}) as running:
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
async def ffmpeg_viewer(url: str) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    """ffmpeg decoding `url`; yields `frames(n)`, which waits until it has decoded n frames."""
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-map", "0:v",
        "-f", "null", "-", "-progress", "pipe:1", "-stats_period", "0.25",
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    decoded = [0]
    progress = asyncio.Condition()

    async def follow() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            if line.startswith(b"frame="):
                async with progress:
                    decoded[0] = int(line.split(b"=")[1])
                    progress.notify_all()

    async def frames(count: int) -> None:
        async with asyncio.timeout(60), progress:
            await progress.wait_for(lambda: decoded[0] >= count)

    task = asyncio.get_running_loop().create_task(follow())
    try:
        await frames(1)
        yield frames
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        await task


# --- facts about the real go2rtc -----------------------------------------------------------------


async def test_rtsp_relays_the_camera_and_unknown_names_are_404(real: RunningGo2rtc) -> None:
    assert set(await probe(real.rtsp("cam"))) == {"video", "audio"}
    code, _, err = await run("ffprobe", "-v", "error", "-rtsp_transport", "tcp", real.rtsp("no"))
    assert code != 0
    assert "404" in err


async def test_delete_leaves_live_consumers_running_and_refuses_new_ones(
    real: RunningGo2rtc,
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        ffmpeg_viewer(real.rtsp("cam")) as frames,
        http.get(f"{real.api}/api/stream.mp4", params={"src": "cam"}) as mp4,
    ):
        assert mp4.status == 200
        await mp4.content.readexactly(1024)
        async with http.delete(f"{real.api}/api/streams", params={"src": "cam"}) as deleted:
            assert deleted.status == 200
        # New connections: RTSP 404, MP4 404; the stream left the list and the file.
        code, _, err = await run(
            "ffprobe", "-v", "error", "-rtsp_transport", "tcp", real.rtsp("cam")
        )
        assert code != 0
        assert "404" in err
        async with http.get(f"{real.api}/api/stream.mp4", params={"src": "cam"}) as again:
            assert again.status == 404
        async with http.get(f"{real.api}/api/streams") as listed:
            assert await listed.json() == {}
        assert "cam" not in (yaml.safe_load(real.config_path.read_text()).get("streams") or {})
        # … while the sessions opened before the DELETE go on: 2 s more of video at 15 fps, and
        # more MP4 bytes (only a door that cuts them ends them).
        await frames(30)
        more = 0
        async with asyncio.timeout(30):
            while more < 4096:
                more += len(await mp4.content.read(4096))


async def test_a_dead_camera_stalls_the_consumer_without_closing_it(
    tmp_path: Path, socket_enabled: None
) -> None:
    with contextlib.ExitStack() as camera:
        url = camera.enter_context(run_camera())
        with run_go2rtc(go2rtc_binary(), tmp_path, {"cam": url}) as running:
            viewer = await play(running.rtsp("cam"))
            try:
                async with asyncio.timeout(10):
                    while viewer.bytes_in < 10_000:
                        viewer.bytes_in += len(await viewer.reader.read(65536))
                camera.close()  # the camera process dies; go2rtc keeps running
                assert await viewer.read_until_end(timeout=3) is None  # no end of stream
            finally:
                viewer.close()


async def test_put_writes_the_stream_into_the_config_file_and_refuses_insecure_sources(
    tmp_path: Path, socket_enabled: None
) -> None:
    with run_go2rtc(go2rtc_binary(), tmp_path) as running:
        async with aiohttp.ClientSession() as http:
            url = f"{running.api}/api/streams"
            async with http.put(url, params={"name": "x", "src": SOURCE}) as put:
                assert put.status == 200
                assert await put.read() == b""
            # go2rtc writes a source as a list, even a single one.
            assert yaml.safe_load(running.config_path.read_text())["streams"] == {"x": [SOURCE]}
            async with http.get(url) as listed:
                assert (await listed.json())["x"]["producers"] == [{"url": SOURCE}]
            for bad in ("exec:ffmpeg -i x", "exec:id", "echo:rtsp://a", "expr:1+1"):
                async with http.put(url, params={"name": "y", "src": bad}) as refused:
                    assert refused.status == 400
                    assert "insecure" in await refused.text()
            async with http.put(url, params={"name": "y", "src": "rtsp://a/b c"}) as spaced:
                assert spaced.status == 400
                assert await spaced.text() == "streams: source with spaces may be insecure\n"
            async with http.put(url, params={"name": "y", "src": "exec:id"}) as refused:
                assert await refused.text() == "streams: source from insecure producer\n"
            assert set(yaml.safe_load(running.config_path.read_text())["streams"]) == {"x"}


@pytest.mark.parametrize(
    ("path", "query", "transcoded", "kinds"),
    [
        ("stream.mp4", WITH_AUDIO_QUERY, False, {"video"}),
        ("stream.mp4", WITH_AUDIO_QUERY, True, {"video", "audio"}),
        ("stream.mp4", VIDEO_ONLY_QUERY, True, {"video"}),
        ("stream.m3u8", WITH_AUDIO_QUERY, False, {"video"}),
        ("stream.m3u8", WITH_AUDIO_QUERY, True, {"video", "audio"}),
        ("stream.m3u8", VIDEO_ONLY_QUERY, True, {"video"}),
    ],
)
async def test_bare_mp4_carries_aac_only_so_g711_needs_the_transcoder(  # noqa: PLR0917
    tmp_path: Path,
    camera_url: str,
    socket_enabled: None,
    path: str,
    query: str,
    transcoded: bool,
    kinds: set[str],
) -> None:
    sources = [camera_url, "ffmpeg:cam#audio=aac"] if transcoded else [camera_url]
    with run_go2rtc(go2rtc_binary(), tmp_path, {"cam": sources}) as running:
        frames = await probe(f"{running.api}/api/{path}?src=cam&{query}")
    assert set(frames) == kinds
    assert frames["video"] > 0


async def test_hls_playlists_use_relative_session_urls(real: RunningGo2rtc) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{real.api}/api/stream.m3u8?src=cam&{VIDEO_ONLY_QUERY}") as master:
            lines = (await master.text()).splitlines()
        assert lines[-1].startswith("hls/playlist.m3u8?id=")
        sid = lines[-1].split("=", 1)[1]
        async with http.get(f"{real.api}/api/{lines[-1]}") as playlist:
            text = await playlist.text()
        assert f'URI="init.mp4?id={sid}"' in text
        assert f"segment.m4s?id={sid}&n=" in text
        assert "segment.ts" not in text
        async with http.get(f"{real.api}/api/hls/playlist.m3u8?id=unknown") as unknown:
            assert unknown.status == 404


async def test_digest_camera(tmp_path: Path, socket_enabled: None) -> None:
    with run_camera("--user", "u", "--password", "p", "--auth", "digest") as url:
        source = url.replace("rtsp://", "rtsp://u:p@")
        with run_go2rtc(go2rtc_binary(), tmp_path, {"cam": source}) as running:
            assert (await probe(running.rtsp("cam")))["video"] > 0


# --- the double answers every API call the gateway makes as the real go2rtc does -----------------

type Observation = Any
type Scenario = Callable[[Go2rtcServer], Awaitable[Observation]]


async def answer(
    server: Go2rtcServer, method: str, path: str, params: Any = None, *, auth: str | None = None
) -> tuple[int, str]:
    """Status and body of one API call (with the gateway's credentials unless `auth` is given)."""
    headers = {"Authorization": server.authorization() if auth is None else auth}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, server.http_base() + path, params=params, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def file_streams(server: Go2rtcServer) -> dict[str, Any]:
    return yaml.safe_load(server.config_path.read_text()).get("streams") or {}


async def listed(server: Go2rtcServer) -> dict[str, list[str]]:
    """What the gateway reads: go2rtc-client's decoding of GET /api/streams."""
    streams = await server.client.streams.list()
    return {name: [p.url for p in stream.producers] for name, stream in streams.items()}


async def auth_and_version(server: Go2rtcServer) -> Observation:
    no_auth = await answer(server, "GET", "/api", auth="")
    wrong = await answer(server, "GET", "/api", auth=aiohttp.encode_basic_auth("u", "wrong"))
    return no_auth, wrong, str(await server.client.validate_server_version())


async def hidden_paths(server: Go2rtcServer) -> Observation:
    return [
        await answer(server, method, path)
        for method, path in (
            ("GET", "/api/config"),
            ("POST", "/api/restart"),
            ("GET", "/api/ffmpeg"),
            ("GET", "/api/webrtc"),
            ("GET", "/api/ws"),
            ("GET", "/api/frame.jpeg"),
            ("GET", "/api/hls/segment.ts"),
            ("GET", "/onvif/device_service"),
            ("GET", "/"),
        )
    ]


async def add_list_and_file(server: Go2rtcServer) -> Observation:
    await server.client.streams.add(name="plain", sources=SOURCE)
    await server.client.streams.add(name="audio", sources=[SOURCE, "ffmpeg:audio#audio=aac"])
    await server.client.streams.add(name="plain", sources=[SOURCE, "rtsp://127.0.0.1:9/other"])
    status = await answer(server, "PUT", "/api/streams", [("name", "x"), ("src", SOURCE)])
    one = await answer(server, "GET", "/api/streams", {"src": "x"})
    return status, json.loads(one[1]), await listed(server), file_streams(server)


async def refusals(server: Go2rtcServer) -> Observation:
    bad = ("exec:id", "echo:rtsp://a", "expr:1+1", "rtsp://a/b c", "rtsp://a/b\tc", "bogus://a")
    return [
        await answer(server, "PUT", "/api/streams", {"name": "y", "src": src}) for src in bad
    ], await listed(server)


async def delete(server: Go2rtcServer) -> Observation:
    await server.client.streams.add(name="gone", sources=SOURCE)
    await server.client.streams.add(name="kept", sources=SOURCE)
    deleted = await answer(server, "DELETE", "/api/streams", {"src": "gone"})
    unknown = await answer(server, "DELETE", "/api/streams", {"src": "never-there"})
    missing = await answer(server, "GET", "/api/streams", {"src": "gone"})
    return deleted, unknown, missing, await listed(server), file_streams(server)


async def unknown_media(server: Go2rtcServer) -> Observation:
    return [
        await answer(server, "GET", path, params)
        for path, params in (
            ("/api/stream.mp4", {"src": "nope"}),
            ("/api/stream.m3u8", {"src": "nope", "mp4": ""}),
            ("/api/hls/playlist.m3u8", {"id": "nope"}),
            ("/api/hls/init.mp4", {"id": "nope"}),
            ("/api/hls/segment.m4s", {"id": "nope", "n": "1"}),
        )
    ]


async def rtsp_unknown(server: Go2rtcServer) -> Observation:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.rtsp_port)
    base = f"rtsp://127.0.0.1:{server.rtsp_port}"
    try:
        statuses = []
        for method, name in (("OPTIONS", "nope"), ("DESCRIBE", "nope")):
            writer.write(f"{method} {base}/{name} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            async with asyncio.timeout(10):
                statuses.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0].decode())
        return statuses
    finally:
        writer.close()


SCENARIOS: dict[str, Scenario] = {
    "auth_and_version": auth_and_version,
    "hidden_paths": hidden_paths,
    "add_list_and_file": add_list_and_file,
    "refusals": refusals,
    "delete": delete,
    "unknown_media": unknown_media,
    "rtsp_unknown": rtsp_unknown,
}


async def observe(binary: Path, folder: Path, scenario: Scenario) -> Observation:
    folder.mkdir()  # noqa: ASYNC240 - before the child starts
    server = Go2rtcServer(binary, folder / "go2rtc.yaml")
    await server.start(timeout=15)
    try:
        return await scenario(server)
    finally:
        await server.end(timeout=5)


@pytest.mark.parametrize("name", SCENARIOS)
async def test_the_double_answers_the_gateways_api_calls_as_go2rtc_does(
    tmp_path: Path, socket_enabled: None, name: str
) -> None:
    real = await observe(go2rtc_binary(), tmp_path / "real", SCENARIOS[name])
    double = await observe(DOUBLE, tmp_path / "double", SCENARIOS[name])
    assert double == real


async def test_the_double_reports_the_version_go2rtc_does() -> None:
    assert await probe_version(DOUBLE) == await probe_version(go2rtc_binary())
    assert parse_version("go2rtc version 1.9.14 (abc1234) linux/amd64") == (1, 9, 14)
