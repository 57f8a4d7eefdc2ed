"""The rows the store keeps, and their conversion to and from SQLite values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

SHARE_COLUMNS: Final = (
    "id, request_id, camera_id, status, token, duration_s, cut, starts_at, ends_at, approve_by, "
    "ended_at, reason"
)

type Statement = tuple[str, tuple[Any, ...]]


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z (whole seconds: every time the gateway sets is whole seconds)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """The inverse of `iso`."""
    return None if text is None else datetime.fromisoformat(text)


@dataclass(slots=True, kw_only=True)
class ShareRow:
    """One share as stored; a new one has no token, window, deadline, end or reason yet."""

    id: str
    request_id: str
    camera_id: str
    status: str
    duration_s: int
    cut: bool
    token: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    approve_by: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None


@dataclass(slots=True)
class RequestRow:
    """One city request as stored (the validated body, as JSON)."""

    id: str
    agency_id: str
    created_at: datetime
    body: dict[str, Any]
    ended_at: datetime | None = None


@dataclass(slots=True)
class AgencyTotals:
    """Transparency figures of requests no longer in memory."""

    requests: int = 0
    approved: int = 0
    declined: int = 0
    seconds_live: float = 0.0


def viewer_opened(viewer_id: str, connected_at: datetime, detail: Mapping[str, Any]) -> Statement:
    """The statement that remembers a connected viewer (run with its audit record)."""
    return (
        "INSERT OR REPLACE INTO open_viewers(viewer_id, connected_at, detail) VALUES(?, ?, ?)",
        (viewer_id, iso(connected_at), json.dumps(dict(detail))),
    )


def viewer_closed(viewer_id: str) -> Statement:
    """The statement that forgets a viewer (run with its disconnect record)."""
    return ("DELETE FROM open_viewers WHERE viewer_id = ?", (viewer_id,))


def request_from_row(r: Any) -> RequestRow:
    """A request from its database row."""
    created = parse_iso(r[2])
    assert created is not None  # noqa: S101 - the column is NOT NULL
    return RequestRow(
        id=r[0], agency_id=r[1], created_at=created, body=json.loads(r[3]), ended_at=parse_iso(r[4])
    )


def share_from_row(r: Any) -> ShareRow:
    """A share from its database row."""
    return ShareRow(
        id=r[0],
        request_id=r[1],
        camera_id=r[2],
        status=r[3],
        token=r[4],
        duration_s=int(r[5]),
        cut=bool(r[6]),
        starts_at=parse_iso(r[7]),
        ends_at=parse_iso(r[8]),
        approve_by=parse_iso(r[9]),
        ended_at=parse_iso(r[10]),
        reason=r[11],
    )


def share_values(s: ShareRow) -> tuple[Any, ...]:
    """A share as the values of its row, in SHARE_COLUMNS order."""
    return (
        s.id,
        s.request_id,
        s.camera_id,
        s.status,
        s.token,
        s.duration_s,
        int(s.cut),
        iso(s.starts_at),
        iso(s.ends_at),
        iso(s.approve_by),
        iso(s.ended_at),
        s.reason,
    )
