"""The city API's OpenAPI document on its own: it names this gateway, every reference resolves,
only health and the document itself go unsigned, and a new request's schema accepts exactly
what the handler's validator accepts."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import voluptuous as vol
from rtcc_gateway import __version__, limits
from rtcc_gateway.api.city import REQUEST_SCHEMA
from rtcc_gateway.openapi_city import city_document

DOC = city_document("https://gw.example.net")
SIGNED = {"401", "429", "503"}
VALID: dict[str, Any] = {
    "incident_id": "JPD-2026-001234",
    "offense": "burglary",
    "reason": "Break-in reported at 123 Main St",
    "location": {"lat": 32.2988, "lon": -90.1848},
}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, item in DOC["paths"].items() for m, op in item.items()]


def test_the_document_names_this_gateway_and_its_version() -> None:
    assert DOC["openapi"] == "3.1.0"
    assert DOC["servers"] == [{"url": "https://gw.example.net"}]
    assert DOC["info"]["version"] == __version__
    assert city_document("http://other")["servers"] == [{"url": "http://other"}]


def test_every_reference_resolves_to_a_schema_of_the_document() -> None:
    found = refs(DOC)
    assert "#/components/schemas/RequestView" in found
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in DOC["components"]["schemas"], ref


def test_only_health_and_the_document_are_unsigned_and_the_rest_say_what_signing_costs() -> None:
    unsigned = {(p, m) for p, m, op in operations() if op["security"] == []}
    assert unsigned == {("/api/v1/health", "get"), ("/api/v1/openapi.json", "get")}
    for path, method, op in operations():
        if (path, method) not in unsigned:
            assert op["security"] == [{"httpSignature": []}], (path, method)
            assert set(op["responses"]) >= SIGNED, (path, method)
            assert "Retry-After" in op["responses"]["429"]["headers"]


def test_a_new_request_answers_201_or_202_with_its_location_and_the_checks_in_order() -> None:
    responses = DOC["paths"]["/api/v1/requests"]["post"]["responses"]
    assert set(responses) == {"201", "202", "400", "413", "415"} | SIGNED
    for decided in ("201", "202"):
        assert "Location" in responses[decided]["headers"]
    assert f"{limits.CITY_MAX_BODY // 1024} KiB" in responses["413"]["description"]
    assert "50 per agency, 500 in all" in responses["429"]["description"]


def test_the_long_poll_is_bounded_like_the_handler() -> None:
    (_, wait) = DOC["paths"]["/api/v1/requests/{request_id}"]["get"]["parameters"]
    assert wait["name"] == "wait"
    assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (1, limits.MAX_WAIT_S)


def schema_allows(body: dict[str, Any]) -> bool:
    schema = {**DOC, "$ref": "#/components/schemas/NewRequest"}
    return bool(jsonschema.Draft202012Validator(schema).is_valid(body))


def handler_allows(body: dict[str, Any]) -> bool:
    try:
        REQUEST_SCHEMA(body)
    except vol.Invalid:
        return False
    return True


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"radius_m": 1},
        {"radius_m": limits.RADIUS_MAX_M},
        {"radius_m": limits.RADIUS_MAX_M + 1},
        {"radius_m": 0},
        {"duration_s": limits.SHARE_MIN_S},
        {"duration_s": limits.SHARE_MIN_S - 1},
        {"duration_s": limits.SHARE_MAX_S},
        {"duration_s": limits.SHARE_MAX_S + 1},
        {"camera_ids": ["front_door"]},
        {"camera_ids": []},
        {"offense": ""},
        {"offense": "x" * limits.OFFENSE_MAX_CHARS},
        {"offense": "x" * (limits.OFFENSE_MAX_CHARS + 1)},
        {"reason": "x" * (limits.REASON_MAX_CHARS + 1)},
        {"incident_id": "has space"},
        {"location": {"lat": 91, "lon": 0}},
        {"location": {"lat": 0, "lon": 0, "alt": 1}},
        {"agency": "jpd"},
    ],
    ids=repr,
)
def test_a_new_request_schema_allows_what_the_handler_allows(changes: dict[str, Any]) -> None:
    body = {**VALID, **changes}
    assert schema_allows(body) == handler_allows(body)


def test_a_new_request_needs_the_incident_offense_reason_and_place() -> None:
    for missing in VALID:
        body = {k: v for k, v in VALID.items() if k != missing}
        assert not schema_allows(body), missing
        assert not handler_allows(body), missing
