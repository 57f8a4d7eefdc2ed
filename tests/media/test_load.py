"""Under load (small here; bench/load.py has the figures): a burst of signed requests all
answered, and every viewer of one share gets media while slowloris connections sit on every
listener."""

from __future__ import annotations

from typing import Any

from ..gateway.conftest import HarnessFactory, incident
from ..peers.load import SLOW_HTTP, SLOW_RTSP, burst, slowloris, watch
from .conftest import door_harness, share_link

REQUESTS, VIEWERS, SLOW = 50, 10, 20


async def test_a_burst_of_signed_requests_is_answered_in_full(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, "direct")

    async def send(i: int) -> int:
        answer = await h.city.call("POST", "/api/v1/requests", incident(incident_id=f"L-{i}"))
        return answer.status

    result = await burst(REQUESTS, send)
    assert result.statuses == [201] * REQUESTS


async def test_viewers_get_media_beside_slowloris_connections_on_every_listener(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, "direct")
    link, _ = await share_link(h)
    async with (
        slowloris(h.bound.public[1], SLOW, SLOW_HTTP),
        slowloris(h.bound.owner[1], SLOW, SLOW_HTTP),
        slowloris(h.bound.rtsp[1], SLOW, SLOW_RTSP),
    ):
        watching = await watch(link, VIEWERS)
        try:
            for viewer in watching.viewers:
                await viewer.until(lambda v=viewer: v.packets >= 30)
        finally:
            await watching.close()
    assert len(watching.viewers) == VIEWERS
    assert all(v.bytes_in > 0 for v in watching.viewers)
