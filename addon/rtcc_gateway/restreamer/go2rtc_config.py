"""What go2rtc is given before it starts.

The binary and its version, the hardened config, and the sources and queries of a share's stream
(facts/go2rtc.md).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import yaml

from rtcc_gateway.restreamer.base import StreamSpec

MIN_VERSION: Final = (1, 9, 13)  # the oldest go2rtc-client 0.4.0 accepts; 1.9.12+ refuses exec:
MAX_VERSION: Final = (2, 0, 0)  # go2rtc-client 0.4.0 refuses 2.0 and newer
LOOPBACK: Final = "127.0.0.1"
# Exactly the MP4 and fMP4 HLS paths the HTTP door uses: /api/config, /api/restart, ... answer 404.
ALLOW_PATHS: Final = (
    "/api",
    "/api/streams",
    "/api/stream.mp4",
    "/api/stream.m3u8",
    "/api/hls/playlist.m3u8",
    "/api/hls/init.mp4",
    "/api/hls/segment.m4s",
)
# go2rtc's track filters (pkg/mp4 ParseQuery, pkg/core ParseQuery): without `mp4`, naming only
# `video` carries no audio, in MP4 and in fMP4 HLS alike; bare `mp4` is H.264/H.265 + AAC only.
VIDEO_ONLY_QUERY: Final = "video=h264,h265"
WITH_AUDIO_QUERY: Final = "mp4"
# A second source for shares with audio: ffmpeg reads the stream's own audio back from go2rtc's
# loopback RTSP (by stream name, so the camera's URL and password never reach ffmpeg's command
# line) and encodes AAC. go2rtc dials it only when a viewer asks for AAC and the camera has none.
AUDIO_TO_AAC: Final = "ffmpeg:{name}#audio=aac"
_STREAM_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")


class Go2rtcError(Exception):
    """go2rtc is missing, too old, did not start where it was told to, or refused a stream."""


def find_go2rtc(configured: Path | None) -> Path | None:
    """The binary to use: config `go2rtc_bin`, then $GO2RTC_BIN, then `go2rtc` on PATH."""
    if configured is not None:
        return configured
    env = os.environ.get("GO2RTC_BIN")
    if env:
        return Path(env)
    found = shutil.which("go2rtc")
    return Path(found) if found else None


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from `go2rtc version 1.9.14 (rev) linux/amd64`."""
    match = re.search(r"version\s+v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


async def probe_version(path: Path, timeout: float = 10) -> str:
    """Run `BIN -version`; the version, or Go2rtcError when it cannot run or is unsupported."""
    try:
        proc = await asyncio.create_subprocess_exec(
            str(path),
            "-version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as err:
        raise Go2rtcError(f"go2rtc: cannot run {path}: {err.strerror or err}") from None
    try:
        async with asyncio.timeout(timeout):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise Go2rtcError(f"go2rtc: {path} -version did not answer in {timeout:g} s") from None
    version = parse_version(out.decode(errors="replace"))
    if version is None:
        raise Go2rtcError(f"go2rtc: {path} -version printed no version")
    text = ".".join(map(str, version))
    if version < MIN_VERSION:
        raise Go2rtcError(
            f"go2rtc {text} is too old: 1.9.13 or newer is required "
            "(older versions run commands from exec: sources added through the API)"
        )
    if version >= MAX_VERSION:
        raise Go2rtcError(f"go2rtc {text} is not supported: go2rtc-client 0.4.0 needs < 2.0.0")
    return text


def hardened_config(*, api_port: int, rtsp_port: int, login: str, password: str) -> dict[str, Any]:
    """go2rtc's config: loopback only, API credentials even for loopback, only the stream paths.

    `exec` may run ffmpeg only (the audio transcoder); WebRTC and SRTP are off.
    """
    return {
        "api": {
            "listen": f"{LOOPBACK}:{api_port}",
            "username": login,
            "password": password,
            "local_auth": True,
            "allow_paths": list(ALLOW_PATHS),
        },
        "rtsp": {"listen": f"{LOOPBACK}:{rtsp_port}"},
        "exec": {"allow_paths": ["ffmpeg"]},
        "webrtc": {"listen": ""},
        "srtp": {"listen": ""},
    }


def write_config(path: Path, config: dict[str, Any]) -> None:
    """Write the config from scratch (nothing go2rtc wrote into the old one survives), mode 0600."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        yaml.safe_dump(config, file, sort_keys=False)


def stream_sources(spec: StreamSpec) -> list[str]:
    """go2rtc sources of a share's stream: the registry camera, and the AAC transcoder.

    The transcoder only when the owner shares audio (go2rtc's MP4 and HLS carry AAC only).
    """
    if not _STREAM_NAME.fullmatch(spec.token):
        raise Go2rtcError("go2rtc: a stream name must be URL-safe")  # tokens always are
    sources = [spec.source]
    if spec.share_audio:
        sources.append(AUDIO_TO_AAC.format(name=spec.token))
    return sources


def stream_query(token: str, share_audio: bool) -> str:
    """The query of a share's `/api/stream.mp4` and `/api/stream.m3u8`: video only unless audio.

    Either filter makes go2rtc serve fMP4 HLS, never MPEG-TS.
    """
    return f"src={quote(token, safe='')}&" + (WITH_AUDIO_QUERY if share_audio else VIDEO_ONLY_QUERY)
