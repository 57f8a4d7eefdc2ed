"""The OpenAPI 3.1 documents: the owner API's here, the city API's in openapi_city.py.

The tests check every response they provoke against these documents.
"""

from __future__ import annotations

from typing import Any

from rtcc_gateway import __version__
from rtcc_gateway.limits import MAX_AUDIT_PAGE
from rtcc_gateway.openapi_city import city_document
from rtcc_gateway.openapi_owner_parts import (
    EVENT_REPLAY,
    EVENTS_PARAMETERS,
    EVENTS_SUMMARY,
    VIEWERS_NOW,
)
from rtcc_gateway.openapi_parts import (
    CAMERA,
    LOCATION,
    NULLABLE_TIME,
    POLICY,
    PROBLEM,
    STORAGE_503,
    json_response,
    path_id,
    problem_response,
    query,
)

__all__ = ["city_document", "owner_document"]


def owner_document() -> dict[str, Any]:
    """The owner API's OpenAPI 3.1 document (served on the owner listener only)."""
    ok_state = {"200": json_response("The state after the change.", "State")}
    errors = {
        "400": problem_response("Invalid body or query (named in invalid_params)."),
        "401": problem_response("Missing or wrong owner token."),
        "503": STORAGE_503,
    }

    def optional_body(properties: dict[str, Any]) -> dict[str, Any]:
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        return {"required": False, "content": {"application/json": {"schema": schema}}}

    camera_id = {"type": "string", "minLength": 1, "maxLength": 64}
    camera_ids_body = optional_body(
        {"camera_ids": {"type": "array", "minItems": 1, "maxItems": 100, "items": camera_id}}
    )
    request_id = [path_id("request_id")]

    def op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "summary": summary,
            "security": [{"bearer": []}],
            "responses": {**responses, **errors},
            **extra,
        }

    def decide_op(summary: str) -> dict[str, Any]:
        responses = {
            "200": json_response("The request.", "RequestView"),
            "404": problem_response("No such request."),
            "409": problem_response(
                "None of the named cameras (or none at all) still waits for a "
                "decision: decided already, or the request ended."
            ),
        }
        return op(summary, responses, parameters=request_id, requestBody=camera_ids_body)

    return {
        "openapi": "3.1.0",
        "info": {"title": "rtcc_share owner API", "version": __version__},
        "paths": {
            "/api/v1/info": {
                "get": op("Who this gateway is", {"200": json_response("Info.", "Info")})
            },
            "/api/v1/openapi.json": {
                "get": op(
                    "This document",
                    {
                        "200": {
                            "description": "The document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                )
            },
            "/api/v1/policy": {
                "put": op(
                    "Replace policy and cameras; renews the owner lease",
                    ok_state,
                    requestBody={
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PolicyPush"}
                            }
                        },
                    },
                )
            },
            "/api/v1/state": {
                "get": op("Current state", {"200": json_response("State.", "State")})
            },
            "/api/v1/requests/{request_id}/approve": {
                "post": decide_op("Approve pending cameras (default all)")
            },
            "/api/v1/requests/{request_id}/deny": {
                "post": decide_op("Deny pending cameras (default all)")
            },
            "/api/v1/shares/{share_id}/revoke": {
                "post": op(
                    "End one share now",
                    {
                        "200": json_response("Done.", "Revoked"),
                        "404": problem_response("No such share."),
                    },
                    parameters=[path_id("share_id")],
                )
            },
            "/api/v1/revoke": {
                "post": op(
                    "End every share of a camera, or of all",
                    {"200": json_response("Done.", "Revoked")},
                    requestBody=optional_body({"camera_id": camera_id}),
                )
            },
            "/api/v1/pause": {
                "post": op(
                    "Pause sharing (optionally until a time)",
                    ok_state,
                    requestBody=optional_body({"until": NULLABLE_TIME}),
                )
            },
            "/api/v1/resume": {"post": op("Resume sharing", ok_state)},
            "/api/v1/audit": {
                "get": op(
                    "Audit records after a sequence number",
                    {"200": json_response("Records.", "AuditPage")},
                    parameters=[
                        query("after", {"type": "integer", "minimum": 0}),
                        query(
                            "limit", {"type": "integer", "minimum": 0, "maximum": MAX_AUDIT_PAGE}
                        ),
                    ],
                )
            },
            "/api/v1/audit/verify": {
                "get": op(
                    "Verify the whole hash chain (optionally that it holds a head)",
                    {"200": json_response("Result.", "Verify")},
                    parameters=[
                        query("head", {"type": "string", "pattern": "^[0-9]+:[0-9a-f]{64}$"})
                    ],
                )
            },
            "/api/v1/transparency": {
                "get": op("Per-agency figures", {"200": json_response("Figures.", "Transparency")})
            },
            "/api/v1/events": {
                "get": op(
                    EVENTS_SUMMARY,
                    {
                        "101": {"description": "Switching to WebSocket."},
                        "200": json_response("The held events after the cursor.", "EventReplay"),
                    },
                    parameters=EVENTS_PARAMETERS,
                )
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": PROBLEM,
                "Info": {
                    "type": "object",
                    "required": [
                        "gateway_id",
                        "version",
                        "restreamer",
                        "public_base_url",
                        "rtsp_base_url",
                    ],
                    "properties": {
                        "gateway_id": {"type": "string"},
                        "version": {"type": "string"},
                        "restreamer": {"enum": ["direct", "go2rtc"]},
                        "public_base_url": {"type": "string"},
                        "rtsp_base_url": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
                "PolicyPush": {
                    "type": "object",
                    "required": ["policy", "cameras"],
                    "properties": {
                        "policy": {"$ref": "#/components/schemas/Policy"},
                        "cameras": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Camera"},
                            "description": "GATEWAY.md `cameras`; every id once.",
                        },
                    },
                    "additionalProperties": False,
                },
                "Policy": POLICY,
                "Camera": CAMERA,
                "RequestView": {"type": "object", "required": ["request_id", "status", "shares"]},
                "Revoked": {
                    "type": "object",
                    "required": ["revoked"],
                    "properties": {"revoked": {"type": "integer", "minimum": 0}},
                    "additionalProperties": False,
                },
                "State": {
                    "type": "object",
                    "required": [
                        "cameras",
                        "pending_requests",
                        "shares",
                        "policy",
                        "paused",
                        "stale",
                        "lease_ends_at",
                    ],
                    "properties": {
                        "cameras": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "label", "status", "viewers", "consent"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "label": {"type": "string"},
                                    "status": {
                                        "enum": ["idle", "pending", "scheduled", "live", "blocked"]
                                    },
                                    "blocked_reason": {"type": ["string", "null"]},
                                    "viewers": {"type": "integer", "minimum": 0},
                                    "consent": {"type": "boolean"},
                                    "approval": {"enum": ["ask", "auto"]},
                                    "max_duration_s": {"type": "integer"},
                                    "share_audio": {"type": "boolean"},
                                    "location": LOCATION,
                                },
                                "not": {"required": ["source"]},
                            },
                        },
                        "pending_requests": {"type": "array", "items": {"type": "object"}},
                        "shares": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": [
                                    "share_id",
                                    "request_id",
                                    "camera_id",
                                    "status",
                                    "starts_at",
                                    "ends_at",
                                    "viewers",
                                    "viewers_now",
                                ],
                                "properties": {"viewers_now": VIEWERS_NOW},
                                "not": {
                                    "anyOf": [{"required": ["token"]}, {"required": ["links"]}]
                                },
                            },
                        },
                        "policy": {"type": "object"},
                        "paused": {"type": "boolean"},
                        "stale": {"type": "boolean"},
                        "lease_ends_at": NULLABLE_TIME,
                    },
                },
                "EventReplay": EVENT_REPLAY,
                "AuditRecord": {
                    "type": "object",
                    "required": ["seq", "ts", "kind", "detail", "prev_hash", "hash"],
                    "properties": {
                        "seq": {"type": "integer", "minimum": 1},
                        "ts": {"type": "string"},
                        "kind": {"type": "string"},
                        "detail": {"type": "object"},
                        "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                    "additionalProperties": False,
                },
                "AuditPage": {
                    "type": "object",
                    "required": ["records"],
                    "properties": {
                        "records": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/AuditRecord"},
                        }
                    },
                },
                "Verify": {
                    "type": "object",
                    "required": ["ok", "count", "head", "first_bad"],
                    "properties": {
                        "ok": {"type": "boolean"},
                        "count": {"type": "integer"},
                        "head": {
                            "type": ["object", "null"],
                            "properties": {"seq": {"type": "integer"}, "hash": {"type": "string"}},
                        },
                        "first_bad": {"type": ["integer", "null"]},
                    },
                },
                "Transparency": {
                    "type": "object",
                    "required": ["agencies"],
                    "properties": {
                        "agencies": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": [
                                    "agency",
                                    "name",
                                    "requests",
                                    "approved",
                                    "declined",
                                    "minutes_live",
                                    "minutes_viewed",
                                    "viewers",
                                ],
                            },
                        }
                    },
                },
            },
        },
    }
