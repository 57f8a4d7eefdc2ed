"""Bad input from either side gets a 400 (or 401) naming the field and the rule, never a 5xx and
never an exception's own text: what a fuzzer and an attacker found, kept as regression tests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ..conftest import OWNER_TOKEN
from .conftest import Harness, HarnessFactory, incident, sharing_config

FORBIDDEN_SAMPLES = ["\x00", "\n", "\r", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u2066", "\ud800"]


async def _pending_request(h: Harness) -> str:
    answer = await h.city.call("POST", "/api/v1/requests", incident())
    assert answer.status == 202
    return str(answer.body["request_id"])


@pytest.mark.parametrize("wait", ["%C2%B2", "%D9%A1", "%EF%BC%91", "+5", "1%20", "-1", "9" * 30])
async def test_wait_takes_only_ascii_digits(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], wait: str
) -> None:
    # "²" made int() raise (500) and an Arabic-Indic one was taken as 1.
    h = await harness_factory(sharing_config(config_dict))
    request_id = await _pending_request(h)
    answer = await h.city.call("GET", f"/api/v1/requests/{request_id}?wait={wait}")
    assert (answer.status, answer.problem_names) == (400, ["wait"])
    assert "ASCII" in answer.body["invalid_params"][0]["reason"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("incident_id", "ABC\n"),  # re.match with `$` let the newline through
        ("incident_id", "ABC\r\n"),
        ("offense", "burglary\n"),
        ("reason", "Break-in\x1b[2J at 123 Main St"),
        ("reason", "reads \u202eright to left"),
        ("offense", "\u2066isolated"),
        ("reason", "C1 control \x85 here"),
        ("reason", "lone surrogate \ud800"),
        ("camera_ids", ["front_door\x00"]),
    ],
)
async def test_control_characters_in_city_strings_are_refused_by_field(
    auto_harness: HarnessFactory, field: str, value: Any
) -> None:
    h = await auto_harness()
    answer = await h.city.call("POST", "/api/v1/requests", incident(**{field: value}))
    assert answer.status == 400
    expected = f"{field}[0]" if isinstance(value, list) else field
    assert answer.problem_names == [expected]
    assert await h.audit("request_received") == []
    assert h.restreamer.streams == {}


@pytest.mark.parametrize("char", FORBIDDEN_SAMPLES)
async def test_every_forbidden_character_class_is_refused(harness: Harness, char: str) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", incident(reason=f"a{char}b"))
    assert (answer.status, answer.problem_names) == (400, ["reason"])
    assert "control characters" in answer.body["invalid_params"][0]["reason"]


async def test_plain_unicode_text_is_still_welcome(harness: Harness) -> None:
    body = incident(
        offense="robo con violencia", reason="Café at Ñandú St — \U0001d7d9 suspect, 北"
    )
    assert (await harness.city.call("POST", "/api/v1/requests", body)).status == 201


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        # A city-side parser keeping the first key would log a request the gateway did not act on.
        (
            (
                b'{"incident_id":"A-1","offense":"o","reason":"r",'
                b'"location":{"lat":32.3,"lon":-90.2},'
                b'"camera_ids":["off"],"camera_ids":["front_door"]}'
            ),
            "camera_ids",
        ),
        (
            (
                b'{"incident_id":"A-1","offense":"o","reason":"r",'
                b'"location":{"lat":32.3,"lat":32.4,"lon":-90.2}}'
            ),
            "lat",
        ),
    ],
)
async def test_duplicate_keys_are_refused(
    auto_harness: HarnessFactory, raw: bytes, name: str
) -> None:
    h = await auto_harness()
    answer = await h.city.call("POST", "/api/v1/requests", raw=raw)
    assert (answer.status, answer.problem_names) == (400, [name])
    assert "more than once" in answer.body["invalid_params"][0]["reason"]
    assert h.restreamer.streams == {}


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        (b'{"radius_m": ' + b"9" * 5000 + b"}", "more than 20 digits"),
        (b'{"radius_m": NaN}', "NaN or Infinity"),
        (b'{"radius_m": -Infinity}', "NaN or Infinity"),
    ],
)
async def test_numbers_and_nesting_python_cannot_take_are_named_not_echoed(
    harness: Harness, raw: bytes, reason_part: str
) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", raw=raw)
    assert answer.status == 400
    assert answer.problem_names == ["(body)"]
    assert reason_part in answer.body["invalid_params"][0]["reason"]
    text = str(answer.body)
    for internal in ("sys.set_int_max_str_digits", "Exceeds the limit", "recursion"):
        assert internal not in text


@pytest.mark.parametrize(
    "start",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "٢٠٢٦-11-26T20:00:00Z"],
)
async def test_a_start_outside_the_calendar_is_400(harness: Harness, start: str) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", incident(start=start))
    assert (answer.status, answer.problem_names) == (400, ["start"])


async def test_a_long_unknown_field_name_is_cut_in_the_answer(harness: Harness) -> None:
    answer = await harness.city.call("POST", "/api/v1/requests", incident(**{"k" * 5000: 1}))
    assert answer.status == 400
    (name,) = answer.problem_names
    assert len(name) <= 100
    assert name.endswith("…")


# --- the owner's side ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer \xff\xfe", b"Bearer " + OWNER_TOKEN.encode() + b"\xc3\xa9", b"Bearer \xe2\x80\xae"],
)
async def test_a_bearer_that_is_not_ascii_is_a_wrong_token(
    harness: Harness, authorization: bytes
) -> None:
    # aiohttp's client refuses such headers, so the request is written by hand.
    reader, writer = await asyncio.open_connection("127.0.0.1", harness.bound.owner[1])
    writer.write(
        b"GET /api/v1/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: "
        + authorization
        + b"\r\n\r\n"
    )
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert reply.startswith(b"HTTP/1.1 401 "), reply[:200]
    assert b"application/problem+json" in reply


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("after=%C2%B2", "after"),
        ("after=%D9%A1", "after"),
        ("limit=%C2%B2", "limit"),
        ("limit=1001", "limit"),
        ("after=" + "9" * 40, "after"),
    ],
)
async def test_audit_paging_takes_only_ascii_digits(
    harness: Harness, query: str, name: str
) -> None:
    answer = await harness.owner.call("GET", f"/api/v1/audit?{query}")
    assert (answer.status, answer.problem_names) == (400, [name])


async def test_audit_limit_zero_is_an_empty_page(harness: Harness) -> None:
    answer = await harness.owner.call("GET", "/api/v1/audit?limit=0")
    assert (answer.status, answer.body) == (200, {"records": []})


@pytest.mark.parametrize(
    "until", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-01-01T00:00:00"]
)
async def test_pause_until_outside_the_calendar_is_400(harness: Harness, until: str) -> None:
    answer = await harness.owner.call("POST", "/api/v1/pause", {"until": until})
    assert (answer.status, answer.problem_names) == (400, ["until"])
    assert (await harness.owner.call("GET", "/api/v1/state")).body["paused"] is False


@pytest.mark.parametrize(
    ("path", "raw", "name"),
    [
        ("/api/v1/pause", b'{"until": null, "until": "2030-01-01T00:00:00Z"}', "until"),
        ("/api/v1/revoke", b'{"camera_id": "a", "camera_id": "front_door"}', "camera_id"),
        ("/api/v1/revoke", b'{"camera_id": ' + b"1" * 5000 + b"}", "(body)"),
        ("/api/v1/policy", b'{"policy": {}, "policy": {}}', "policy"),
        ("/api/v1/revoke", b"[" * 100_000 + b"]" * 100_000, "(body)"),
    ],
)
async def test_owner_bodies_refuse_duplicate_keys_and_huge_numbers(
    harness: Harness, path: str, raw: bytes, name: str
) -> None:
    method = "PUT" if path.endswith("policy") else "POST"
    answer = await harness.owner.call(method, path, raw=raw)
    assert (answer.status, answer.problem_names) == (400, [name])
    assert "Exceeds the limit" not in str(answer.body)


@pytest.mark.parametrize(
    "body", [{"camera_ids": []}, {"camera_ids": [""]}, {"camera_ids": "front_door"}]
)
async def test_approve_needs_at_least_one_camera_id(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], body: dict[str, Any]
) -> None:
    h = await harness_factory(sharing_config(config_dict))
    request_id = await _pending_request(h)
    answer = await h.owner.call("POST", f"/api/v1/requests/{request_id}/approve", body)
    assert (answer.status, answer.problem_names) == (400, ["camera_ids"])


@pytest.mark.parametrize(
    ("policy", "name"),
    [
        ({"timezone": "UTC", "owner_lease_s": 10**18}, "policy.owner_lease_s"),
        ({"timezone": "UTC", "paused_until": "0001-01-01T00:00:00+14:00"}, "policy.paused_until"),
    ],
)
async def test_policy_values_that_would_overflow_a_date_are_400(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], policy: Any, name: str
) -> None:
    h = await harness_factory(config_dict)
    body = {"policy": policy, "cameras": config_dict["cameras"]}
    answer = await h.owner.call("PUT", "/api/v1/policy", body)
    assert (answer.status, answer.problem_names) == (400, [name])


async def test_camera_labels_refuse_control_characters(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    h = await harness_factory(config_dict)
    cameras = [{**config_dict["cameras"][0], "label": "Front\ndoor"}]
    answer = await h.owner.call(
        "PUT", "/api/v1/policy", {"policy": config_dict["policy"], "cameras": cameras}
    )
    assert (answer.status, answer.problem_names) == (400, ["cameras[0].label"])


@pytest.mark.parametrize("camera_id", ["front_door\n", "front_door\r\n"])
async def test_camera_ids_are_matched_in_full(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], camera_id: str
) -> None:
    h = await harness_factory(config_dict)
    cameras = [{**config_dict["cameras"][0], "id": camera_id}]
    answer = await h.owner.call(
        "PUT", "/api/v1/policy", {"policy": config_dict["policy"], "cameras": cameras}
    )
    assert (answer.status, answer.problem_names) == (400, ["cameras[0].id"])
