"""The city API's OpenAPI 3.1 document, written to match the handlers (CITY-API.md).

Request rules are public here as code: field limits, the order of checks, the statuses.
"""

from __future__ import annotations

from typing import Any

from rtcc_gateway import __version__, limits
from rtcc_gateway.openapi_parts import (
    LOCATION,
    PLAIN_TEXT,
    PROBLEM,
    SIGNED_ERRORS,
    TEXT_RULE,
    TIME,
    json_response,
    path_id,
    problem_response,
    query,
)
from rtcc_gateway.validators import INCIDENT_ID_PATTERN, MAX_CAMERA_IDS, MAX_ID_CHARS


def city_document(base_url: str) -> dict[str, Any]:
    """The city API's OpenAPI 3.1 document."""
    request_path = {
        "get": {
            "summary": "The request as it stands (only for the agency that made it)",
            "security": [{"httpSignature": []}],
            "parameters": [
                path_id("request_id"),
                query(
                    "wait",
                    {"type": "integer", "minimum": 1, "maximum": limits.MAX_WAIT_S},
                    required=False,
                    description="Long-poll up to this many seconds while pending.",
                ),
            ],
            "responses": {
                "200": json_response("The request.", "RequestView"),
                "400": problem_response("`wait` out of range."),
                "404": problem_response(
                    "No such request for this agency, or it ended more than 7 days ago."
                ),
                **SIGNED_ERRORS,
            },
        },
        "delete": {
            "summary": "End the request early: every share of it is cut now (idempotent)",
            "security": [{"httpSignature": []}],
            "parameters": [path_id("request_id")],
            "responses": {
                "204": {"description": "Ended (also when repeated)."},
                "404": problem_response(
                    "No such request for this agency, or it ended more than 7 days ago."
                ),
                **SIGNED_ERRORS,
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
                    "responses": {"200": json_response("Up.", "Health")},
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
                        "200": json_response("The cameras.", "CameraList"),
                        **SIGNED_ERRORS,
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
                        "201": json_response(
                            "Decided.",
                            "RequestView",
                            {"Location": {"schema": {"type": "string", "format": "uri"}}},
                        ),
                        "202": json_response(
                            "Some cameras wait for the owner.",
                            "RequestView",
                            {"Location": {"schema": {"type": "string", "format": "uri"}}},
                        ),
                        "400": problem_response(
                            "Unparsable JSON, not UTF-8, a duplicate key, or invalid fields "
                            "(each named in invalid_params)."
                        ),
                        "413": problem_response(f"Body over {limits.CITY_MAX_BODY // 1024} KiB."),
                        "415": problem_response("Not application/json in UTF-8."),
                        **SIGNED_ERRORS,
                        "429": {
                            **SIGNED_ERRORS["429"],
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
                "Problem": PROBLEM,
                "Health": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"const": "ok"}},
                    "additionalProperties": False,
                },
                "Location": LOCATION,
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
                        "incident_id": {
                            "type": "string",
                            "pattern": f"^{INCIDENT_ID_PATTERN.pattern}$",
                        },
                        "offense": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": limits.OFFENSE_MAX_CHARS,
                            **PLAIN_TEXT,
                            "description": TEXT_RULE,
                        },
                        "reason": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": limits.REASON_MAX_CHARS,
                            **PLAIN_TEXT,
                            "description": TEXT_RULE,
                        },
                        "location": {"$ref": "#/components/schemas/Location"},
                        "radius_m": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": limits.RADIUS_MAX_M,
                            "default": limits.RADIUS_DEFAULT_M,
                        },
                        "camera_ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_CAMERA_IDS,
                            "items": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_ID_CHARS,
                                **PLAIN_TEXT,
                            },
                        },
                        "start": {
                            **TIME,
                            "description": "Default now; from 60 s ago to 24 h ahead.",
                        },
                        "duration_s": {
                            "type": "integer",
                            "minimum": limits.SHARE_MIN_S,
                            "maximum": limits.SHARE_MAX_S,
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
                        "starts_at": TIME,
                        "ends_at": TIME,
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
