"""Who may see what: the owner's policy applied to a city's ask, one camera at a time.

Default deny (ARCHITECTURE.md, rule 3): a camera is shared only when the owner consented, the
policy is fresh, sharing is not paused, no privacy window is in force when the share would start,
and the camera lies within the ask's radius; then its approval mode says whether the owner is asked
first. Asks longer than the owner's maximum for the camera are cut to it.

The reasons are for the owner's audit log only; the city is told "declined" and nothing more.

Pure: no I/O, no clock; the caller passes `now`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal

from .schedule import in_privacy_window

if TYPE_CHECKING:
    from .config import Camera, Location, Policy

EARTH_RADIUS_M: Final = 6_371_008.8  # mean Earth radius (IUGG)

type Outcome = Literal["approve", "ask", "decline"]


class Reason(StrEnum):
    """Why a camera is not shared, or why a share ended (owner-side, for the audit log)."""

    CONSENT_OFF = "consent_off"
    PAUSED = "paused"
    PRIVACY_WINDOW = "privacy_window"
    OUTSIDE_RADIUS = "outside_radius"
    STALE_POLICY = "stale_policy"
    UNKNOWN_CAMERA = "unknown_camera"
    OWNER_DENIED = "owner_denied"
    APPROVAL_TIMEOUT = "approval_timeout"
    REVOKED = "revoked"
    WINDOW_ENDED = "window_ended"
    CITY_CANCELLED = "city_cancelled"


@dataclass(frozen=True, slots=True)
class OwnerState:
    """The policy and camera registry in force.

    `pushed_at` is when the integration last pushed or refreshed them; None when they come from the
    configuration file, which never goes stale.
    """

    policy: Policy
    cameras: tuple[Camera, ...]
    pushed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CityAsk:
    """The part of a city's request the policy looks at (already validated by the API)."""

    location: Location
    radius_m: int
    camera_ids: tuple[str, ...] | None
    start: datetime
    duration_s: int | None


@dataclass(frozen=True, slots=True)
class CameraDecision:
    """The decision for one camera.

    `duration_s` is the share's length after the owner's cap (0 when declined); `cut` says the
    city asked for more than the camera's `max_duration_s`.
    """

    camera_id: str
    outcome: Outcome
    reason: Reason | None
    duration_s: int
    cut: bool


def distance_m(a: Location, b: Location) -> float:
    """Great-circle distance in metres (haversine on a sphere of the mean Earth radius)."""
    phi_a, phi_b = math.radians(a.lat), math.radians(b.lat)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(b.lon - a.lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    # Rounding can push h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def is_paused(policy: Policy, at: datetime) -> bool:
    """Whether sharing is paused at `at`; a `paused_until` that has passed means it resumed."""
    return policy.paused and (policy.paused_until is None or at < policy.paused_until)


def is_stale(state: OwnerState, at: datetime) -> bool:
    """Whether a pushed policy has outlived its owner lease (a stale policy counts as paused)."""
    lease = state.policy.owner_lease_s
    if state.pushed_at is None or lease <= 0:
        return False
    return at - state.pushed_at > timedelta(seconds=lease)


def decide(state: OwnerState, ask: CityAsk, now: datetime) -> list[CameraDecision]:
    """One decision per camera the ask concerns.

    Without `camera_ids`, every consenting camera within the radius is offered (the others are left
    out, so an empty list means none); with them, one decision per distinct id in the order given.
    """
    if ask.camera_ids is None:
        chosen: list[tuple[str, Camera | None]] = [
            (camera.id, camera)
            for camera in state.cameras
            if camera.consent and _within(camera, ask)
        ]
    else:
        by_id = {camera.id: camera for camera in state.cameras}
        chosen = [(camera_id, by_id.get(camera_id)) for camera_id in dict.fromkeys(ask.camera_ids)]
    return [_decide_one(state, ask, now, camera_id, camera) for camera_id, camera in chosen]


def blocking_reason(state: OwnerState, camera_id: str, at: datetime) -> Reason | None:
    """Why a live or scheduled share of this camera must end at `at`, or None when it may go on."""
    camera = _find(state, camera_id)
    if camera is None:
        return Reason.UNKNOWN_CAMERA
    return _owner_block(state, camera, at, at)


# --- internals ---------------------------------------------------------------------------------


def _find(state: OwnerState, camera_id: str) -> Camera | None:
    return next((camera for camera in state.cameras if camera.id == camera_id), None)


def _within(camera: Camera, ask: CityAsk) -> bool:
    return distance_m(camera.location, ask.location) <= ask.radius_m


def _owner_block(
    state: OwnerState, camera: Camera, now: datetime, starts: datetime
) -> Reason | None:
    """The owner-side checks, in order: consent, stale policy, pause, privacy window.

    The pause is read at `now`: if sharing is paused at the share's start it is paused now too, and
    the owner's present "no" wins. The privacy window is read when the share would start.
    """
    if not camera.consent:
        return Reason.CONSENT_OFF
    if is_stale(state, now):
        return Reason.STALE_POLICY
    if is_paused(state.policy, now):
        return Reason.PAUSED
    if in_privacy_window(state.policy, starts):
        return Reason.PRIVACY_WINDOW
    return None


def _decide_one(
    state: OwnerState, ask: CityAsk, now: datetime, camera_id: str, camera: Camera | None
) -> CameraDecision:
    if camera is None:
        return _decline(camera_id, Reason.UNKNOWN_CAMERA)
    reason = _owner_block(state, camera, now, max(now, ask.start))
    if reason is None and not _within(camera, ask):
        reason = Reason.OUTSIDE_RADIUS
    if reason is not None:
        return _decline(camera_id, reason)
    asked = camera.max_duration_s if ask.duration_s is None else ask.duration_s
    outcome: Outcome = "approve" if camera.approval == "auto" else "ask"
    return CameraDecision(
        camera_id=camera_id,
        outcome=outcome,
        reason=None,
        duration_s=min(asked, camera.max_duration_s),
        cut=asked > camera.max_duration_s,
    )


def _decline(camera_id: str, reason: Reason) -> CameraDecision:
    return CameraDecision(camera_id, "decline", reason, duration_s=0, cut=False)
