"""Removing the devices of cameras that are gone for good."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .cameras import entity_camera_id, onvif_camera_id
from .const import DOMAIN, LOGGER


@callback
def async_remove_stale_devices(
    hass: HomeAssistant, entry: ConfigEntry, gateway_id: str, pushed: Iterable[str]
) -> None:
    """Remove the devices of cameras that are gone.

    Gone: not in this push (`pushed` camera ids), no ONVIF subentry, and no camera entity in
    Home Assistant's entity registry or state machine with that camera id (a camera whose
    integration has not loaded yet keeps its registry entry, so its device stays).
    """
    known = set(pushed)
    known.update(onvif_camera_id(sid) for sid in entry.subentries)
    known.update(
        entity_camera_id(hass, entry.entry_id, entity.entity_id)
        for entity in er.async_get(hass).entities.values()
        if entity.domain == "camera"
    )
    known.update(
        entity_camera_id(hass, entry.entry_id, eid)
        for eid in hass.states.async_entity_ids("camera")
    )
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        for domain, identifier in device.identifiers:
            camera_id = identifier.removeprefix(f"{gateway_id}_")
            if domain != DOMAIN or camera_id == identifier or camera_id in known:
                continue
            LOGGER.debug("Removing the device of camera %s: it is gone", camera_id)
            devices.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
            break
