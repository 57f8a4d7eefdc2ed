"""The media peers work here: ffprobe and ffmpeg read the synthetic camera over RTSP/TCP."""

from __future__ import annotations

import json
import subprocess

import pytest

from ..peers.camera import camera_available, run_camera

pytestmark = pytest.mark.media

_reason = camera_available()
if _reason is not None:
    pytest.skip(_reason, allow_module_level=True)


def probe(url: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-show_entries",
            "stream=codec_type,codec_name,width,height",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    streams: list[dict[str, object]] = json.loads(out.stdout)["streams"]
    return streams


def count_frames(url: str, frames: int = 10) -> int:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-select_streams",
            "v:0",
            "-read_intervals",
            f"%+#{frames}",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(out.stdout.strip().split(",")[0])


def test_ffprobe_reads_h264_frames_from_the_camera() -> None:
    with run_camera() as url:
        assert probe(url) == [
            {"codec_type": "video", "codec_name": "h264", "width": 640, "height": 360}
        ]
        assert count_frames(url) == 10


def test_camera_with_audio_serves_both_tracks_to_several_clients() -> None:
    with run_camera("--audio") as url:
        clients = [
            subprocess.Popen(
                [
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
                ],
            )
            for _ in range(3)
        ]
        codes = [c.wait(timeout=60) for c in clients]
        kinds = sorted(str(s["codec_type"]) for s in probe(url))
    assert codes == [0, 0, 0]
    assert kinds == ["audio", "video"]


def test_camera_refuses_a_wrong_password() -> None:
    with run_camera("--user", "viewer", "--password", "right") as url:
        good = url.replace("rtsp://", "rtsp://viewer:right@")
        bad = url.replace("rtsp://", "rtsp://viewer:wrong@")
        assert count_frames(good, 3) == 3
        result = subprocess.run(
            ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", bad],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode != 0
    assert "401" in result.stderr
