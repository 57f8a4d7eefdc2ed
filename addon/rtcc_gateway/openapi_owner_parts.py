"""Parts of the owner API's OpenAPI document: who watches a share now, and the event stream."""

from __future__ import annotations

from typing import Any, Final

from rtcc_gateway.openapi_parts import TIME, query

VIEWER_NOW: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["viewer_id", "connected_at", "via"],
    "properties": {
        "viewer_id": {"type": "string"},
        "connected_at": {
            **TIME,
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
            "description": "When this viewer connected, by the gateway's clock (UTC).",
        },
        "via": {"enum": ["rtsp", "mp4", "hls"], "description": "The link format it reads."},
    },
    "additionalProperties": False,
}

VIEWERS_NOW: Final[dict[str, Any]] = {
    "type": "array",
    "items": VIEWER_NOW,
    "description": "Each viewer connected now, oldest first (`viewers` counts them).",
}

_EVENT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["seq", "ts", "type"],
    "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "ts": {"type": "string"},
        "type": {"type": "string"},
    },
}

EVENT_REPLAY: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["type", "stream", "seq", "gap", "replayed", "events"],
    "properties": {
        "type": {"const": "replay"},
        "stream": {
            "type": "string",
            "description": "This gateway run's stream id (numbers restart with each run).",
        },
        "seq": {
            "type": "integer",
            "minimum": 0,
            "description": "The latest event's number (0: none yet); the next cursor.",
        },
        "gap": {
            "type": "boolean",
            "description": "True when events after the cursor are no longer held (older than "
            "the buffer, or of another run): re-read /api/v1/state.",
        },
        "replayed": {"type": "integer", "minimum": 0},
        "events": {"type": "array", "items": _EVENT},
    },
    "additionalProperties": False,
}

EVENTS_PARAMETERS: Final[list[dict[str, Any]]] = [
    query(
        "after",
        {"type": "integer", "minimum": 0},
        description="Replay the held events numbered above this (ASCII digits).",
    ),
    query(
        "stream",
        {"type": "string", "pattern": "^evs_[A-Za-z0-9_-]{1,32}$"},
        description="The run the cursor belongs to (from a `replay` answer); needs `after`.",
    ),
]

EVENTS_SUMMARY: Final = (
    "WebSocket: one JSON object per event (seq, ts, type, ...); types: "
    "request_received, request_decided, share_started, share_ended, "
    "viewer_connected, viewer_disconnected, policy_stale, audit_head, "
    "storage_failed (the data folder cannot be written: every share is cut, "
    "none starts) and storage_recovered. With `after`, the first message is "
    "{type: replay, stream, seq, gap, replayed} and the held events after the cursor follow "
    "before live ones. A plain GET with `after` answers the same as JSON (EventReplay)."
)
