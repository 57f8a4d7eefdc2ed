"""The OpenAPI 3.1 documents of the city API and the owner API, written to match the handlers.

Request rules are public here as code (CITY-API.md): field limits, the order of checks, the
statuses. The tests check every response they provoke against these documents.
"""

from __future__ import annotations

from typing import Any, Final

from rtcc_gateway import __version__
from rtcc_gateway.config import DAYS, MAX_LEASE_S

# City text may hold any Unicode except controls and bidirectional controls (api/validate.py).
# Said as "no such character anywhere" rather than an anchored pattern, because `$` in Python's
# regexes (unlike ECMA's) also matches before a final newline. Written with \\u escapes, which
# both dialects read.
_PLAIN_TEXT: Final = {
    "not": {"pattern": "[\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]"}
}
_TEXT_RULE: Final = (
    "No control characters (U+0000-U+001F, U+007F-U+009F), bidirectional controls "
    "(U+202A-U+202E, U+2066-U+2069) or unpaired surrogates: 400 naming the field."
)

_PROBLEM: Final = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

_LOCATION: Final = {
    "type": "object",
    "required": ["lat", "lon"],
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
    },
    "additionalProperties": False,
}

_TIME: Final = {"type": "string", "format": "date-time"}
_NULLABLE_TIME: Final = {"type": ["string", "null"], "format": "date-time"}


_CLOCK: Final = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}

_POLICY: Final = {
    "type": "object",
    "description": "GATEWAY.md `policy`.",
    "required": ["timezone"],
    "properties": {
        "timezone": {"type": "string", "minLength": 1, "description": "An IANA timezone name."},
        "paused": {"type": "boolean", "default": False},
        "paused_until": _NULLABLE_TIME,
        "privacy_windows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["days", "start", "end"],
                "properties": {
                    "days": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 7,
                        "uniqueItems": True,
                        "items": {"enum": list(DAYS)},
                        "description": "The days a window starts on.",
                    },
                    "start": _CLOCK,
                    "end": {**_CLOCK, "description": "Not equal to start."},
                },
                "additionalProperties": False,
            },
        },
        "approval_timeout_s": {"type": "integer", "minimum": 30, "maximum": 86400},
        "owner_lease_s": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_LEASE_S,
            "description": "0: no lease.",
        },
    },
    "additionalProperties": False,
}

