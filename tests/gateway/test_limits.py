"""One limit, one number: the validators and the published documents read limits.py."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
from rtcc_gateway.config import CAMERA_SCHEMA
from rtcc_gateway.limits import (
    CAMERA_DEFAULT_MAX_S,
    MAX_AUDIT_PAGE,
    MAX_WAIT_S,
    SHARE_MAX_S,
    SHARE_MIN_S,
)
from rtcc_gateway.openapi import city_document, owner_document

CAMERA = {
    "id": "porch",
    "label": "Porch",
    "source": "rtsp://192.168.1.20:554/porch",
    "location": {"lat": 32.3, "lon": -90.18},
}


def test_the_city_document_publishes_the_share_length_and_long_poll_limits() -> None:
    doc = city_document("https://gw")
    new_request = doc["components"]["schemas"]["NewRequest"]["properties"]
    assert (new_request["duration_s"]["minimum"], new_request["duration_s"]["maximum"]) == (
        SHARE_MIN_S,
        SHARE_MAX_S,
    )
    (wait,) = [
        p for p in doc["paths"]["/api/v1/requests/{request_id}"]["get"]["parameters"]
        if p["name"] == "wait"
    ]  # fmt: skip
    assert wait["schema"]["maximum"] == MAX_WAIT_S


def test_the_owner_document_publishes_the_camera_cap_and_the_audit_page() -> None:
    doc = owner_document()
    camera: dict[str, Any] = doc["components"]["schemas"]["Camera"]["properties"]
    assert camera["max_duration_s"]["maximum"] == SHARE_MAX_S
    assert camera["max_duration_s"]["default"] == CAMERA_DEFAULT_MAX_S
    (limit,) = [
        p for p in doc["paths"]["/api/v1/audit"]["get"]["parameters"] if p["name"] == "limit"
    ]
    assert limit["schema"]["maximum"] == MAX_AUDIT_PAGE


@pytest.mark.parametrize(("value", "ok"), [(SHARE_MIN_S - 1, False), (SHARE_MIN_S, True),
                                           (SHARE_MAX_S, True), (SHARE_MAX_S + 1, False)])  # fmt: skip
def test_the_camera_cap_is_validated_at_the_same_bounds(value: int, ok: bool) -> None:
    camera = {**CAMERA, "max_duration_s": value}
    if ok:
        assert CAMERA_SCHEMA(camera)["max_duration_s"] == value
    else:
        with pytest.raises(vol.Invalid):
            CAMERA_SCHEMA(camera)


def test_a_camera_without_a_cap_gets_the_default() -> None:
    assert CAMERA_SCHEMA(CAMERA)["max_duration_s"] == CAMERA_DEFAULT_MAX_S
