"""Time entities: start and end of the nightly privacy window (the hub's "Nightly privacy")."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.const import EntityCategory

from .coordinator import RtccShareCoordinator
from .entity import RtccShareEntity, platform_setup

PARALLEL_UPDATES = 1

# The hub's two times: start and end of the nightly window.
async_setup_entry = platform_setup(
    hub=lambda coordinator: [
        NightlyTime(coordinator, "privacy_start", "start"),
        NightlyTime(coordinator, "privacy_end", "end"),
    ]
)


class NightlyTime(RtccShareEntity, TimeEntity):
    """When the nightly privacy window starts or ends (local time)."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, coordinator: RtccShareCoordinator, key: str, which: str) -> None:
        super().__init__(coordinator, key)
        self._which = which

    @property
    def native_value(self) -> time:
        """The stored time of day."""
        text = getattr(self.coordinator.settings, f"nightly_{self._which}")
        return time(int(text[:2]), int(text[3:5]))

    async def async_set_value(self, value: time) -> None:
        """Change it; the gateway gets the new schedule at once."""
        await self.coordinator.controls.async_set_nightly(**{self._which: value.strftime("%H:%M")})
