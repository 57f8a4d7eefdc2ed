"""Fail closed with go2rtc: after a gateway restart, go2rtc holds only the live shares' streams."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
from rtcc_gateway.restreamer.go2rtc import Go2rtcRestreamer

from ..conftest import CAMERA_SOURCE, Clock, ServeGateway
from ..peers.go2rtc import go2rtc_binary
from ..peers.process import children
from .conftest import HarnessFactory, incident, sharing_config


async def test_a_restart_leaves_only_authorized_streams(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    config = sharing_config(config_dict, approval="auto")
    config.update(restreamer="go2rtc", go2rtc_bin=str(go2rtc_binary()))
    first = await harness_factory(config, restreamer=None)
    live = await first.city.call("POST", "/api/v1/requests", incident(duration_s=600))
    ending = await first.city.call("POST", "/api/v1/requests", incident(duration_s=60))
    live_token = live.body["shares"][0]["links"]["rtsp"].rsplit("/", 1)[1]
    backend = first.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    assert set(await backend.list_streams()) == {
        live_token,
        ending.body["shares"][0]["links"]["rtsp"].rsplit("/", 1)[1],
    }
    assert all(s == [CAMERA_SOURCE] for s in (await backend.list_streams()).values())
    await first.gateway.stop()

    clock = Clock()
    clock.advance(120)  # the 60 s share ended while the gateway was down
    second = await harness_factory(config, restreamer=None, clock=clock)
    backend = second.gateway.restreamer
    assert isinstance(backend, Go2rtcRestreamer)
    assert set(await backend.list_streams()) == {live_token}
    # Someone with go2rtc's API credentials adds a stream behind the gateway's back …
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{backend.http_base()}/api/streams",
            params={"name": "rogue", "src": "rtsp://127.0.0.1:9/rogue"},
            headers={"Authorization": backend.http_authorization()},
        ) as resp,
    ):
        assert resp.status == 200
    assert "rogue" in await backend.list_streams()
    # … and the next reconcile (as after every start) takes it away.
    await backend.reconcile({live_token})
    assert set(await backend.list_streams()) == {live_token}


def _any_alive(pids: set[int]) -> bool:
    """Whether any of these processes still runs (a zombie waiting for its reaper does not)."""
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        if "\nState:\tZ" not in status:
            return True
    return False


async def test_go2rtc_dies_with_a_killed_gateway(
    serve_gateway: ServeGateway, config_dict: dict[str, Any]
) -> None:
    config_dict.update(restreamer="go2rtc", go2rtc_bin=str(go2rtc_binary()))
    gw = await serve_gateway()
    children_of_gateway = children(gw.proc.pid)
    assert children_of_gateway, "the gateway started its go2rtc"
    assert await gw.stop(signal.SIGKILL) == -signal.SIGKILL
    async with asyncio.timeout(30):
        while _any_alive(children_of_gateway):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
