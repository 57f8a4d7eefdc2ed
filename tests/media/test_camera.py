"""The media peers work here: ffprobe and ffmpeg read the synthetic camera over RTSP/TCP."""

from __future__ import annotations

import asyncio

import pytest

from ..peers.camera import camera_available, run_camera
from .conftest import count_frames, ffprobe_error, ffprobe_streams

_reason = camera_available()
if _reason is not None:
    pytest.skip(_reason, allow_module_level=True)


async def test_ffprobe_reads_h264_frames_from_the_camera() -> None:
    with run_camera() as url:
        assert await ffprobe_streams(url) == [{"codec_type": "video", "codec_name": "h264"}]
        assert await count_frames(url, 10) == 10


async def test_camera_with_audio_serves_both_tracks_to_several_clients() -> None:
    with run_camera("--audio") as url:
        clients = [
            await asyncio.create_subprocess_exec(
                "ffmpeg",
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-i",
                url,
                "-frames:v",
                "15",
                "-f",
                "null",
                "-",
            )
            for _ in range(3)
        ]
        codes = await asyncio.wait_for(asyncio.gather(*(c.wait() for c in clients)), 60)
        kinds = sorted(s["codec_type"] for s in await ffprobe_streams(url))
    assert codes == [0, 0, 0]
    assert kinds == ["audio", "video"]


async def test_camera_refuses_a_wrong_password() -> None:
    with run_camera("--user", "viewer", "--password", "right") as url:
        good = url.replace("rtsp://", "rtsp://viewer:right@")
        bad = url.replace("rtsp://", "rtsp://viewer:wrong@")
        assert await count_frames(good, 3) == 3
        assert "401" in await ffprobe_error(bad)


async def test_back_to_back_visits_all_find_the_camera_ready(socket_enabled: None) -> None:
    """Thirty DESCRIBE-only visits in a row all answer 200: no 503 while a shared media winds
    down (the camera keeps a client of its own attached)."""
    with run_camera("--audio", "--user", "viewer", "--password", "pw") as url:
        host, port = url.removeprefix("rtsp://").split("/", 1)[0].split(":")
        statuses = []
        for cseq in range(30):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                f"DESCRIBE {url} RTSP/1.0\r\nCSeq: {cseq}\r\nAccept: application/sdp\r\n"
                "Authorization: Basic dmlld2VyOnB3\r\n\r\n".encode()
            )
            statuses.append((await asyncio.wait_for(reader.readline(), 30)).decode().strip())
            writer.close()
            await writer.wait_closed()
    assert statuses == ["RTSP/1.0 200 OK"] * 30
