"""The rules only a configuration has (URLs, ports, tokens, keys, timezones, windows, unique ids),
shared by the file and the owner's push."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import voluptuous as vol
from rtcc_gateway.config_schema import AGENCY_SCHEMA, CAMERAS_SCHEMA, POLICY_SCHEMA
from rtcc_gateway.limits import APPROVAL_TIMEOUT_DEFAULT_S, CAMERA_DEFAULT_MAX_S
from rtcc_gateway.validators import problems_of

CAMERA = {
    "id": "front_door",
    "label": "Front door",
    "source": "rtsp://cam/s",
    "location": {"lat": 32.3, "lon": -90.2},
}


def problems(schema: Any, data: Any) -> list[str]:
    with pytest.raises(vol.Invalid) as err:
        schema(data)
    return problems_of(err.value)


def test_a_policy_gets_its_defaults() -> None:
    policy = POLICY_SCHEMA({"timezone": "America/Chicago"})
    assert policy["approval_timeout_s"] == APPROVAL_TIMEOUT_DEFAULT_S
    assert (policy["paused"], policy["paused_until"], policy["privacy_windows"]) == (
        False,
        None,
        [],
    )


def test_a_window_without_length_is_named_at_its_end() -> None:
    window = {"days": ["mon"], "start": "22:00", "end": "22:00"}
    assert problems(POLICY_SCHEMA, {"timezone": "UTC", "privacy_windows": [window]}) == [
        "privacy_windows[0].end: start and end are equal; a window must have a length"
    ]


def test_days_are_named_once_each() -> None:
    window = {"days": ["mon", "mon"], "start": "22:00", "end": "06:00"}
    assert problems(POLICY_SCHEMA, {"timezone": "UTC", "privacy_windows": [window]}) == [
        "privacy_windows[0].days: lists a day twice"
    ]


def test_a_paused_until_keeps_the_owners_offset() -> None:
    policy = POLICY_SCHEMA({"timezone": "UTC", "paused_until": "2026-11-26T14:00:00-06:00"})
    assert policy["paused_until"].isoformat() == "2026-11-26T14:00:00-06:00"


def test_cameras_get_their_defaults_and_unique_ids() -> None:
    (camera,) = CAMERAS_SCHEMA([CAMERA])
    assert (camera["consent"], camera["approval"], camera["max_duration_s"]) == (
        False,
        "ask",
        CAMERA_DEFAULT_MAX_S,
    )
    assert problems(CAMERAS_SCHEMA, [CAMERA, CAMERA]) == [
        "[1].id: duplicate camera id 'front_door'"
    ]


def test_a_camera_source_is_rtsp_only() -> None:
    assert problems(CAMERAS_SCHEMA, [{**CAMERA, "source": "http://cam/s"}]) == [
        "[0].source: expected a rtsp:// or rtsps:// URL"
    ]


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("not base64!", "public_key: is not valid base64"),
        (
            base64.b64encode(b"x" * 31).decode(),
            "public_key: decodes to 31 bytes; an Ed25519 public key has 32",
        ),
    ],
)
def test_an_agency_key_is_a_raw_ed25519_public_key(key: str, rule: str) -> None:
    assert problems(AGENCY_SCHEMA, {"id": "jpd", "name": "JPD", "public_key": key}) == [rule]
