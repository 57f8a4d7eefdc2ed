"""Dependencies failing under a live share: the camera dies and comes back, on both backends.

Covered elsewhere, not repeated here: go2rtc killed -9 and hung (tests/gateway/
test_go2rtc_backend.py), a corrupt database at start (tests/gateway/test_persistence.py), the
owner lease running out (tests/gateway/test_owner_api.py, test_policy.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from ..gateway.conftest import Harness, HarnessFactory
from ..peers.camera import camera_available, run_camera
from ..peers.rtsp_client import RtspRefusedError, RtspViewer, play
from .conftest import CAMERA_PASSWORD, CAMERA_USER, door_harness, share_link

NO_MEDIA_S = 1.0  # the door's "camera lost" delay, shortened from 10 s for the test


class Camera:
    """The synthetic camera on a port of its own, which the test can kill and start again."""

    def __init__(self) -> None:
        self._stack: contextlib.ExitStack | None = None
        self.port = 0
        self.url = ""

    def start(self) -> None:
        stack = contextlib.ExitStack()
        args = ["--user", CAMERA_USER, "--password", CAMERA_PASSWORD, "--port", str(self.port)]
        url = stack.enter_context(run_camera(*args))
        self._stack = stack
        self.port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        self.url = url.replace("rtsp://", f"rtsp://{CAMERA_USER}:{CAMERA_PASSWORD}@")

    def kill(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


@pytest.fixture
def camera() -> Iterator[Camera]:
    reason = camera_available()
    if reason:
        pytest.skip(reason)
    cam = Camera()
    cam.start()
    yield cam
    cam.kill()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Wait for `check` to hold (the timeout only fails a broken run)."""
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110 - the audit log has no event to wait on
            await asyncio.sleep(0.05)


async def camera_lost_records(h: Harness) -> list[dict[str, Any]]:
    return [
        r
        for r in await h.audit("viewer_disconnected")
        if r["detail"].get("end_reason") == "camera_lost"
    ]


@contextlib.asynccontextmanager
async def watching(url: str) -> AsyncIterator[tuple[RtspViewer, asyncio.Task[float | None]]]:
    """A viewer playing `url`, reading media in the background until the door ends it."""
    viewer = await play(url)
    reading = asyncio.ensure_future(viewer.read_until_end(60))
    try:
        await viewer.until(lambda: viewer.packets > 0)
        yield viewer, reading
    finally:
        reading.cancel()
        viewer.close()


async def refused_status(url: str) -> int | None:
    """The door's answer to a new viewer (None: it played)."""
    try:
        viewer = await play(url, timeout=20)
    except RtspRefusedError as err:
        return err.status
    viewer.close()
    return None


async def test_a_camera_dying_mid_share_ends_its_viewer_as_camera_lost_and_new_viewers_get_503(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: Camera, backend: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera.url, backend)
    assert h.gateway._rtsp.no_media_s == 10.0, "the contract: 10 s without media"
    h.gateway._rtsp.no_media_s = NO_MEDIA_S
    url, _ = await share_link(h, duration_s=3600)

    async with watching(url) as (viewer, reading):
        await asyncio.to_thread(camera.kill)
        # real go2rtc keeps the viewer connected and silent: the door must notice and cut
        ended_at = await asyncio.wait_for(reading, 30)
        assert ended_at is not None, "the door ended the viewer once the camera was lost"
        assert viewer.ended_at is not None

    await until(lambda: _has(camera_lost_records(h)))
    (record,) = await camera_lost_records(h)
    assert record["detail"]["share_id"]
    assert record["detail"]["camera_id"] == config_dict["cameras"][0]["id"]

    # the share is live, the camera is not: 503 (not the 404 of an expired link)
    assert await refused_status(url) == 503

    await asyncio.to_thread(camera.start)
    async with watching(url) as (again, _):
        assert again.packets > 0, "a new viewer plays once the camera is back"


async def _has(records: Awaitable[list[dict[str, Any]]]) -> bool:
    return bool(await records)
