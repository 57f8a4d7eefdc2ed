"""Dependencies failing under a live share, with real viewers: the camera dies and comes back
(both backends), go2rtc is killed -9, the owner's lease runs out.

Covered elsewhere, not repeated here: go2rtc's supervisor at the restreamer level (killed, hung,
config rewritten: tests/gateway/test_go2rtc_backend.py), a corrupt database at start
(tests/gateway/test_persistence.py), the lease without viewers (tests/gateway/test_owner_api.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from rtcc_gateway.door import viewers
from rtcc_gateway.restreamer.go2rtc import Go2rtcRestreamer

from ..conftest import Clock
from ..gateway.conftest import Harness, HarnessFactory, incident
from ..gateway.test_owner_api import push_body
from ..peers.camera import camera_available, run_camera
from ..peers.go2rtc import go2rtc_binary
from ..peers.rtsp_client import RtspRefusedError, RtspViewer, play
from .conftest import CAMERA_PASSWORD, CAMERA_USER, door_harness, share_link

NO_MEDIA_S = 1.0  # the door's "camera lost" delay, shortened from 10 s for the test


def short_no_media(factory: HarnessFactory) -> HarnessFactory:
    """Gateways whose doors call a camera lost after NO_MEDIA_S instead of the contract's 10 s."""
    assert viewers.NO_MEDIA_S == 10.0, "the contract: 10 s without media"
    return functools.partial(factory, no_media_s=NO_MEDIA_S)


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
    h = await door_harness(short_no_media(harness_factory), config_dict, camera.url, backend)
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


async def test_an_mp4_viewer_of_a_dead_camera_behind_go2rtc_is_ended_as_camera_lost(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: Camera
) -> None:
    go2rtc_binary()  # skips with the reason when there is none
    h = await door_harness(short_no_media(harness_factory), config_dict, camera.url, "go2rtc")
    _, answer = await share_link(h, duration_s=3600)
    door = f"http://127.0.0.1:{h.bound.public[1]}"
    mp4 = answer["shares"][0]["links"]["mp4"].replace("http://127.0.0.1:8443", door)
    async with aiohttp.ClientSession() as session, session.get(mp4) as resp:
        assert resp.status == 200
        assert await resp.content.readany(), "video flows"
        await asyncio.to_thread(camera.kill)
        # until the door ends the stream (an abort: the chunked body stops short)
        with contextlib.suppress(aiohttp.ClientPayloadError):
            async with asyncio.timeout(30):
                while await resp.content.readany():
                    pass
    await until(lambda: _has(camera_lost_records(h)))
    (record,) = await camera_lost_records(h)
    assert record["detail"]["via"] == "mp4"


async def test_a_cut_share_is_not_a_lost_camera(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: Camera, backend: str
) -> None:
    h = await door_harness(short_no_media(harness_factory), config_dict, camera.url, backend)
    url, answer = await share_link(h, duration_s=3600)
    async with watching(url) as (_, reading):
        await h.city.call("DELETE", f"/api/v1/requests/{answer['request_id']}")
        assert await asyncio.wait_for(reading, 30) is not None
    await until(lambda: _has(h.audit("viewer_disconnected")))
    (ended,) = await h.audit("viewer_disconnected")
    assert "end_reason" not in ended["detail"], "the door's own cut, not camera_lost"


async def _has(records: Awaitable[list[dict[str, Any]]]) -> bool:
    return bool(await records)


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def test_go2rtc_killed_mid_share_comes_back_with_only_live_shares_and_viewers_reconnect(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: Camera
) -> None:
    go2rtc_binary()  # skips with the reason when there is none
    h = await door_harness(harness_factory, config_dict, camera.url, "go2rtc")
    backend = h.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    url, _ = await share_link(h, duration_s=3600)
    ended_url, ended = await share_link(h, incident_id="JPD-2026-000002", duration_s=3600)
    await h.city.call("DELETE", f"/api/v1/requests/{ended['request_id']}")
    assert set(await backend.list_streams()) == {_token(url)}
    old_pid = backend.pid
    assert old_pid is not None

    async with watching(url) as (_, reading):
        os.kill(old_pid, signal.SIGKILL)
        assert await asyncio.wait_for(reading, 30) is not None, "its viewer was ended"

    await until(lambda: _has(h.audit("restreamer_restarted")), timeout=60)
    assert backend.pid not in (None, old_pid)
    assert set(await backend.list_streams()) == {_token(url)}, "only the live share came back"
    async with watching(url) as (again, _):
        assert again.packets > 0, "a viewer reconnects through the new go2rtc"
    assert await refused_status(ended_url) == 404


async def test_the_owner_lease_running_out_cuts_viewers_and_declines_with_stale_policy(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera: Camera, backend: str
) -> None:
    clock = Clock()
    factory = functools.partial(harness_factory, clock=clock)
    h = await door_harness(factory, config_dict, camera.url, backend)
    body = push_body(config_dict, consent=True, approval="auto")
    body["policy"]["owner_lease_s"] = 120
    assert (await h.owner.call("PUT", "/api/v1/policy", body)).status == 200
    url, _ = await share_link(h, duration_s=3600)

    async with watching(url) as (_, reading):
        clock.advance(121)  # Home Assistant stopped refreshing the policy
        await h.gateway.shares.tick()
        assert await asyncio.wait_for(reading, 30) is not None, "the viewer was cut"

    (ended,) = await h.audit("share_ended")
    assert ended["detail"]["reason"] == "stale_policy"
    later = await h.city.call("POST", "/api/v1/requests", incident(incident_id="JPD-2026-000003"))
    assert later.body["status"] == "declined"
    decided = [
        r["detail"]
        for r in await h.audit("request_decided")
        if r["detail"]["request_id"] == later.body["request_id"]
    ]
    assert [d["reason"] for d in decided] == ["stale_policy"]
    assert await refused_status(url) == 404
