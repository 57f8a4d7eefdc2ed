"""Number: "Maximum share minutes" per camera (longer asks are cut to it)."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import EntityCategory, UnitOfTime

from .const import MAX_SHARE_MINUTES, MIN_SHARE_MINUTES
from .entity import RtccShareCameraEntity, platform_setup

PARALLEL_UPDATES = 1

# A maximum-minutes number per shareable camera.
async_setup_entry = platform_setup(
    camera=lambda coordinator, cid: [MaxMinutesNumber(coordinator, cid, "max_minutes")]
)


class MaxMinutesNumber(RtccShareCameraEntity, NumberEntity):
    """The longest a share of this camera may last."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_device_class = NumberDeviceClass.DURATION
    _attr_native_min_value = MIN_SHARE_MINUTES
    _attr_native_max_value = MAX_SHARE_MINUTES
    _attr_native_step = 1
    _attr_mode = NumberMode.BOX
    _attr_native_unit_of_measurement = UnitOfTime.MINUTES

    @property
    def native_value(self) -> float:
        """The camera's maximum share length in minutes."""
        return float(self.settings.max_minutes)

    async def async_set_native_value(self, value: float) -> None:
        """Change the maximum."""
        await self.coordinator.controls.async_update_camera(self.camera_id, max_minutes=int(value))
