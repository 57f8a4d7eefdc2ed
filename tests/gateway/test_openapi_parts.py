"""The schemas both OpenAPI documents share say what the validators do: a document that allows
more (or less) than the gateway accepts is a contract broken."""

from __future__ import annotations

import json
import re
from datetime import time
from typing import Any

import jsonschema
import pytest
import voluptuous as vol
from rtcc_gateway.limits import SHARE_MAX_S, SHARE_MIN_S
from rtcc_gateway.openapi_parts import CAMERA, CLOCK, LOCATION, PLAIN_TEXT, PROBLEM
from rtcc_gateway.problems import problem
from rtcc_gateway.validators import FORBIDDEN_CHARS, identifier, time_of_day


def allowed(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def accepted(check: Any, value: Any) -> bool:
    try:
        check(value)
    except vol.Invalid:
        return False
    return True


def test_plain_text_refuses_what_the_validators_refuse() -> None:
    pattern = re.compile(PLAIN_TEXT["not"]["pattern"])
    for code in [*range(0xA0), *range(0x2000, 0x2070)]:
        char = chr(code)
        assert bool(pattern.search(char)) == bool(FORBIDDEN_CHARS.search(char)), hex(code)


@pytest.mark.parametrize("value", ["00:00", "07:30", "23:59", "24:00", "7:30", "12:60", "ab:cd"])
def test_a_clock_time_is_what_time_of_day_accepts(value: str) -> None:
    assert allowed(CLOCK, value) == accepted(time_of_day, value)
    if allowed(CLOCK, value):
        assert isinstance(time_of_day(value), time)


@pytest.mark.parametrize("value", ["front_door", "a", "0-cam", "Front", "-x", "a" * 64, "a" * 65])
def test_a_camera_id_is_what_identifier_accepts(value: str) -> None:
    assert allowed(CAMERA["properties"]["id"], value) == accepted(identifier, value)


def test_a_camera_duration_has_the_share_limits() -> None:
    duration = CAMERA["properties"]["max_duration_s"]
    assert (duration["minimum"], duration["maximum"]) == (SHARE_MIN_S, SHARE_MAX_S)


def test_a_location_is_bounded_like_the_earth() -> None:
    assert allowed(LOCATION, {"lat": -90, "lon": 180})
    assert not allowed(LOCATION, {"lat": 90.5, "lon": 0})
    assert not allowed(LOCATION, {"lat": 0, "lon": 0, "alt": 3})


def test_every_problem_the_gateway_answers_fits_the_problem_schema() -> None:
    params = [{"name": "duration_s", "reason": "expected an integer from 60 to 43200"}]
    for answer in (problem(404, "No such stream."), problem(400, "x", invalid_params=params)):
        assert allowed(PROBLEM, json.loads(answer.text or ""))
