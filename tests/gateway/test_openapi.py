"""The OpenAPI documents type every request body fully, so a fuzzer can reach the code behind it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rtcc_gateway.openapi import city_document, owner_document

OWNER_BODIES = [
    ("put", "/api/v1/policy"),
    ("post", "/api/v1/requests/{request_id}/approve"),
    ("post", "/api/v1/requests/{request_id}/deny"),
    ("post", "/api/v1/revoke"),
    ("post", "/api/v1/pause"),
]


def _body_schema(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    body = doc["paths"][path][method]["requestBody"]
    return {**doc, **body["content"]["application/json"]["schema"]}


def _objects(schema: Any, doc: dict[str, Any], seen: set[str]) -> list[dict[str, Any]]:
    """Every object schema reachable from `schema` (following $refs once)."""
    if isinstance(schema, list):
        return [o for item in schema for o in _objects(item, doc, seen)]
    if not isinstance(schema, dict):
        return []
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return []
        seen.add(ref)
        name = ref.rsplit("/", 1)[1]
        return _objects(doc["components"]["schemas"][name], doc, seen)
    found = [schema] if schema.get("type") == "object" else []
    for key, value in schema.items():
        if key not in ("paths", "components"):
            found += _objects(value, doc, seen)
    return found


@pytest.mark.parametrize(("method", "path"), OWNER_BODIES)
def test_every_owner_body_is_typed_to_the_leaf(method: str, path: str) -> None:
    doc = owner_document()
    schema = _body_schema(doc, method, path)
    objects = _objects(doc["paths"][path][method]["requestBody"], doc, set())
    assert objects, f"{method} {path} documents no body"
    for obj in objects:
        assert obj.get("properties"), f"{method} {path}: an untyped object"
        assert obj.get("additionalProperties") is False, f"{method} {path}: open object"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_real_policy_push_is_valid_and_a_wrong_one_is_not(config_dict: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        _body_schema(owner_document(), "put", "/api/v1/policy")
    )
    push = {
        "policy": {
            "timezone": "America/Chicago",
            "privacy_windows": [{"days": ["mon", "tue"], "start": "22:00", "end": "07:00"}],
            "owner_lease_s": 900,
        },
        "cameras": config_dict["cameras"],
    }
    validator.validate(push)
    for bad in (
        {**push, "extra": 1},
        {**push, "policy": {"timezone": "UTC", "owner_lease_s": -1}},
        {**push, "policy": {"timezone": "UTC", "privacy_windows": [{"days": ["someday"]}]}},
        {**push, "cameras": [{**config_dict["cameras"][0], "label": "a\nb"}]},
        {**push, "cameras": [{**config_dict["cameras"][0], "source": "http://x"}]},
    ):
        assert not validator.is_valid(bad), bad


def test_approve_needs_at_least_one_camera_in_the_document() -> None:
    validator = jsonschema.Draft202012Validator(
        _body_schema(owner_document(), "post", "/api/v1/requests/{request_id}/approve")
    )
    assert validator.is_valid({"camera_ids": ["front_door"]})
    assert validator.is_valid({})
    assert not validator.is_valid({"camera_ids": []})
    assert not validator.is_valid({"camera_ids": [""]})


@pytest.mark.parametrize("text", ["burglary\n", "a\x00b", "x\u202ey", "\x85"])
def test_the_city_document_refuses_control_characters(text: str) -> None:
    doc = city_document("http://127.0.0.1:8443")
    schema = {**doc, **doc["components"]["schemas"]["NewRequest"]}
    body = {
        "incident_id": "A-1",
        "offense": "burglary",
        "reason": "r",
        "location": {"lat": 1, "lon": 2},
    }
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(body)
    assert not validator.is_valid({**body, "offense": text})
    assert not validator.is_valid({**body, "reason": text})
    assert not validator.is_valid({**body, "camera_ids": [text]})
