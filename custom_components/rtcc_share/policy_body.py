"""The owner's policy and cameras in the shapes of `PUT /api/v1/policy` (GATEWAY.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from homeassistant.core import HomeAssistant

from .cameras import RegisteredCamera
from .const import CONF_APPROVAL_TIMEOUT, DEFAULT_APPROVAL_TIMEOUT_MIN, OWNER_LEASE_S
from .settings import CameraSettings, OwnerSettings

# The gateway's own bounds (GATEWAY.md): the integration never sends what it would refuse.
MIN_APPROVAL_TIMEOUT_S = 30
MAX_APPROVAL_TIMEOUT_S = 86400
MIN_SHARE_S = 60
MAX_SHARE_S = 43200


def policy_body(
    hass: HomeAssistant,
    options: Mapping[str, Any],
    settings: OwnerSettings,
    cameras: Iterable[RegisteredCamera],
    camera_settings: Callable[[str], CameraSettings],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The policy and the list of shareable cameras (with their sources read last)."""
    timeout_min = int(options.get(CONF_APPROVAL_TIMEOUT, DEFAULT_APPROVAL_TIMEOUT_MIN))
    paused = settings.is_paused()
    policy = {
        "timezone": str(hass.config.time_zone),
        "paused": paused,
        "paused_until": settings.paused_until.isoformat()
        if paused and settings.paused_until is not None
        else None,
        "privacy_windows": [w.to_json() for w in settings.all_windows()],
        "approval_timeout_s": max(
            MIN_APPROVAL_TIMEOUT_S, min(MAX_APPROVAL_TIMEOUT_S, timeout_min * 60)
        ),
        "owner_lease_s": OWNER_LEASE_S,
    }
    location = {
        "lat": round(float(hass.config.latitude), 6),
        "lon": round(float(hass.config.longitude), 6),
    }
    body = []
    for camera in cameras:
        if not camera.shareable or camera.source is None:
            continue
        chosen = camera_settings(camera.camera_id)
        body.append(
            {
                "id": camera.camera_id,
                "label": camera.name[:100] or camera.camera_id,
                "source": camera.source,
                "location": location,
                "consent": chosen.consent,
                "approval": chosen.approval,
                "max_duration_s": max(MIN_SHARE_S, min(MAX_SHARE_S, chosen.max_minutes * 60)),
                "share_audio": False,
            }
        )
    return policy, body
