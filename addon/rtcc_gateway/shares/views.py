"""What each side sees of requests and shares: pure functions from state to JSON-ready dicts.

The city sees statuses, windows and links, never the owner's reasons; the owner sees everything
but camera sources. The audit records and events are built here too, so each shape has one home.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rtcc_gateway.config import Agency, Location, camera_to_dict, policy_to_dict
from rtcc_gateway.policy import (
    CameraDecision,
    CityAsk,
    OwnerState,
    Reason,
    blocking_reason,
    is_paused,
    is_stale,
)
from rtcc_gateway.shares.book import RequestState
from rtcc_gateway.shares.links import Links
from rtcc_gateway.shares.owner_policy import lease_end
from rtcc_gateway.shares.status import ShareStatus, is_active, request_status
from rtcc_gateway.store import ShareRow, iso


def city_ask(body: dict[str, Any], start: datetime) -> CityAsk:
    """What the policy decides on, from a validated request body."""
    camera_ids = body.get("camera_ids")
    return CityAsk(
        location=Location(body["location"]["lat"], body["location"]["lon"]),
        radius_m=body["radius_m"],
        camera_ids=None if camera_ids is None else tuple(camera_ids),
        start=start,
        duration_s=body.get("duration_s"),
    )


def city_view(state: RequestState, links: Links) -> dict[str, Any]:
    """The request as the city sees it: no reasons, links only while live or scheduled."""
    shares = []
    for share in state.shares:
        view: dict[str, Any] = {
            "share_id": share.id,
            "camera_id": share.camera_id,
            "status": str(share.status),
        }
        if share.starts_at is not None and share.status != ShareStatus.DECLINED:
            view["starts_at"] = iso(share.starts_at)
            view["ends_at"] = iso(share.ends_at)
        if is_active(share) and share.token:
            view["links"] = links.for_token(share.token)
        shares.append(view)
    return {"request_id": state.row.id, "status": request_status(state.shares), "shares": shares}


def request_event(state: RequestState) -> dict[str, Any]:
    """A request as the owner's events and /state show it."""
    body = state.row.body
    return {
        "request_id": state.row.id,
        "agency": state.agency_name,
        "incident_id": body["incident_id"],
        "offense": body["offense"],
        "reason": body["reason"],
        "camera_ids": [s.camera_id for s in state.shares],
        "status": request_status(state.shares),
        "start": body.get("start"),
        "duration_s": body.get("duration_s"),
    }


def not_offered(
    owner: OwnerState, ask: CityAsk, decisions: Iterable[CameraDecision]
) -> dict[str, str]:
    """For the owner's log: why each camera was left out of a request that named none."""
    if ask.camera_ids is not None:
        return {}
    offered = {d.camera_id for d in decisions}
    return {
        c.id: str(Reason.CONSENT_OFF if not c.consent else Reason.OUTSIDE_RADIUS)
        for c in owner.cameras
        if c.id not in offered
    }


def received_record(
    state: RequestState, owner: OwnerState, ask: CityAsk, decisions: list[CameraDecision]
) -> dict[str, Any]:
    """The audit record of a city request as it came in."""
    body = state.row.body
    return {
        "request_id": state.row.id,
        "agency": state.row.agency_id,
        "incident_id": body["incident_id"],
        "offense": body["offense"],
        "reason": body["reason"],
        "location": body["location"],
        "radius_m": body["radius_m"],
        "camera_ids": body.get("camera_ids"),
        "start": body["start"],
        "duration_s": body.get("duration_s"),
        "not_offered": not_offered(owner, ask, decisions),
    }


def decided_record(share: ShareRow, decision: CameraDecision, agency: Agency) -> dict[str, Any]:
    """The audit record of the policy's decision for one camera."""
    return {
        "request_id": share.request_id,
        "share_id": share.id,
        "agency": agency.id,
        "camera_id": share.camera_id,
        "outcome": decision.outcome,
        "reason": None if decision.reason is None else str(decision.reason),
        "duration_s": share.duration_s,
        "cut_to_owner_max": share.cut,
        "starts_at": iso(share.starts_at),
        "ends_at": iso(share.ends_at),
    }


def declined_record(share: ShareRow, reason: Reason) -> dict[str, Any]:
    """The audit record of a pending share declined later (owner, timeout, policy)."""
    return {
        "request_id": share.request_id,
        "share_id": share.id,
        "camera_id": share.camera_id,
        "outcome": "decline",
        "reason": str(reason),
    }


def window_record(share: ShareRow) -> dict[str, Any]:
    """A share and its window (share_started, owner_approved)."""
    return {
        "request_id": share.request_id,
        "share_id": share.id,
        "camera_id": share.camera_id,
        "starts_at": iso(share.starts_at),
        "ends_at": iso(share.ends_at),
    }


def ended_record(share: ShareRow, reason: Reason | str, *, restored: bool) -> dict[str, Any]:
    """The share_ended record and event."""
    detail = {
        "request_id": share.request_id,
        "share_id": share.id,
        "camera_id": share.camera_id,
        "reason": str(reason),
    }
    if restored:
        detail["note"] = "ended while the gateway was not running"
    return detail


def owner_state(
    owner: OwnerState,
    active: Iterable[ShareRow],
    pending_requests: Iterable[RequestState],
    viewers: Mapping[str, int],
    now: datetime,
) -> dict[str, Any]:
    """GET /api/v1/state: cameras, pending requests, live shares, the policy in force."""
    active = list(active)
    pending_states = list(pending_requests)
    by_camera: dict[str, set[str]] = {}
    for share in active:
        by_camera.setdefault(share.camera_id, set()).add(share.status)
    for state in pending_states:
        for share in state.shares:
            if share.status == ShareStatus.PENDING:
                by_camera.setdefault(share.camera_id, set()).add(ShareStatus.PENDING)
    cameras = []
    for camera in owner.cameras:
        statuses = by_camera.get(camera.id, set())
        blocked = blocking_reason(owner, camera.id, now) if camera.consent else None
        order = (ShareStatus.LIVE, ShareStatus.SCHEDULED, ShareStatus.PENDING)
        status = next(
            (str(s) for s in order if s in statuses),
            "blocked" if blocked is not None else "idle",
        )
        cameras.append(
            {
                **camera_to_dict(camera, with_source=False),
                "status": status,
                "blocked_reason": None if blocked is None else str(blocked),
                "viewers": sum(
                    viewers.get(s.token or "", 0)
                    for s in active
                    if s.camera_id == camera.id and s.status == ShareStatus.LIVE
                ),
            }
        )
    pending = []
    for state in pending_states:
        waiting = [s for s in state.shares if s.status == ShareStatus.PENDING]
        if not waiting:
            continue  # decided a moment ago; the book forgets it as pending right after
        pending.append(
            {
                **request_event(state),
                "pending_camera_ids": [s.camera_id for s in waiting],
                "approve_by": iso(
                    min((s.approve_by for s in waiting if s.approve_by), default=None)
                ),
            }
        )
    live = [
        {
            "share_id": s.id,
            "request_id": s.request_id,
            "camera_id": s.camera_id,
            "status": str(s.status),
            "starts_at": iso(s.starts_at),
            "ends_at": iso(s.ends_at),
            "viewers": viewers.get(s.token or "", 0),
        }
        for s in active
    ]
    return {
        "cameras": cameras,
        "pending_requests": pending,
        "shares": live,
        "policy": policy_to_dict(owner.policy),
        "paused": is_paused(owner.policy, now),
        "stale": is_stale(owner, now),
        "lease_ends_at": iso(lease_end(owner)),
    }
