"""Switches: "Share with city" per camera (consent), "Pause sharing" on the hub."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory

from .entity import RtccShareCameraEntity, RtccShareEntity, platform_setup

PARALLEL_UPDATES = 1

# The hub's pause and nightly-privacy switches, and a consent switch per shareable camera.
async_setup_entry = platform_setup(
    hub=lambda coordinator: [
        PauseSwitch(coordinator, "pause"),
        NightlyPrivacySwitch(coordinator, "nightly_privacy"),
    ],
    camera=lambda coordinator, cid: [ConsentSwitch(coordinator, cid, "consent")],
)


class ConsentSwitch(RtccShareCameraEntity, SwitchEntity):
    """The owner's consent: off until the owner turns it on; kept by Home Assistant.

    The camera's primary control (no entity category), so dashboards show it. It stays usable
    while the gateway is away: turning it off is kept and applied at reconnect.
    """

    @property
    def available(self) -> bool:
        """As long as the camera can be shared (the gateway need not be reachable)."""
        camera = self.coordinator.registry.get(self.camera_id)
        return camera is not None and camera.shareable

    @property
    def is_on(self) -> bool:
        """Consent given."""
        return self.settings.consent

    async def async_turn_on(self, **_kwargs: Any) -> None:
        """Offer this camera to the city."""
        await self.coordinator.controls.async_update_camera(self.camera_id, consent=True)

    async def async_turn_off(self, **_kwargs: Any) -> None:
        """Withdraw consent; the gateway ends this camera's shares at once."""
        await self.coordinator.controls.async_update_camera(self.camera_id, consent=False)


class PauseSwitch(RtccShareEntity, SwitchEntity):
    """Pause every share (automations flip it); a pause while the gateway is away is kept."""

    @property
    def available(self) -> bool:
        """Always: pausing must work when it matters most."""
        return True

    @property
    def is_on(self) -> bool:
        """Paused now."""
        return self.coordinator.settings.is_paused()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When the pause ends by itself."""
        until = self.coordinator.settings.paused_until
        return {"until": None if until is None or not self.is_on else until.isoformat()}

    async def async_turn_on(self, **_kwargs: Any) -> None:
        """Pause sharing until resumed."""
        await self.coordinator.controls.async_set_paused(paused=True)

    async def async_turn_off(self, **_kwargs: Any) -> None:
        """Resume sharing."""
        await self.coordinator.controls.async_set_paused(paused=False)


class NightlyPrivacySwitch(RtccShareEntity, SwitchEntity):
    """Nothing is shared every day between the Privacy start and Privacy end times."""

    _attr_entity_category = EntityCategory.CONFIG

    @property
    def is_on(self) -> bool:
        """The nightly window is part of the privacy schedule."""
        return self.coordinator.settings.nightly_enabled

    async def async_turn_on(self, **_kwargs: Any) -> None:
        """Add the nightly window to the schedule."""
        await self.coordinator.controls.async_set_nightly(enabled=True)

    async def async_turn_off(self, **_kwargs: Any) -> None:
        """Take it out."""
        await self.coordinator.controls.async_set_nightly(enabled=False)
