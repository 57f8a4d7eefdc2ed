"""Nothing grows with history: pending requests are capped, ended ones leave memory after an hour
(the city reads them from the store for 7 days, then 404), and the figures survive both.

6000 pending requests once took RSS from 63 to 103 MB and /state to 2.6 MB in 383 ms.
"""

from __future__ import annotations

from typing import Any

import pytest
from rtcc_gateway.shares import MAX_PENDING_PER_AGENCY
from rtcc_gateway.shares import book as shares_book

from ..conftest import OTHER_AGENCY_KEY, Clock, RecordingRestreamer
from .conftest import Harness, HarnessFactory, incident, sharing_config

HOUR = 3600
DAY = 86400


def busy(config: dict[str, Any], **camera: Any) -> dict[str, Any]:
    for agency in config["agencies"]:
        agency["rate_limit_per_minute"] = 10_000
    return sharing_config(config, **camera)


async def _ask(h: Harness, **other: Any) -> Any:
    return await h.city.call("POST", "/api/v1/requests", incident(), **other)


async def test_an_agency_may_keep_fifty_requests_waiting_for_the_owner(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    clock = Clock()
    config = busy(config_dict)
    config["cameras"].append(
        {**config["cameras"][0], "id": "porch", "label": "Porch", "approval": "auto"}
    )
    h = await harness_factory(config, clock=clock)
    for _ in range(MAX_PENDING_PER_AGENCY):
        ask = incident(camera_ids=["front_door"])
        assert (await h.city.call("POST", "/api/v1/requests", ask)).status == 202
    refused = await h.city.call("POST", "/api/v1/requests", incident(camera_ids=["front_door"]))
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 601  # the first approval timeout
    assert "50 requests already wait" in refused.body["detail"]
    assert len(await h.audit("request_received")) == MAX_PENDING_PER_AGENCY
    # A request that would not wait (an auto-approved camera) is not held back.
    auto = await h.city.call("POST", "/api/v1/requests", incident(camera_ids=["porch"]))
    assert (auto.status, auto.body["status"]) == (201, "approved")
    # Another agency has its own fifty.
    assert (await _ask(h, key=OTHER_AGENCY_KEY, key_id="hcso")).status == 202
    # Once the owner's time runs out the requests are declined, and there is room again.
    clock.advance(601)
    await h.gateway.shares.tick()
    assert (await _ask(h)).status == 202


async def test_all_agencies_together_have_a_cap_too(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 500 in all; the same rule at a size a test can reach quickly.
    monkeypatch.setattr(shares_book, "MAX_PENDING", 6)
    h = await harness_factory(busy(config_dict))
    for _ in range(3):
        assert (await _ask(h)).status == 202
        assert (await _ask(h, key=OTHER_AGENCY_KEY, key_id="hcso")).status == 202
    for other in ({}, {"key": OTHER_AGENCY_KEY, "key_id": "hcso"}):
        refused = await _ask(h, **other)
        assert refused.status == 429
        assert "6 requests already wait" in refused.body["detail"]
    state = (await h.owner.call("GET", "/api/v1/state")).body
    assert len(state["pending_requests"]) == 6


async def test_an_ended_request_leaves_memory_after_an_hour_and_the_city_after_a_week(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    clock = Clock()
    h = await harness_factory(busy(config_dict, approval="auto"), clock=clock)
    request_id = (await _ask(h)).body["request_id"]
    path = f"/api/v1/requests/{request_id}"
    assert (await h.city.call("DELETE", path)).status == 204
    assert h.gateway.shares.memory()["requests"] == 1
    clock.advance(HOUR + 1)
    await h.gateway.shares.tick()
    assert h.gateway.shares.memory() == {
        "requests": 0,
        "shares": 0,
        "active": 0,
        "pending": 0,
        "deadlines": 0,
    }
    # The city still reads it (from the store), and may repeat its DELETE.
    view = await h.city.call("GET", path)
    assert (view.status, view.body["status"]) == (200, "ended")
    assert view.body["shares"][0]["status"] == "ended"
    assert "links" not in view.body["shares"][0]
    assert (await h.city.call("DELETE", path)).status == 204
    assert (await h.city.call("GET", path, key=OTHER_AGENCY_KEY, key_id="hcso")).status == 404
    clock.advance(7 * DAY)
    assert (await h.city.call("GET", path)).status == 404
    assert (await h.city.call("DELETE", path)).status == 404
    # The owner can still name it, and is told nothing of it waits any more.
    approved = await h.owner.call("POST", f"/api/v1/requests/{request_id}/approve")
    assert approved.status == 409, approved.body


async def test_figures_survive_leaving_memory_and_a_restart(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    config = busy(config_dict, approval="auto")
    clock = Clock()
    h = await harness_factory(config, clock=clock)
    for _ in range(3):
        request_id = (await _ask(h)).body["request_id"]
        clock.advance(120)
        await h.city.call("DELETE", f"/api/v1/requests/{request_id}")
    declined = incident(camera_ids=["garage"])
    await h.city.call("POST", "/api/v1/requests", declined, key=OTHER_AGENCY_KEY, key_id="hcso")
    before = (await h.owner.call("GET", "/api/v1/transparency")).body
    clock.advance(HOUR + 1)
    await h.gateway.shares.tick()
    assert h.gateway.shares.memory()["requests"] == 0
    assert (await h.owner.call("GET", "/api/v1/transparency")).body == before
    await h.gateway.stop()
    later = Clock()
    later.offset = clock.offset
    second = await harness_factory(config, clock=later, restreamer=RecordingRestreamer())
    assert second.gateway.shares.memory()["requests"] == 0, "history stays in the store"
    after = (await second.owner.call("GET", "/api/v1/transparency")).body
    jpd = next(a for a in after["agencies"] if a["agency"] == "jpd")
    assert (jpd["requests"], jpd["approved"], jpd["declined"]) == (3, 3, 0)
    assert jpd["minutes_live"] == pytest.approx(6.0, abs=0.1)
    hcso = next(a for a in after["agencies"] if a["agency"] == "hcso")
    assert (hcso["requests"], hcso["declined"]) == (1, 1)


async def test_a_restart_loads_open_and_recent_requests_only(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    config = busy(config_dict)
    clock = Clock()
    h = await harness_factory(config, clock=clock)
    old = (await _ask(h)).body["request_id"]
    await h.owner.call("POST", f"/api/v1/requests/{old}/deny")
    clock.advance(2 * HOUR)
    pending = (await _ask(h)).body["request_id"]
    await h.gateway.stop()
    second = await harness_factory(config, clock=clock, restreamer=RecordingRestreamer())
    assert second.gateway.shares.memory()["requests"] == 1
    state = (await second.owner.call("GET", "/api/v1/state")).body
    assert [r["request_id"] for r in state["pending_requests"]] == [pending]
    view = await second.city.call("GET", f"/api/v1/requests/{old}")
    assert (view.status, view.body["status"]) == (200, "declined")
