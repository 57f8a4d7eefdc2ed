"""Binary sensor: "Gateway connected"."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory

from .entity import RtccShareEntity, platform_setup

PARALLEL_UPDATES = 0

# The hub's connectivity sensor.
async_setup_entry = platform_setup(
    hub=lambda coordinator: [GatewayConnectedSensor(coordinator, "connected")]
)


class GatewayConnectedSensor(RtccShareEntity, BinarySensorEntity):
    """On while the event stream to the gateway is open; always available."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @property
    def available(self) -> bool:
        """Always: this entity reports the connection itself."""
        return True

    @property
    def is_on(self) -> bool:
        """Connected now."""
        return self.coordinator.connected
