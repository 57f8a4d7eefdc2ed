"""Binary sensor: "Gateway connected"."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import RtccShareConfigEntry
from .entity import RtccShareEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    _hass: HomeAssistant,
    entry: RtccShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the connectivity sensor."""
    async_add_entities([GatewayConnectedSensor(entry.runtime_data.coordinator, "connected")])


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
