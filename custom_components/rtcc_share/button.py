"""Button: "Revoke all" ends every share now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity

from .entity import RtccShareEntity, platform_setup

PARALLEL_UPDATES = 1

# The hub's revoke-all button.
async_setup_entry = platform_setup(
    hub=lambda coordinator: [RevokeAllButton(coordinator, "revoke_all")]
)


class RevokeAllButton(RtccShareEntity, ButtonEntity):
    """Cut every viewer of every share at once."""

    async def async_press(self) -> None:
        """Revoke every share."""
        await self.coordinator.controls.async_revoke(None)
