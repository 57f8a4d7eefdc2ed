"""Button: "Revoke all" ends every share now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import RtccShareConfigEntry
from .entity import RtccShareEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(
    _hass: HomeAssistant,
    entry: RtccShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the revoke-all button."""
    async_add_entities([RevokeAllButton(entry.runtime_data.coordinator, "revoke_all")])


class RevokeAllButton(RtccShareEntity, ButtonEntity):
    """Cut every viewer of every share at once."""

    async def async_press(self) -> None:
        """Revoke every share."""
        await self.coordinator.controls.async_revoke(None)