_CAMERA: Final = {
    "type": "object",
    "description": "GATEWAY.md `cameras[]`.",
    "required": ["id", "label", "source", "location"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
        "label": {"type": "string", "minLength": 1, "maxLength": 100, **_PLAIN_TEXT},
        "source": {
            "type": "string",
            "pattern": "^rtsps?://[^/?#]",
            "description": "An rtsp:// or rtsps:// URL with a host; never shown back.",
        },
        "location": _LOCATION,
        "consent": {"type": "boolean", "default": False},
        "approval": {"enum": ["ask", "auto"], "default": "ask"},
        "max_duration_s": {"type": "integer", "minimum": 60, "maximum": 43200, "default": 3600},
        "share_audio": {"type": "boolean", "default": False},
    },
    "additionalProperties": False,
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _json_response(
    description: str, ref: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }
    if headers:
        out["headers"] = headers
    return out


_STORAGE_503: Final = {
    **_problem_response(
        "The gateway cannot write its data folder just now (a full disk, say): nothing was done; "
        "try again after Retry-After. While it cannot record the end of a share it also cuts "
        "every share and starts none."
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
}

_SIGNED_ERRORS: Final = {
    "401": _problem_response(
        "Missing, malformed, unknown-key, wrong, stale or replayed signature, or a body whose "
        "digest does not match. Nothing else happens; the attempt is audited."
    ),
    "429": {
        **_problem_response("Over the agency's rate limit (every verified call counts)."),
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    },
    "503": _STORAGE_503,
}


def city_document(base_url: str) -> dict[str, Any]:
    """The city API's OpenAPI 3.1 document."""
    request_path = {
        "get": {
            "summary": "The request as it stands (only for the agency that made it)",
            "security": [{"httpSignature": []}],
            "parameters": [
                {
                    "name": "request_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
                {
                    "name": "wait",
                    "in": "query",
                    "required": False,
                    "description": "Long-poll up to this many seconds while pending.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 60},
                },
            ],
            "responses": {
                "200": _json_response("The request.", "RequestView"),
                "400": _problem_response("`wait` out of range."),
                "404": _problem_response(
                    "No such request for this agency, or it ended more than 7 days ago."
                ),
                **_SIGNED_ERRORS,
            },
        },
        "delete": {
            "summary": "End the request early: every share of it is cut now (idempotent)",
            "security": [{"httpSignature": []}],
            "parameters": [
                {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "204": {"description": "Ended (also when repeated)."},
                "404": _problem_response(
                    "No such request for this agency, or it ended more than 7 days ago."
                ),
                **_SIGNED_ERRORS,
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rtcc_share city API",
            "version": __version__,
            "description": (
                "Signed requests (RFC 9421, Ed25519, label sig1, components @method @target-uri "
                "and content-digest for bodies, created within 300 s, single-use nonce). Checks "
                "run in order: size 413, content type 415, signature 401, rate limit 429, body "
                "400. Bodies are strict JSON: a key given twice in one object, NaN/Infinity or an "
                "integer of more than 20 digits is a 400, and so is any string holding a control "
                "character (U+0000-U+001F, U+007F-U+009F), a bidirectional control "
                "(U+202A-U+202E, U+2066-U+2069) or an unpaired surrogate; invalid_params names "
                "the field. Numbers in queries are ASCII digits only. Declines carry no reason. "
                "Links work only from starts_at to ends_at. At most 50 requests per agency (500 "
                "in all) may wait for the owner at once; one more that would wait is a 429. A "
                "request can be read for 7 days after it ended, then 404. A 503 means the gateway "
                "cannot write its data folder."
            ),
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/api/v1/health": {
                "get": {
                    "summary": "Liveness (unauthenticated)",
                    "security": [],
                    "responses": {"200": _json_response("Up.", "Health")},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/api/v1/cameras": {
                "get": {
                    "summary": "Cameras with consent on (whether or not paused or scheduled off)",
                    "security": [{"httpSignature": []}],
                    "responses": {
                        "200": _json_response("The cameras.", "CameraList"),
                        **_SIGNED_ERRORS,
                    },
                }
            },
            "/api/v1/requests": {
                "post": {
                    "summary": "Ask for live video for an incident",
                    "security": [{"httpSignature": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/NewRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json_response(
                            "Decided.",
                            "RequestView",
                            {"Location": {"schema": {"type": "string", "format": "uri"}}},
                        ),
                        "202": _json_response(
                            "Some cameras wait for the owner.",
                            "RequestView",
                            {"Location": {"schema": {"type": "string", "format": "uri"}}},
                        ),
                        "400": _problem_response(
                            "Unparsable JSON, not UTF-8, a duplicate key, or invalid fields "
                            "(each named in invalid_params)."
                        ),
                        "413": _problem_response("Body over 16 KiB."),
                        "415": _problem_response("Not application/json in UTF-8."),
                        **_SIGNED_ERRORS,
                        "429": {
                            **_SIGNED_ERRORS["429"],
                            "description": (
                                "Over the agency's rate limit, or the request would wait for "
                                "the owner while too many already do: 50 per agency, 500 in all "
                                "(Retry-After: until the first of them times out). Nothing is "
                                "recorded."
                            ),
                        },
                    },
                }
            },
            "/api/v1/requests/{request_id}": request_path,
        },
        "components": {
            "securitySchemes": {
                "httpSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Signature",
                    "description": "RFC 9421 signature with Signature-Input; see info.description.",
                }
            },
            "schemas": {
                "Problem": _PROBLEM,
                "Health": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"const": "ok"}},
                    "additionalProperties": False,
                },
                "Location": _LOCATION,
                "CameraList": {
                    "type": "object",
                    "required": ["cameras"],
                    "properties": {
                        "cameras": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "label", "location", "formats"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "label": {"type": "string"},
                                    "location": {"$ref": "#/components/schemas/Location"},
                                    "formats": {
                                        "type": "array",
                                        "items": {"enum": ["rtsp", "mp4", "hls"]},
                                    },
                                },
                                "additionalProperties": False,
                            },
                        }
                    },
                    "additionalProperties": False,
                },
                "NewRequest": {
                    "type": "object",
                    "required": ["incident_id", "offense", "reason", "location"],
                    "properties": {
                        "incident_id": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"},
                        "offense": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 64,
                            **_PLAIN_TEXT,
                            "description": _TEXT_RULE,
                        },
                        "reason": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 500,
                            **_PLAIN_TEXT,
                            "description": _TEXT_RULE,
                        },
                        "location": {"$ref": "#/components/schemas/Location"},
                        "radius_m": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 300,
                        },
                        "camera_ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 100,
                            "items": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 64,
                                **_PLAIN_TEXT,
                            },
                        },
                        "start": {
                            **_TIME,
                            "description": "Default now; from 60 s ago to 24 h ahead.",
                        },
                        "duration_s": {
                            "type": "integer",
                            "minimum": 60,
                            "maximum": 43200,
                            "description": "Default and cap: the owner's maximum for the camera.",
                        },
                    },
                    "additionalProperties": False,
                },
                "RequestView": {
                    "type": "object",
                    "required": ["request_id", "status", "shares"],
                    "properties": {
                        "request_id": {"type": "string", "pattern": "^req_"},
                        "status": {
                            "enum": [
                                "approved",
                                "partially_approved",
                                "pending",
                                "declined",
                                "ended",
                            ]
                        },
                        "shares": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Share"},
                        },
                    },
                    "additionalProperties": False,
                },
                "Share": {
                    "type": "object",
                    "required": ["share_id", "camera_id", "status"],
                    "properties": {
                        "share_id": {"type": "string", "pattern": "^shr_"},
                        "camera_id": {"type": "string"},
                        "status": {"enum": ["live", "scheduled", "pending", "declined", "ended"]},
                        "starts_at": _TIME,
                        "ends_at": _TIME,
                        "links": {
                            "type": "object",
                            "required": ["rtsp"],
                            "properties": {
                                "rtsp": {"type": "string"},
                                "mp4": {"type": "string"},
                                "hls": {"type": "string"},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
            },
        },
    }


def owner_document() -> dict[str, Any]:
    """The owner API's OpenAPI 3.1 document (served on the owner listener only)."""
    ok_state = {"200": _json_response("The state after the change.", "State")}
    errors = {
        "400": _problem_response("Invalid body or query (named in invalid_params)."),
        "401": _problem_response("Missing or wrong owner token."),
        "503": _STORAGE_503,
    }

    def optional_body(properties: dict[str, Any]) -> dict[str, Any]:
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        return {"required": False, "content": {"application/json": {"schema": schema}}}

    camera_id = {"type": "string", "minLength": 1, "maxLength": 64}
    camera_ids_body = optional_body(
        {"camera_ids": {"type": "array", "minItems": 1, "maxItems": 100, "items": camera_id}}
    )
    request_id = [
        {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]

    def op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "summary": summary,
            "security": [{"bearer": []}],
            "responses": {**responses, **errors},
            **extra,
        }

    return {
        "openapi": "3.1.0",
        "info": {"title": "rtcc_share owner API", "version": __version__},
        "paths": {
            "/api/v1/info": {
                "get": op("Who this gateway is", {"200": _json_response("Info.", "Info")})
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
                "get": op("Current state", {"200": _json_response("State.", "State")})
            },
            "/api/v1/requests/{request_id}/approve": {
                "post": op(
                    "Approve pending cameras (default all)",
                    {
                        "200": _json_response("The request.", "RequestView"),
                        "404": _problem_response("No such request."),
                    },
                    parameters=request_id,
                    requestBody=camera_ids_body,
                )
            },
            "/api/v1/requests/{request_id}/deny": {
                "post": op(
                    "Deny pending cameras (default all)",
                    {
                        "200": _json_response("The request.", "RequestView"),
                        "404": _problem_response("No such request."),
                    },
                    parameters=request_id,
                    requestBody=camera_ids_body,
                )
            },
            "/api/v1/shares/{share_id}/revoke": {
                "post": op(
                    "End one share now",
                    {
                        "200": _json_response("Done.", "Revoked"),
                        "404": _problem_response("No such share."),
                    },
                    parameters=[
                        {
                            "name": "share_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                )
            },
            "/api/v1/revoke": {
                "post": op(
                    "End every share of a camera, or of all",
                    {"200": _json_response("Done.", "Revoked")},
                    requestBody=optional_body({"camera_id": camera_id}),
                )
            },
            "/api/v1/pause": {
                "post": op(
                    "Pause sharing (optionally until a time)",
                    ok_state,
                    requestBody=optional_body({"until": _NULLABLE_TIME}),
                )
            },
            "/api/v1/resume": {"post": op("Resume sharing", ok_state)},
            "/api/v1/audit": {
                "get": op(
                    "Audit records after a sequence number",
                    {"200": _json_response("Records.", "AuditPage")},
                    parameters=[
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 1000},
                        },
                    ],
                )
            },
            "/api/v1/audit/verify": {
                "get": op(
                    "Verify the whole hash chain (optionally that it holds a head)",
                    {"200": _json_response("Result.", "Verify")},
                    parameters=[
                        {
                            "name": "head",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[0-9]+:[0-9a-f]{64}$"},
                        }
                    ],
                )
            },
            "/api/v1/transparency": {
                "get": op("Per-agency figures", {"200": _json_response("Figures.", "Transparency")})
            },
            "/api/v1/events": {
                "get": op(
                    "WebSocket: one JSON object per event (seq, ts, type, ...); types: "
                    "request_received, request_decided, share_started, share_ended, "
                    "viewer_connected, viewer_disconnected, policy_stale, audit_head, "
                    "storage_failed (the data folder cannot be written: every share is cut, "
                    "none starts) and storage_recovered",
                    {"101": {"description": "Switching to WebSocket."}},
                )
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": _PROBLEM,
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
                "Policy": _POLICY,
                "Camera": _CAMERA,
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
                                    "location": _LOCATION,
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
                                ],
                                "not": {
                                    "anyOf": [{"required": ["token"]}, {"required": ["links"]}]
                                },
                            },
                        },
                        "policy": {"type": "object"},
                        "paused": {"type": "boolean"},
                        "stale": {"type": "boolean"},
                        "lease_ends_at": _NULLABLE_TIME,
                    },
                },
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
