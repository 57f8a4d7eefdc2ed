"""go2rtc's configuration as the gateway writes it: streams fed only from the registry (plus the
AAC transcoder when audio is shared), video-only queries unless audio is, a private file written
from scratch, and the versions the gateway accepts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from rtcc_gateway.restreamer.base import StreamSpec
from rtcc_gateway.restreamer.go2rtc import Go2rtcError
from rtcc_gateway.restreamer.go2rtc_config import (
    LOOPBACK,
    hardened_config,
    parse_version,
    stream_query,
    stream_sources,
    write_config,
)

SOURCE = "rtsp://admin:pw@192.0.2.10/stream1"


def test_a_stream_is_its_registry_camera_and_only_with_audio_the_transcoder() -> None:
    assert stream_sources(StreamSpec(token="tok-1", source=SOURCE)) == [SOURCE]
    assert stream_sources(StreamSpec(token="tok-1", source=SOURCE, share_audio=True)) == [
        SOURCE,
        "ffmpeg:tok-1#audio=aac",
    ]


@pytest.mark.parametrize("token", ["", "a/b", "a#b", "a b", "x" * 129])
def test_a_stream_name_that_is_not_url_safe_is_refused(token: str) -> None:
    with pytest.raises(Go2rtcError, match="URL-safe"):
        stream_sources(StreamSpec(token=token, source=SOURCE))


def test_the_query_is_video_only_unless_audio_is_shared() -> None:
    assert stream_query("tok-1", share_audio=False) == "src=tok-1&video=h264,h265"
    assert stream_query("tok-1", share_audio=True) == "src=tok-1&mp4"


def test_every_listener_is_on_loopback_and_the_api_needs_the_login() -> None:
    config = hardened_config(api_port=1984, rtsp_port=8555, login="gw", password="pw-123")
    assert config["api"]["listen"] == f"{LOOPBACK}:1984"
    assert config["rtsp"]["listen"] == f"{LOOPBACK}:8555"
    assert (config["api"]["username"], config["api"]["password"]) == ("gw", "pw-123")
    assert config["exec"]["allow_paths"] == ["ffmpeg"]
    assert config["webrtc"]["listen"] == ""


def test_the_file_is_private_and_written_from_scratch(tmp_path: Path) -> None:
    path = tmp_path / "go2rtc.yaml"
    path.write_text("streams:\n  left_by_go2rtc: rtsp://elsewhere/x\n")
    path.chmod(0o644)
    config = hardened_config(api_port=1, rtsp_port=2, login="gw", password="pw")
    write_config(path, config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text()) == config, "nothing go2rtc wrote survives"


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("go2rtc version 1.9.14 (abc123) linux/amd64", (1, 9, 14)),
        ("version v2.0.1", (2, 0, 1)),
        ("go2rtc dev build", None),
    ],
)
def test_the_version_is_read_from_what_the_binary_prints(
    text: str, version: tuple[int, int, int] | None
) -> None:
    assert parse_version(text) == version
