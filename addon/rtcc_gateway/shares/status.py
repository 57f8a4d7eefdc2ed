"""A share's state machine: its statuses and the transitions between them, on the row alone.

pending -> live | scheduled | declined;  scheduled -> live | ended;  live -> ended.
Nothing here writes, streams or records: `lifecycle.py` does that around these transitions.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from rtcc_gateway.policy import CameraDecision, Reason
from rtcc_gateway.store import ShareRow

TOKEN_BYTES: Final = 24  # 192 bits, URL-safe
STORAGE_FAILED: Final = "storage_failed"  # the end reason when the database cannot be written


class ShareStatus(StrEnum):
    """Where a share is in its life (CITY-API.md)."""

    PENDING = "pending"
    SCHEDULED = "scheduled"
    LIVE = "live"
    DECLINED = "declined"
    ENDED = "ended"


ACTIVE: Final = frozenset({ShareStatus.LIVE, ShareStatus.SCHEDULED})


def whole_seconds(moment: datetime) -> datetime:
    """Drop sub-seconds: every window the gateway hands out is in whole seconds."""
    return moment.replace(microsecond=0)


def is_active(share: ShareRow) -> bool:
    """Live or scheduled: it has a link the city may use."""
    return share.status in ACTIVE


def request_status(shares: Iterable[ShareRow]) -> str:
    """The request's status from its shares (CITY-API.md)."""
    statuses = [s.status for s in shares]
    if ShareStatus.PENDING in statuses:
        return "pending"
    active = sum(s in ACTIVE for s in statuses)
    if not statuses or all(s == ShareStatus.DECLINED for s in statuses):
        return "declined"
    if active == 0:
        return "ended"
    if active == len(statuses):
        return "approved"
    return "partially_approved"


def is_final(shares: Iterable[ShareRow]) -> bool:
    """Nothing is waiting and nothing can still be watched."""
    return not any(s.status == ShareStatus.PENDING or s.status in ACTIVE for s in shares)


def new_share(
    request_id: str,
    decision: CameraDecision,
    start: datetime,
    now: datetime,
    approval_timeout_s: int,
) -> ShareRow:
    """The share the policy's decision for one camera makes: declined, pending or opened."""
    share = ShareRow(
        id=f"shr_{secrets.token_urlsafe(12)}",
        request_id=request_id,
        camera_id=decision.camera_id,
        status=ShareStatus.DECLINED,
        duration_s=decision.duration_s,
        cut=decision.cut,
        reason=None if decision.reason is None else str(decision.reason),
    )
    if decision.outcome == "approve":
        open_window(share, start, now)
    elif decision.outcome == "ask":
        share.status = ShareStatus.PENDING
        share.approve_by = now + timedelta(seconds=approval_timeout_s)
    return share


def open_window(share: ShareRow, start: datetime, now: datetime) -> None:
    """Approved: a token and a window, live now or scheduled for the asked start."""
    # ends_at = max(start, moment of approval) + duration, never shortened to fit the
    # owner's schedule (that would reveal it).
    share.starts_at = whole_seconds(max(start, now))
    share.ends_at = share.starts_at + timedelta(seconds=share.duration_s)
    share.token = secrets.token_urlsafe(TOKEN_BYTES)
    share.status = ShareStatus.LIVE if share.starts_at <= now else ShareStatus.SCHEDULED
    share.approve_by = None
    share.reason = None


def go_live(share: ShareRow) -> None:
    """A scheduled share's start has come."""
    share.status = ShareStatus.LIVE


def decline_row(share: ShareRow, reason: Reason) -> None:
    """A pending share gets no: it never had a link."""
    share.status = ShareStatus.DECLINED
    share.reason = str(reason)
    share.approve_by = None


def end_row(share: ShareRow, reason: Reason | str, now: datetime) -> bool:
    """A live or scheduled share ends now; returns whether it was live (viewers to cut)."""
    was_live = share.status == ShareStatus.LIVE
    share.status = ShareStatus.ENDED
    share.ended_at = now
    share.reason = str(reason)
    return was_live
