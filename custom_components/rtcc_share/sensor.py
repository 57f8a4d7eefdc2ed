"""Sensors: per camera status and viewers; on the hub shares, requests and privacy schedule."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.components.sensor.const import SensorDeviceClass, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SHARING_STATUSES
from .data import RtccShareConfigEntry
from .entity import RtccShareCameraEntity, RtccShareEntity, setup_camera_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    _hass: HomeAssistant,
    entry: RtccShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors and two sensors per shareable camera."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        [
            ActiveSharesSensor(coordinator, "active_shares"),
            PendingRequestsSensor(coordinator, "pending_requests"),
            PrivacyScheduleSensor(coordinator, "privacy_schedule"),
        ]
    )
    setup_camera_entities(
        entry,
        coordinator,
        async_add_entities,
        lambda cid: [
            SharingStatusSensor(coordinator, cid, "sharing_status"),
            ViewersSensor(coordinator, cid, "viewers"),
        ],
    )


class SharingStatusSensor(RtccShareCameraEntity, SensorEntity):
    """not shared (consent off), idle, pending, scheduled, live or blocked (and why)."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = list(SHARING_STATUSES)  # noqa: RUF012 - the entity base declares it

    @property
    def native_value(self) -> str | None:
        """Not shared while consent is off; else the gateway's status of this camera."""
        if not self.settings.consent:
            return "not_shared"
        status = self.gateway_camera.get("status")
        return status if isinstance(status, str) and status in SHARING_STATUSES else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Why the camera is blocked, and the live share's end (each only when there is one)."""
        attributes: dict[str, Any] = {}
        reason = self.gateway_camera.get("blocked_reason")
        if self.native_value == "blocked" and isinstance(reason, str):
            attributes["blocked_reason"] = reason
        ends = [
            str(s["ends_at"])
            for s in (self.coordinator.data or {}).get("shares") or []
            if s.get("camera_id") == self.camera_id and s.get("ends_at")
        ]
        if ends:
            attributes["ends_at"] = max(ends)
        return attributes


class ViewersSensor(RtccShareCameraEntity, SensorEntity):
    """How many of the city's viewers watch this camera now."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        """Viewers now."""
        viewers = self.gateway_camera.get("viewers", 0)
        return viewers if isinstance(viewers, int) else 0


class ActiveSharesSensor(RtccShareEntity, SensorEntity):
    """Shares live or scheduled now, listed in the attributes."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        """How many shares are active."""
        return len((self.coordinator.data or {}).get("shares") or [])

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Each active share (no links, no tokens)."""
        shares = []
        for share in (self.coordinator.data or {}).get("shares") or []:
            camera_id = str(share.get("camera_id"))
            shares.append(
                {
                    "share_id": share.get("share_id"),
                    "request_id": share.get("request_id"),
                    "camera": self.coordinator.entity_id_of(camera_id) or camera_id,
                    "status": share.get("status"),
                    "starts_at": share.get("starts_at"),
                    "ends_at": share.get("ends_at"),
                    "viewers": share.get("viewers"),
                }
            )
        return {"shares": shares}


class PendingRequestsSensor(RtccShareEntity, SensorEntity):
    """Requests waiting for the owner's answer, listed in the attributes."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        """How many requests wait."""
        return len((self.coordinator.data or {}).get("pending_requests") or [])

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Each pending request with what the owner needs to decide."""
        requests = []
        for req in (self.coordinator.data or {}).get("pending_requests") or []:
            ids = [str(c) for c in req.get("pending_camera_ids") or []]
            requests.append(
                {
                    "request_id": req.get("request_id"),
                    "agency": req.get("agency"),
                    "incident_id": req.get("incident_id"),
                    "offense": req.get("offense"),
                    "reason": req.get("reason"),
                    "cameras": [self.coordinator.entity_id_of(c) or c for c in ids],
                    "start": req.get("start"),
                    "duration_s": req.get("duration_s"),
                    "approve_by": req.get("approve_by"),
                }
            )
        return {"requests": requests}


class PrivacyScheduleSensor(RtccShareEntity, SensorEntity):
    """The privacy schedule: the number of weekly windows, each listed in the attributes."""

    @property
    def native_value(self) -> int:
        """How many windows."""
        return len(self.coordinator.settings.privacy_windows)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The windows, as `rtcc_share.set_privacy_schedule` takes them."""
        return {"windows": [w.to_json() for w in self.coordinator.settings.privacy_windows]}
