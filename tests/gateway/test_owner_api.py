"""The owner API: the integration's and owner's side of the gateway."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from ..conftest import CAMERA_SOURCE, OWNER_TOKEN, Clock
from .conftest import Harness, HarnessFactory, incident, sharing_config, with_garage

OWNER_ROUTES = [
    ("GET", "/api/v1/info"),
    ("GET", "/api/v1/openapi.json"),
    ("PUT", "/api/v1/policy"),
    ("GET", "/api/v1/state"),
    ("POST", "/api/v1/requests/req_x/approve"),
    ("POST", "/api/v1/requests/req_x/deny"),
    ("POST", "/api/v1/shares/shr_x/revoke"),
    ("POST", "/api/v1/revoke"),
    ("POST", "/api/v1/pause"),
    ("POST", "/api/v1/resume"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/transparency"),
    ("GET", "/api/v1/events"),
]


def push_body(config: dict[str, Any], **camera: Any) -> dict[str, Any]:
    cameras = [dict(c) for c in config["cameras"]]
    cameras[0].update(camera)
    return {"policy": dict(config["policy"]), "cameras": cameras}


@pytest.mark.parametrize(("method", "path"), OWNER_ROUTES)
async def test_every_owner_route_needs_the_token(harness: Harness, method: str, path: str) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer not-the-token-00000000"}):
        answer = await harness.owner.call(method, path, headers=headers, check=False)
        assert answer.status == 401
        assert answer.body["status"] == 401


@pytest.mark.parametrize(
    ("method", "path"), [r for r in OWNER_ROUTES if r[1] != "/api/v1/openapi.json"]
)
async def test_the_owner_api_is_not_on_the_public_listener(
    harness: Harness, method: str, path: str
) -> None:
    answer = await harness.city.call(
        method, path, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}, sign=False, check=False
    )
    assert answer.status in (401, 404, 405)
    assert "gateway_id" not in str(answer.body)


async def test_owner_openapi_lists_the_owner_routes(harness: Harness) -> None:
    doc = (await harness.owner.call("GET", "/api/v1/openapi.json")).body
    assert {p for _, p in OWNER_ROUTES} - {
        "/api/v1/requests/req_x/approve",
        "/api/v1/requests/req_x/deny",
        "/api/v1/shares/shr_x/revoke",
    } <= set(doc["paths"])
    assert "/api/v1/requests/{request_id}/approve" in doc["paths"]


async def test_policy_push_replaces_cameras_and_never_echoes_sources(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(config_dict)
    before = (await h.owner.call("GET", "/api/v1/state")).body
    assert before["cameras"][0]["consent"] is False
    assert before["cameras"][0]["status"] == "idle"
    answer = await h.owner.call("PUT", "/api/v1/policy", push_body(config_dict, consent=True))
    assert answer.status == 200
    assert answer.body["cameras"][0]["consent"] is True
    assert answer.body["stale"] is False
    assert answer.body["lease_ends_at"] is not None
    assert "campass" not in json.dumps(answer.body)
    audit = json.dumps(await h.audit())
    assert "campass" not in audit
    assert CAMERA_SOURCE not in audit


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, ["cameras", "policy"]),
        ({"policy": {"timezone": "Nowhere"}, "cameras": []}, ["policy.timezone"]),
        (
            {"policy": {"timezone": "UTC"}, "cameras": [{"id": "x"}]},
            ["cameras[0].label", "cameras[0].location", "cameras[0].source"],
        ),
        ({"policy": {"timezone": "UTC"}, "cameras": [], "extra": 1}, ["extra"]),
    ],
)
async def test_bad_policy_pushes_name_each_field_and_change_nothing(
    harness: Harness, body: dict[str, Any], names: list[str]
) -> None:
    answer = await harness.owner.call("PUT", "/api/v1/policy", body)
    assert answer.status == 400
    assert answer.problem_names == names
    state = (await harness.owner.call("GET", "/api/v1/state")).body
    assert [c["id"] for c in state["cameras"]] == ["front_door"]


async def test_approve_and_deny_per_camera(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(sharing_config(with_garage(config_dict, 32.2991, -90.1851)))
    request_id = (await h.city.call("POST", "/api/v1/requests", incident())).body["request_id"]
    state = (await h.owner.call("GET", "/api/v1/state")).body
    (pending,) = state["pending_requests"]
    assert pending["request_id"] == request_id
    assert pending["agency"] == "Jackson Police Department"
    assert pending["offense"] == "burglary"
    assert sorted(pending["pending_camera_ids"]) == ["front_door", "garage"]
    assert {c["id"]: c["status"] for c in state["cameras"]} == {
        "front_door": "pending",
        "garage": "pending",
    }

    await h.owner.call("POST", f"/api/v1/requests/{request_id}/approve", {"camera_ids": ["garage"]})
    answer = await h.owner.call(
        "POST", f"/api/v1/requests/{request_id}/deny", {"camera_ids": ["front_door"]}
    )
    assert answer.body["status"] == "partially_approved"
    statuses = {s["camera_id"]: s["status"] for s in answer.body["shares"]}
    assert statuses == {"front_door": "declined", "garage": "live"}
    bad = await h.owner.call(
        "POST", f"/api/v1/requests/{request_id}/approve", {"camera_ids": "garage"}
    )
    assert (bad.status, bad.problem_names) == (400, ["camera_ids"])
    missing = await h.owner.call("POST", "/api/v1/requests/req_nope/approve")
    assert missing.status == 404
    # Decided already: an answer that says so, not a 200 that looks like it worked.
    for verb in ("approve", "deny"):
        again = await h.owner.call("POST", f"/api/v1/requests/{request_id}/{verb}")
        assert again.status == 409, (verb, again.body)
    garage_again = await h.owner.call(
        "POST", f"/api/v1/requests/{request_id}/approve", {"camera_ids": ["garage"]}
    )
    assert garage_again.status == 409


async def _live(h: Harness, n: int = 1, **changes: Any) -> list[dict[str, Any]]:
    shares = []
    for i in range(n):
        body = incident(incident_id=f"INC-{i}", **changes)
        shares += (await h.city.call("POST", "/api/v1/requests", body)).body["shares"]
    assert all(s["status"] == "live" for s in shares)
    return shares


async def test_revoke_one_share_a_camera_or_all(auto_harness: HarnessFactory) -> None:
    h = await auto_harness()
    shares = await _live(h, 4)
    one = await h.owner.call("POST", f"/api/v1/shares/{shares[0]['share_id']}/revoke")
    assert one.body == {"revoked": 1}
    camera = await h.owner.call("POST", "/api/v1/revoke", {"camera_id": "front_door"})
    assert camera.body == {"revoked": 3}
    assert (await h.owner.call("POST", "/api/v1/revoke")).body == {"revoked": 0}
    assert (await h.owner.call("POST", "/api/v1/shares/shr_nope/revoke")).status == 404
    assert h.restreamer.streams == {}
    reasons = {r["detail"]["reason"] for r in await h.audit("share_ended")}
    assert reasons == {"revoked"}


async def test_pause_ends_live_shares_and_resumes_by_itself(auto_harness: HarnessFactory) -> None:
    clock = Clock()
    h = await auto_harness(clock=clock)
    await _live(h)
    until = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    paused = await h.owner.call("POST", "/api/v1/pause", {"until": until.isoformat()})
    assert paused.body["paused"] is True
    assert paused.body["shares"] == []
    (ended,) = await h.audit("share_ended")
    assert ended["detail"]["reason"] == "paused"
    declined = await h.city.call("POST", "/api/v1/requests", incident())
    assert declined.body["status"] == "declined"
    clock.advance(31 * 60)
    assert (await h.owner.call("GET", "/api/v1/state")).body["paused"] is False
    again = await h.city.call("POST", "/api/v1/requests", incident())
    assert again.body["status"] == "approved"
    await h.owner.call("POST", "/api/v1/pause")
    resumed = await h.owner.call("POST", "/api/v1/resume")
    assert resumed.body["paused"] is False
    bad = await h.owner.call("POST", "/api/v1/pause", {"until": "later"})
    assert (bad.status, bad.problem_names) == (400, ["until"])


async def test_consent_off_in_a_push_ends_the_camera_shares(
    auto_harness: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await auto_harness()
    await _live(h, 2)
    answer = await h.owner.call("PUT", "/api/v1/policy", push_body(config_dict, consent=False))
    assert answer.body["shares"] == []
    assert {r["detail"]["reason"] for r in await h.audit("share_ended")} == {"consent_off"}


async def test_privacy_window_start_ends_live_shares(
    auto_harness: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    clock = Clock()
    h = await auto_harness(clock=clock)
    await _live(h)
    local = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("America/Chicago"))
    begin = (local + timedelta(minutes=5)).strftime("%H:%M")
    end = (local + timedelta(minutes=65)).strftime("%H:%M")
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
        (local + timedelta(minutes=5)).weekday()
    ]
    body = push_body(config_dict)
    body["policy"]["privacy_windows"] = [{"days": [day], "start": begin, "end": end}]
    await h.owner.call("PUT", "/api/v1/policy", body)
    assert len((await h.owner.call("GET", "/api/v1/state")).body["shares"]) == 1
    clock.advance(6 * 60)
    await h.gateway.shares.tick()
    state = (await h.owner.call("GET", "/api/v1/state")).body
    assert state["shares"] == []
    assert state["cameras"][0]["status"] == "blocked"
    assert state["cameras"][0]["blocked_reason"] == "privacy_window"
    (ended,) = await h.audit("share_ended")
    assert ended["detail"]["reason"] == "privacy_window"


async def test_an_unrefreshed_push_goes_stale_and_ends_shares(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    clock = Clock()
    h = await harness_factory(config_dict, clock=clock)
    body = push_body(config_dict, consent=True, approval="auto")
    body["policy"]["owner_lease_s"] = 120
    await h.owner.call("PUT", "/api/v1/policy", body)
    await _live(h)
    clock.advance(121)
    await h.gateway.shares.tick()
    state = (await h.owner.call("GET", "/api/v1/state")).body
    assert state["stale"] is True
    assert state["shares"] == []
    assert (await h.audit("share_ended"))[0]["detail"]["reason"] == "stale_policy"
    assert len(await h.audit("policy_stale")) == 1
    refused = await h.city.call("POST", "/api/v1/requests", incident())
    assert refused.body["status"] == "declined"
    await h.owner.call("PUT", "/api/v1/policy", body)
    assert (await h.city.call("POST", "/api/v1/requests", incident())).body["status"] == "approved"


async def test_audit_read_and_verify(auto_harness: HarnessFactory) -> None:
    h = await auto_harness()
    await _live(h)
    page = (await h.owner.call("GET", "/api/v1/audit?after=0&limit=2")).body["records"]
    assert [r["seq"] for r in page] == [1, 2]
    rest = (await h.owner.call("GET", "/api/v1/audit?after=2")).body["records"]
    assert rest[0]["prev_hash"] == page[1]["hash"]
    verify = (await h.owner.call("GET", "/api/v1/audit/verify")).body
    assert verify["ok"] is True
    assert verify["head"]["seq"] == rest[-1]["seq"]
    head = f"{page[1]['seq']}:{page[1]['hash']}"
    assert (await h.owner.call("GET", f"/api/v1/audit/verify?head={head}")).body["ok"] is True
    wrong = f"{page[1]['seq']}:{'0' * 64}"
    assert (await h.owner.call("GET", f"/api/v1/audit/verify?head={wrong}")).body["ok"] is False
    bad = await h.owner.call("GET", "/api/v1/audit/verify?head=nope")
    assert (bad.status, bad.problem_names) == (400, ["head"])
    assert (await h.owner.call("GET", "/api/v1/audit?limit=5000")).status == 400


async def test_transparency_per_agency(auto_harness: HarnessFactory) -> None:
    clock = Clock()
    h = await auto_harness(clock=clock)
    await _live(h, 2)
    await h.city.call("POST", "/api/v1/requests", incident(camera_ids=["nope"]))
    clock.advance(90)
    report = (await h.owner.call("GET", "/api/v1/transparency")).body["agencies"]
    jpd = next(a for a in report if a["agency"] == "jpd")
    assert (jpd["requests"], jpd["approved"], jpd["declined"]) == (3, 2, 1)
    assert jpd["minutes_live"] == pytest.approx(3.0, abs=0.1)
    hcso = next(a for a in report if a["agency"] == "hcso")
    assert hcso["requests"] == 0


async def test_event_stream_carries_what_automations_need(auto_harness: HarnessFactory) -> None:
    h = await auto_harness()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{h.owner.url}/api/v1/events", headers={"Authorization": f"Bearer {OWNER_TOKEN}"}
        ) as ws,
    ):
        answer = await h.city.call("POST", "/api/v1/requests", incident(duration_s=600))
        await h.owner.call("POST", f"/api/v1/shares/{answer.body['shares'][0]['share_id']}/revoke")
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while not any(e["type"] == "share_ended" for e in events):
                events.append(await ws.receive_json())
    types = [e["type"] for e in events if e["type"] != "audit_head"]
    assert types == ["request_received", "request_decided", "share_started", "share_ended"]
    received = events[[e["type"] for e in events].index("request_received")]
    assert received["agency"] == "Jackson Police Department"
    assert (received["incident_id"], received["offense"]) == ("JPD-2026-001234", "burglary")
    assert received["camera_ids"] == ["front_door"]
    ended = next(e for e in events if e["type"] == "share_ended")
    assert ended["reason"] == "revoked"
    heads = [e for e in events if e["type"] == "audit_head"]
    assert heads
    assert len(heads[-1]["head"]["hash"]) == 64
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    text = json.dumps(events)
    assert "links" not in text
    assert "rtsp://" not in text


async def test_events_after_a_cursor_are_replayed_over_http_and_the_websocket(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(sharing_config(config_dict))  # approval: ask
    first = await h.city.call("POST", "/api/v1/requests", incident())
    everything = (await h.owner.call("GET", "/api/v1/events?after=0")).body
    assert everything["gap"] is False
    received = [e for e in everything["events"] if e["type"] == "request_received"]
    assert [e["request_id"] for e in received] == [first.body["request_id"]]
    cursor, stream = everything["seq"], everything["stream"]
    second = await h.city.call("POST", "/api/v1/requests", incident(incident_id="JPD-2"))
    later = (await h.owner.call("GET", f"/api/v1/events?after={cursor}&stream={stream}")).body
    assert later["gap"] is False
    assert all(e["seq"] > cursor for e in later["events"])
    assert [e["request_id"] for e in later["events"] if e["type"] == "request_received"] == [
        second.body["request_id"]
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{h.owner.url}/api/v1/events?after={cursor}&stream={stream}",
            headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
        ) as ws,
    ):
        hello = await ws.receive_json()
        assert hello == {
            "type": "replay",
            "stream": stream,
            "seq": later["seq"],
            "gap": False,
            "replayed": len(later["events"]),
        }
        replayed = [await ws.receive_json() for _ in range(hello["replayed"])]
        assert replayed == later["events"]
        await h.owner.call("POST", "/api/v1/pause")
        live = await ws.receive_json()
        assert live["seq"] == later["seq"] + 1, "live events follow the replay, none missed"


async def test_a_cursor_of_another_run_answers_gap(harness: Harness) -> None:
    answer = (await harness.owner.call("GET", "/api/v1/events?after=3&stream=evs_anotherrun")).body
    assert answer["gap"] is True
    assert answer["stream"] != "evs_anotherrun"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("after=%D9%A7", "after"),  # an Arabic-Indic 7
        ("after=-1", "after"),
        ("after=1.0", "after"),
        ("after=", "after"),
        ("after=+1", "after"),
        ("after=%C2%B2", "after"),  # a superscript 2
        ("after=99999999999999999999", "after"),
        ("after=1&stream=", "stream"),
        ("after=1&stream=evs_%0A", "stream"),
        ("after=1&stream=not-a-stream", "stream"),
        ("stream=evs_abc", "after"),
        ("", "after"),  # a plain GET without a cursor is no WebSocket either
    ],
)
async def test_a_bad_events_cursor_is_a_400_naming_the_field(
    harness: Harness, query: str, name: str
) -> None:
    answer = await harness.owner.call("GET", f"/api/v1/events?{query}")
    assert answer.status == 400
    assert answer.problem_names == [name]


async def test_state_lists_each_shares_viewers_now(auto_harness: HarnessFactory) -> None:
    h = await auto_harness()
    await h.city.call("POST", "/api/v1/requests", incident())
    state = (await h.owner.call("GET", "/api/v1/state")).body  # checked against the document
    (share,) = state["shares"]
    assert (share["viewers"], share["viewers_now"]) == (0, [])
