"""Select: "Approval" per camera (ask first, or approve automatically)."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.const import EntityCategory

from .const import APPROVAL_MODES
from .entity import RtccShareCameraEntity, platform_setup

PARALLEL_UPDATES = 1

# An approval select per shareable camera.
async_setup_entry = platform_setup(
    camera=lambda coordinator, cid: [ApprovalSelect(coordinator, cid, "approval")]
)


class ApprovalSelect(RtccShareCameraEntity, SelectEntity):
    """`ask` (the default): every request waits for the owner; `auto`: the policy decides."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_options = list(APPROVAL_MODES)  # noqa: RUF012 - the entity base declares it

    @property
    def current_option(self) -> str:
        """The camera's approval mode."""
        return self.settings.approval

    async def async_select_option(self, option: str) -> None:
        """Change the approval mode."""
        await self.coordinator.controls.async_update_camera(self.camera_id, approval=option)
