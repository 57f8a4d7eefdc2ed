"""Sensors: per camera status and viewers; on the hub shares, requests and privacy schedule."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.components.sensor.const import SensorDeviceClass, SensorStateClass

from .const import SHARING_STATUSES
from .entity import RtccShareCameraEntity, RtccShareEntity, platform_setup

PARALLEL_UPDATES = 0

# The hub's sensors, and two sensors per shareable camera.
async_setup_entry = platform_setup(
    hub=lambda coordinator: [
        ActiveSharesSensor(coordinator, "active_shares"),
        PendingRequestsSensor(coordinator, "pending_requests"),
        PrivacyScheduleSensor(coordinator, "privacy_schedule"),
    ],
    camera=lambda coordinator, cid: [
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


class GatewayListSensor(RtccShareEntity, SensorEntity):
    """How many items one of the gateway's lists holds, each one described in the attributes."""

    _attr_state_class = SensorStateClass.MEASUREMENT
    # The list's key in the gateway's state, and the attribute that lists the items.
    _list_key: str
    _attribute: str

    def _items(self) -> list[dict[str, Any]]:
        return list((self.coordinator.data or {}).get(self._list_key) or [])

    @abstractmethod
    def _describe(self, item: dict[str, Any]) -> dict[str, Any]:
        """One item as the owner sees it (each list says what matters in it)."""

    @property
    def native_value(self) -> int:
        """How many there are."""
        return len(self._items())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Each item, as the owner needs to see it."""
        return {self._attribute: [self._describe(item) for item in self._items()]}


class ActiveSharesSensor(GatewayListSensor):
    """Shares live or scheduled now, listed in the attributes (no links, no tokens)."""

    _list_key = "shares"
    _attribute = "shares"

    def _describe(self, item: dict[str, Any]) -> dict[str, Any]:
        camera_id = str(item.get("camera_id"))
        return {
            "share_id": item.get("share_id"),
            "request_id": item.get("request_id"),
            "camera": self.coordinator.entity_id_of(camera_id) or camera_id,
            "status": item.get("status"),
            "starts_at": item.get("starts_at"),
            "ends_at": item.get("ends_at"),
            "viewers": item.get("viewers"),
        }


class PendingRequestsSensor(GatewayListSensor):
    """Requests waiting for the owner's answer, each with what the owner needs to decide."""

    _list_key = "pending_requests"
    _attribute = "requests"

    def _describe(self, item: dict[str, Any]) -> dict[str, Any]:
        ids = [str(c) for c in item.get("pending_camera_ids") or []]
        return {
            "request_id": item.get("request_id"),
            "agency": item.get("agency"),
            "incident_id": item.get("incident_id"),
            "offense": item.get("offense"),
            "reason": item.get("reason"),
            "cameras": [self.coordinator.entity_id_of(c) or c for c in ids],
            "start": item.get("start"),
            "duration_s": item.get("duration_s"),
            "approve_by": item.get("approve_by"),
        }


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
