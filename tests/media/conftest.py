"""Media fixtures: the synthetic camera (with audio and a password) and a gateway in front of it."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

import pytest
from rtcc_gateway.restreamer.direct import DirectRestreamer

from ..gateway.conftest import (
    Harness,
    HarnessFactory,
    harness_factory,  # noqa: F401 - the fixture, shared here
    incident,
    sharing_config,
)
from ..peers.camera import camera_or_skip
from ..peers.go2rtc import DOUBLE, go2rtc_binary
from ..peers.recording_rtsp import RecordingRelay

CAMERA_USER, CAMERA_PASSWORD = "viewer", "s3cret-cam"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/media/" in str(item.fspath):
            item.add_marker(pytest.mark.media)


@pytest.fixture(scope="module")
def camera_url() -> Iterator[str]:
    """An H.264 + G.711 camera behind Basic auth; the URL carries the credentials."""
    with camera_or_skip("--audio", "--user", CAMERA_USER, "--password", CAMERA_PASSWORD) as url:
        yield url.replace("rtsp://", f"rtsp://{CAMERA_USER}:{CAMERA_PASSWORD}@")


@pytest.fixture
async def camera(camera_url: str) -> AsyncIterator[RecordingRelay]:
    """The synthetic camera behind a relay that records every request it gets."""
    relay = RecordingRelay(camera_url)
    await relay.start()
    yield relay
    await relay.close()


@pytest.fixture(params=["direct", "go2rtc"])
def backend(request: pytest.FixtureRequest) -> str:
    """The restream backend behind the door: direct, or the real go2rtc (skipped with the reason
    when there is none). The go2rtc double serves garbage answers only; tests ask for it by name."""
    kind = str(request.param)
    if kind == "go2rtc":
        go2rtc_binary()
    return kind


async def door_harness(
    factory: HarnessFactory,
    config: dict[str, Any],
    camera_url: str,
    backend: str,
    **camera: Any,
) -> Harness:
    """A gateway sharing the camera (auto-approved) through `backend`: direct, go2rtc, or
    "double" (the go2rtc API double, for garbage answers)."""
    config["cameras"][0]["source"] = camera_url
    config["agencies"][0]["rate_limit_per_minute"] = 1000
    sharing_config(config, approval="auto", **camera)
    if backend == "direct":
        return await factory(config, restreamer=DirectRestreamer())
    config["restreamer"] = "go2rtc"
    config["go2rtc_bin"] = str(DOUBLE if backend == "double" else go2rtc_binary())
    h = await factory(config, restreamer=None)
    assert h.gateway.restreamer.name == "go2rtc"
    return h


async def share_link(h: Harness, **changes: Any) -> tuple[str, dict[str, Any]]:
    """Ask for a share; returns its RTSP link (at the door's real port) and the answer."""
    answer = await h.city.call("POST", "/api/v1/requests", incident(**changes))
    assert answer.status == 201, answer.body
    share = answer.body["shares"][0]
    token = share["links"]["rtsp"].rsplit("/", 1)[1]
    return f"rtsp://127.0.0.1:{h.bound.rtsp[1]}/{token}", answer.body


class DoorShare(NamedTuple):
    harness: Harness
    url: str  # the share's RTSP link at the door
    answer: dict[str, Any]  # the city API's answer to the request


async def door_share(
    factory: HarnessFactory, config: dict[str, Any], camera_url: str, backend: str, **camera: Any
) -> DoorShare:
    """A gateway sharing the camera through `backend` (see door_harness), and one share of it."""
    h = await door_harness(factory, config, camera_url, backend, **camera)
    url, answer = await share_link(h)
    return DoorShare(h, url, answer)


async def ffprobe(url: str, *args: str, timeout: float = 30) -> tuple[int, bytes, str]:
    """Run ffprobe over RTSP/TCP; returns its exit code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        "ffprobe",
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        *args,
        url,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out, err.decode()


async def ffprobe_streams(url: str, *args: str) -> list[dict[str, Any]]:
    """The kinds and codecs of a stream's tracks."""
    code, out, err = await ffprobe(
        url, *args, "-show_entries", "stream=codec_type,codec_name", "-of", "json"
    )
    if code != 0:
        raise AssertionError(f"ffprobe failed: {err}")
    streams: list[dict[str, Any]] = json.loads(out)["streams"]
    return streams


async def ffprobe_error(url: str, *args: str) -> str:
    """ffprobe's complaint about a URL that must not play."""
    code, _, err = await ffprobe(url, *args)
    assert code != 0
    return err


# The synthetic camera sends a keyframe every 15 frames; a reader that joins mid-GOP (go2rtc
# hands on what it has) gets up to 14 packets it cannot decode yet.
GOP_PACKETS = 15


async def count_frames(url: str, frames: int) -> int:
    """Decoded video frames read through `url`, up to `frames` (`frames` means: at least so many).

    Reads enough packets to cover two GOPs more than asked, so a reader that starts between
    keyframes still decodes `frames` of them.
    """
    code, out, err = await ffprobe(
        url,
        "-select_streams",
        "v:0",
        "-read_intervals",
        f"%+#{frames + 2 * GOP_PACKETS}",
        "-count_frames",
        "-show_entries",
        "stream=nb_read_frames",
        "-of",
        "csv=p=0",
        timeout=40,
    )
    assert code == 0, err
    read = out.decode().strip().split(",")[0]
    assert re.fullmatch(r"[0-9]+", read), f"ffprobe decoded no frame: {read!r} {err}"
    return min(int(read), frames)
