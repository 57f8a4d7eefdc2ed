"""The owner's state names each viewer now: since when (the gateway's clock) and via which format.

Real viewers through the real door and go2rtc: an RTSP player and an MP4 reader on one share.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ..gateway.conftest import HarnessFactory
from ..peers.rtsp_client import play
from .conftest import door_harness, share_link

WEEK_S = 7 * 86400


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


async def test_state_says_since_when_and_via_which_format_each_viewer_watches(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_url: str
) -> None:
    h = await door_harness(harness_factory, config_dict, camera_url, "go2rtc")
    h.clock.advance(WEEK_S)  # the gateway's clock, a week from the machine's: it must be used
    rtsp, answer = await share_link(h)
    share_id = answer["shares"][0]["share_id"]
    door = f"http://127.0.0.1:{h.bound.public[1]}"
    mp4 = answer["shares"][0]["links"]["mp4"].replace("http://127.0.0.1:8443", door)
    before = h.clock().replace(microsecond=0)
    viewer = await play(rtsp)
    reading = asyncio.ensure_future(viewer.read_until_end(60))
    async with aiohttp.ClientSession() as session:
        try:
            await viewer.until(lambda: viewer.packets > 0)
            async with session.get(mp4) as resp:
                assert resp.status == 200
                await resp.content.readexactly(4096)
                after = h.clock()
                state = (await h.owner.call("GET", "/api/v1/state")).body  # checked by the doc
                events = await session.ws_connect(
                    f"{h.owner.url}/api/v1/events?after=0", headers=h.owner.default_headers
                )
        finally:
            reading.cancel()
            viewer.close()
        # Both gone: wait for the door to say so (after=0 replays any said before subscribing).
        async with asyncio.timeout(30):
            gone = 0
            while gone < 2:
                gone += (await events.receive_json())["type"] == "viewer_disconnected"
        await events.close()
    left = (await h.owner.call("GET", "/api/v1/state")).body["shares"]
    assert [(s["viewers"], s["viewers_now"]) for s in left if s["share_id"] == share_id] == [
        (0, [])
    ]
    (share,) = [s for s in state["shares"] if s["share_id"] == share_id]
    assert share["viewers"] == 2
    assert [v["via"] for v in share["viewers_now"]] == ["rtsp", "mp4"], "oldest first"
    for seen in share["viewers_now"]:
        assert before <= _instant(seen["connected_at"]) <= after
        assert seen["viewer_id"].startswith("vwr_")
    connected = [r["detail"]["viewer_id"] for r in await h.audit("viewer_connected")]
    assert sorted(v["viewer_id"] for v in share["viewers_now"]) == sorted(connected)
