"""Schemas and responses both OpenAPI documents share (limits from limits.py)."""

from __future__ import annotations

from typing import Any, Final

from rtcc_gateway import limits
from rtcc_gateway.config import DAYS
from rtcc_gateway.validators import ID_PATTERN

PLAIN_TEXT: Final = {
    "not": {"pattern": "[\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]"}
}
TEXT_RULE: Final = (
    "No control characters (U+0000-U+001F, U+007F-U+009F), bidirectional controls "
    "(U+202A-U+202E, U+2066-U+2069) or unpaired surrogates: 400 naming the field."
)

PROBLEM: Final = {
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

LOCATION: Final = {
    "type": "object",
    "required": ["lat", "lon"],
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
    },
    "additionalProperties": False,
}

TIME: Final = {"type": "string", "format": "date-time"}
NULLABLE_TIME: Final = {"type": ["string", "null"], "format": "date-time"}


CLOCK: Final = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}

POLICY: Final = {
    "type": "object",
    "description": "GATEWAY.md `policy`.",
    "required": ["timezone"],
    "properties": {
        "timezone": {"type": "string", "minLength": 1, "description": "An IANA timezone name."},
        "paused": {"type": "boolean", "default": False},
        "paused_until": NULLABLE_TIME,
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
                    "start": CLOCK,
                    "end": {**CLOCK, "description": "Not equal to start."},
                },
                "additionalProperties": False,
            },
        },
        "approval_timeout_s": {
            "type": "integer",
            "minimum": limits.APPROVAL_TIMEOUT_MIN_S,
            "maximum": limits.APPROVAL_TIMEOUT_MAX_S,
        },
        "owner_lease_s": {
            "type": "integer",
            "minimum": 0,
            "maximum": limits.MAX_LEASE_S,
            "description": "0: no lease.",
        },
    },
    "additionalProperties": False,
}

CAMERA: Final = {
    "type": "object",
    "description": "GATEWAY.md `cameras[]`.",
    "required": ["id", "label", "source", "location"],
    "properties": {
        "id": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
        "label": {
            "type": "string",
            "minLength": 1,
            "maxLength": limits.CAMERA_LABEL_MAX_CHARS,
            **PLAIN_TEXT,
        },
        "source": {
            "type": "string",
            "pattern": "^rtsps?://[^/?#]",
            "description": "An rtsp:// or rtsps:// URL with a host; never shown back.",
        },
        "location": LOCATION,
        "consent": {"type": "boolean", "default": False},
        "approval": {"enum": ["ask", "auto"], "default": "ask"},
        "max_duration_s": {
            "type": "integer",
            "minimum": limits.SHARE_MIN_S,
            "maximum": limits.SHARE_MAX_S,
            "default": limits.CAMERA_DEFAULT_MAX_S,
        },
        "share_audio": {"type": "boolean", "default": False},
    },
    "additionalProperties": False,
}


def path_id(name: str) -> dict[str, Any]:
    """The id a path names (`/…/{name}`): required, a string."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def query(name: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A query parameter with its schema (and e.g. `description`, `required`)."""
    return {"name": name, "in": "query", **extra, "schema": schema}


def problem_response(description: str) -> dict[str, Any]:
    """A response with a problem+json body (RFC 9457)."""
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def json_response(
    description: str, ref: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A JSON response whose body is the schema `ref`."""
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }
    if headers:
        out["headers"] = headers
    return out


STORAGE_503: Final = {
    **problem_response(
        "The gateway cannot write its data folder just now (a full disk, say): nothing was done; "
        "try again after Retry-After. While it cannot record the end of a share it also cuts "
        "every share and starts none."
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
}

SIGNED_ERRORS: Final = {
    "401": problem_response(
        "Missing, malformed, unknown-key, wrong, stale or replayed signature, or a body whose "
        "digest does not match. Nothing else happens; the attempt is audited."
    ),
    "429": {
        **problem_response("Over the agency's rate limit (every verified call counts)."),
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    },
    "503": STORAGE_503,
}
