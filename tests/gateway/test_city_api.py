"""The city API end to end in one process: signed requests, the decision, shares and the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rtcc_gateway.api.city import REQUEST_SCHEMA
from rtcc_gateway.limits import RADIUS_DEFAULT_M

from ..conftest import CAMERA_SOURCE, OTHER_AGENCY_KEY, Clock
from .conftest import Harness, HarnessFactory, incident, sharing_config, with_garage


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


async def test_health_and_openapi_need_no_signature(harness: Harness) -> None:
    health = await harness.city.call("GET", "/api/v1/health", sign=False)
    assert (health.status, health.body) == (200, {"status": "ok"})
    doc = await harness.city.call("GET", "/api/v1/openapi.json", sign=False)
    assert doc.status == 200
    assert doc.body["openapi"] == "3.1.0"
    assert "/api/v1/requests" in doc.body["paths"]
    assert "/api/v1/policy" not in doc.body["paths"], "the owner API is not the city's business"


async def test_auto_approved_request_gets_a_live_share_with_links(
    auto_harness: HarnessFactory,
) -> None:
    h = await auto_harness()
    answer = await h.city.call("POST", "/api/v1/requests", incident(duration_s=900))
    assert answer.status == 201
    assert answer.headers["Location"] == (
        f"http://127.0.0.1:8443/api/v1/requests/{answer.body['request_id']}"
    )
    assert answer.body["status"] == "approved"
    (share,) = answer.body["shares"]
    assert share["camera_id"] == "front_door"
    assert share["status"] == "live"
    assert parse(share["ends_at"]) - parse(share["starts_at"]) == timedelta(seconds=900)
    token = share["links"]["rtsp"].removeprefix("rtsp://127.0.0.1:8554/")
    assert set(share["links"]) == {"rtsp"}, "a direct gateway offers RTSP only"
    assert len(token) >= 22, "at least 128 bits"
    # The restreamer got the registry's source under the share's token, nothing from the city.
    assert h.restreamer.streams[token].source == CAMERA_SOURCE
    kinds = [r["kind"] for r in await h.audit()]
    assert kinds[-3:] == ["request_received", "request_decided", "share_started"]


async def test_request_without_consent_is_declined_without_a_reason(harness: Harness) -> None:
    answer = await harness.city.call(
        "POST", "/api/v1/requests", incident(camera_ids=["front_door"])
    )
    assert answer.status == 201
    assert answer.body["status"] == "declined"
    (share,) = answer.body["shares"]
    assert share == {"share_id": share["share_id"], "camera_id": "front_door", "status": "declined"}
    (decided,) = await harness.audit("request_decided")
    assert decided["detail"]["reason"] == "consent_off"
    assert harness.restreamer.streams == {}


async def test_no_camera_in_the_radius(auto_harness: HarnessFactory) -> None:
    h = await auto_harness()
    far = incident(location={"lat": 32.35, "lon": -90.18}, radius_m=100)
    answer = await h.city.call("POST", "/api/v1/requests", far)
    assert (answer.status, answer.body["status"], answer.body["shares"]) == (201, "declined", [])


@pytest.mark.parametrize(
    ("setup", "body", "reason"),
    [
        ({}, incident(camera_ids=["front_door"]), "consent_off"),
        (
            {"consent": True, "policy": {"paused": True}},
            incident(camera_ids=["front_door"]),
            "paused",
        ),
        (
            {
                "consent": True,
                "policy": {
                    "privacy_windows": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                            "start": "00:00",
                            "end": "23:59",
                        }
                    ]
                },
            },
            incident(camera_ids=["front_door"]),
            "privacy_window",
        ),
        (
            {"consent": True},
            incident(camera_ids=["front_door"], location={"lat": 32.4, "lon": -90.1}),
            "outside_radius",
        ),
        ({"consent": True}, incident(camera_ids=["back_yard"]), "unknown_camera"),
    ],
)
async def test_each_decline_reason_reaches_the_owner_log_only(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    setup: dict[str, Any],
    body: dict[str, Any],
    reason: str,
) -> None:
    config_dict["cameras"][0]["consent"] = setup.get("consent", False)
    config_dict["cameras"][0]["approval"] = "auto"
    config_dict["policy"].update(setup.get("policy", {}))
    h = await harness_factory(config_dict)
    answer = await h.city.call("POST", "/api/v1/requests", body)
    assert answer.status == 201
    assert answer.body["status"] == "declined"
    assert reason not in str(answer.body)
    (decided,) = await h.audit("request_decided")
    assert decided["detail"]["reason"] == reason


async def test_longer_asks_are_cut_to_the_owner_maximum(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(sharing_config(config_dict, approval="auto", max_duration_s=600))
    answer = await h.city.call("POST", "/api/v1/requests", incident(duration_s=7200))
    (share,) = answer.body["shares"]
    assert parse(share["ends_at"]) - parse(share["starts_at"]) == timedelta(seconds=600)
    (decided,) = await h.audit("request_decided")
    assert decided["detail"]["cut_to_owner_max"] is True


async def test_default_duration_is_the_camera_maximum(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(sharing_config(config_dict, approval="auto", max_duration_s=1200))
    (share,) = (await h.city.call("POST", "/api/v1/requests", incident())).body["shares"]
    assert parse(share["ends_at"]) - parse(share["starts_at"]) == timedelta(seconds=1200)


async def test_future_start_is_scheduled_and_goes_live_on_time(
    auto_harness: HarnessFactory,
) -> None:
    clock = Clock()
    h = await auto_harness(clock=clock)
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    answer = await h.city.call(
        "POST", "/api/v1/requests", incident(start=start.isoformat(), duration_s=600)
    )
    (share,) = answer.body["shares"]
    assert (answer.body["status"], share["status"]) == ("approved", "scheduled")
    assert parse(share["starts_at"]) == start
    assert "links" in share
    assert h.restreamer.streams == {}, "nothing streams before the window"
    clock.advance(3600)
    await h.gateway.shares.tick()
    view = await h.city.call("GET", f"/api/v1/requests/{answer.body['request_id']}")
    assert view.body["shares"][0]["status"] == "live"
    assert len(h.restreamer.streams) == 1


async def test_ask_mode_waits_for_the_owner_and_long_poll_returns_on_approval(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(sharing_config(config_dict))
    answer = await h.city.call("POST", "/api/v1/requests", incident(duration_s=600))
    assert answer.status == 202
    assert answer.body["status"] == "pending"
    assert "links" not in answer.body["shares"][0]
    request_id = answer.body["request_id"]

    poll = asyncio.create_task(h.city.call("GET", f"/api/v1/requests/{request_id}?wait=20"))
    # The gateway holds the poll (it has not answered "pending"), then the owner approves.
    await asyncio.wait_for(h.gateway.shares.long_poll_started(request_id).wait(), 10)
    assert not poll.done()
    approved = await h.owner.call("POST", f"/api/v1/requests/{request_id}/approve")
    assert approved.status == 200
    polled = await asyncio.wait_for(poll, 5)
    assert polled.body["status"] == "approved"
    (share,) = polled.body["shares"]
    assert share["status"] == "live"
    assert parse(share["ends_at"]) - parse(share["starts_at"]) == timedelta(seconds=600)


async def test_owner_denial_and_approval_timeout(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    clock = Clock()
    h = await harness_factory(sharing_config(config_dict), clock=clock)
    first = (await h.city.call("POST", "/api/v1/requests", incident())).body["request_id"]
    denied = await h.owner.call("POST", f"/api/v1/requests/{first}/deny")
    assert denied.body["status"] == "declined"

    second = (await h.city.call("POST", "/api/v1/requests", incident())).body["request_id"]
    clock.advance(601)
    await h.gateway.shares.tick()
    view = await h.city.call("GET", f"/api/v1/requests/{second}")
    assert view.body["status"] == "declined"
    reasons = [r["detail"]["reason"] for r in await h.audit("request_decided")]
    assert [r for r in reasons if r] == ["owner_denied", "approval_timeout"]


async def test_wait_is_bounded(harness: Harness) -> None:
    asked = await harness.city.call("POST", "/api/v1/requests", incident())
    request_id = asked.body["request_id"]
    for wait in ("0", "61", "soon"):
        answer = await harness.city.call("GET", f"/api/v1/requests/{request_id}?wait={wait}")
        assert (answer.status, answer.problem_names) == (400, ["wait"])


async def test_only_the_requesting_agency_sees_or_ends_a_request(
    auto_harness: HarnessFactory,
) -> None:
    h = await auto_harness()
    request_id = (await h.city.call("POST", "/api/v1/requests", incident())).body["request_id"]
    path = f"/api/v1/requests/{request_id}"
    other = {"key": OTHER_AGENCY_KEY, "key_id": "hcso"}
    assert (await h.city.call("GET", path, **other)).status == 404
    assert (await h.city.call("DELETE", path, **other)).status == 404
    assert (await h.city.call("GET", "/api/v1/requests/req_nope")).status == 404
    assert (await h.city.call("GET", path)).body["status"] == "approved"


async def test_city_delete_cuts_every_share_and_repeats_as_204(
    auto_harness: HarnessFactory,
) -> None:
    h = await auto_harness()
    cut: list[str] = []

    async def record_cut(token: str) -> None:
        cut.append(token)

    h.gateway.shares.on_cut(record_cut)
    answer = await h.city.call("POST", "/api/v1/requests", incident())
    token = answer.body["shares"][0]["links"]["rtsp"].rsplit("/", 1)[1]
    path = f"/api/v1/requests/{answer.body['request_id']}"
    assert (await h.city.call("DELETE", path)).status == 204
    assert cut == [token]
    assert ("remove", token) in h.restreamer.calls
    assert h.gateway.shares.live_share(token) is None
    assert (await h.city.call("DELETE", path)).status == 204
    view = await h.city.call("GET", path)
    assert view.body["status"] == "ended"
    assert "links" not in view.body["shares"][0]
    (ended,) = await h.audit("share_ended")
    assert ended["detail"]["reason"] == "city_cancelled"


async def test_cameras_list_shows_consent_only_and_hides_the_schedule(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    with_garage(config_dict, 32.29912, -90.18567)
    config_dict["policy"]["paused"] = True
    h = await harness_factory(config_dict)
    answer = await h.city.call("GET", "/api/v1/cameras")
    assert answer.body == {
        "cameras": [
            {
                "id": "garage",
                "label": "Garage",
                "location": {"lat": 32.299, "lon": -90.186},
                "formats": ["rtsp"],
            }
        ]
    }


# --- limits, in the contract's order --------------------------------------------------------


async def test_oversized_body_is_413_before_anything_else(harness: Harness) -> None:
    huge = incident(reason="x" * 17000)
    answer = await harness.city.call(
        "POST", "/api/v1/requests", huge, content_type="text/plain", sign=False
    )
    assert answer.status == 413
    assert answer.headers["Content-Type"].startswith("application/problem+json")


async def test_wrong_content_type_is_415_before_the_signature(harness: Harness) -> None:
    answer = await harness.city.call(
        "POST", "/api/v1/requests", incident(), content_type="text/plain", sign=False
    )
    assert answer.status == 415


async def test_unsigned_bad_body_is_401_not_400(harness: Harness) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", raw=b"{nope", sign=False)
    assert answer.status == 401
    assert await harness.audit("request_received") == []
    (failure,) = await harness.audit("auth_failed")
    assert failure["detail"]["reason"] == "missing"


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b"{nope", "(body)"),
        (b"\xff\xfe{}", "(body)"),
        (b"[1, 2]", "(body)"),
    ],
)
async def test_unreadable_bodies_are_400(harness: Harness, raw: bytes, name: str) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", raw=raw)
    assert (answer.status, answer.problem_names) == (400, [name])


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"incident_id": "has spaces"}, ["incident_id"]),
        ({"incident_id": "x" * 65}, ["incident_id"]),
        ({"offense": ""}, ["offense"]),
        ({"offense": "o" * 65}, ["offense"]),
        ({"reason": "r" * 501}, ["reason"]),
        ({"reason": None}, ["reason"]),
        ({"location": {"lat": 91, "lon": 0}}, ["location.lat"]),
        ({"location": "downtown"}, ["location"]),
        ({"radius_m": 0}, ["radius_m"]),
        ({"radius_m": 1001}, ["radius_m"]),
        ({"radius_m": "300"}, ["radius_m"]),
        ({"camera_ids": []}, ["camera_ids"]),
        ({"camera_ids": [1]}, ["camera_ids"]),
        ({"start": "yesterday"}, ["start"]),
        ({"start": "2026-11-26T20:00:00"}, ["start"]),
        ({"duration_s": 59}, ["duration_s"]),
        ({"duration_s": 43201}, ["duration_s"]),
        ({"duration_s": True}, ["duration_s"]),
        ({"priority": "high"}, ["priority"]),
        ({"offense": 5, "radius_m": -1}, ["offense", "radius_m"]),
    ],
)
async def test_each_bad_field_is_named(
    harness: Harness, changes: dict[str, Any], names: list[str]
) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", incident(**changes))
    assert answer.status == 400
    assert answer.problem_names == names
    assert await harness.audit("request_received") == []


@pytest.mark.parametrize("offset", [timedelta(seconds=-120), timedelta(hours=25)])
async def test_start_outside_the_allowed_span_is_400(harness: Harness, offset: timedelta) -> None:
    start = (datetime.now(UTC) + offset).isoformat()
    answer = await harness.city.call("POST", "/api/v1/requests", incident(start=start))
    assert (answer.status, answer.problem_names) == (400, ["start"])


async def test_rate_limit_counts_every_verified_call(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    config_dict["agencies"][0]["rate_limit_per_minute"] = 3
    h = await harness_factory(config_dict)
    for _ in range(3):
        assert (await h.city.call("GET", "/api/v1/cameras")).status == 200
    limited = await h.city.call("POST", "/api/v1/requests", raw=b"{bad json")
    assert limited.status == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another agency has its own budget.
    other = await h.city.call("GET", "/api/v1/cameras", key=OTHER_AGENCY_KEY, key_id="hcso")
    assert other.status == 200


async def test_a_hundred_concurrent_requests_stay_consistent(
    auto_harness: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    config_dict["agencies"][0]["rate_limit_per_minute"] = 1000
    h = await auto_harness()
    answers = await asyncio.gather(
        *(
            h.city.call("POST", "/api/v1/requests", incident(incident_id=f"INC-{i}"))
            for i in range(100)
        )
    )
    assert {a.status for a in answers} == {201}
    tokens = {a.body["shares"][0]["links"]["rtsp"] for a in answers}
    request_ids = {a.body["request_id"] for a in answers}
    assert len(tokens) == len(request_ids) == 100
    assert len(h.restreamer.streams) == 100
    state = await h.owner.call("GET", "/api/v1/state")
    assert len(state.body["shares"]) == 100
    verify = await h.owner.call("GET", "/api/v1/audit/verify")
    assert verify.body["ok"] is True
    assert len(await h.audit("request_received")) == 100


async def test_responses_were_checked_against_openapi(auto_harness: HarnessFactory) -> None:
    h = await auto_harness()
    await h.city.call("POST", "/api/v1/requests", incident())
    await h.city.call("POST", "/api/v1/requests", raw=b"{")
    await h.city.call("GET", "/api/v1/cameras", sign=False)
    assert h.city.checker.checked == 3


async def test_the_owner_log_says_why_no_camera_was_offered(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    with_garage(config_dict, 32.40, -90.10)
    h = await harness_factory(config_dict)
    answer = await h.city.call("POST", "/api/v1/requests", incident())
    assert (answer.body["status"], answer.body["shares"]) == ("declined", [])
    (received,) = await h.audit("request_received")
    assert received["detail"]["not_offered"] == {
        "front_door": "consent_off",
        "garage": "outside_radius",
    }


def test_the_request_schema_fills_the_radius_and_names_each_camera_once() -> None:
    body = REQUEST_SCHEMA(
        incident(radius_m=None, camera_ids=["front_door", "garage", "front_door"])
    )
    assert body["radius_m"] == RADIUS_DEFAULT_M
    assert body["camera_ids"] == ["front_door", "garage"]
    assert "duration_s" not in body, "no default: the camera's maximum applies"
