"""Event entity "City request": received, approved, declined, started, ended, viewer connected."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import callback

from .const import CITY_EVENT_TYPES
from .entity import RtccShareEntity, platform_setup

PARALLEL_UPDATES = 0

# The hub's "City request" event entity.
async_setup_entry = platform_setup(
    hub=lambda coordinator: [CityRequestEvent(coordinator, "city_request")]
)


class CityRequestEvent(RtccShareEntity, EventEntity):
    """Fires for each step of a city request, with what an automation needs."""

    _attr_event_types = CITY_EVENT_TYPES

    async def async_added_to_hass(self) -> None:
        """Listen to the coordinator's city events."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_city_listener(self._on_city_event))

    @callback
    def _on_city_event(self, event_type: str, data: dict[str, Any]) -> None:
        self._trigger_event(event_type, data)
        self.async_write_ha_state()
