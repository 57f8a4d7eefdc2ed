"""Camera ids from before they were stable become stable ids, keeping every owner choice.

Until 0.2 a camera entity's gateway id was its object id, so renaming `camera.127_0_0_1` to
`camera.front_door` made it a new camera (consent off again). Now the id comes from the entity
registry (cameras.stable_camera_id); this moves what was kept under the old ids, once.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .cameras import camera_id_for, stable_camera_id
from .const import DOMAIN, LOGGER
from .settings import OwnerSettings


@callback
def async_migrate_camera_ids(
    hass: HomeAssistant, entry: ConfigEntry, gateway_id: str, settings: OwnerSettings
) -> dict[str, str]:
    """Move settings, entities and devices from old to stable ids; {old: new} of those moved."""
    entities = er.async_get(hass)
    moved: dict[str, str] = {}
    for registered in list(entities.entities.values()):
        if registered.domain != "camera":
            continue
        old = camera_id_for(registered.entity_id)
        new = stable_camera_id(entry.entry_id, registered.id)
        if old in settings.cameras and new not in settings.cameras:
            settings.cameras[new] = settings.cameras.pop(old)
            moved[old] = new
    if not moved:
        return moved
    for registered in er.async_entries_for_config_entry(entities, entry.entry_id):
        for old, new in moved.items():
            prefix = f"{gateway_id}_{old}_"
            if registered.unique_id.startswith(prefix):
                entities.async_update_entity(
                    registered.entity_id,
                    new_unique_id=f"{gateway_id}_{new}_{registered.unique_id.removeprefix(prefix)}",
                )
    # The old per-camera devices: the entities now sit on the camera's own device (or on a
    # device named by the new id), added when the platforms set up.
    devices = dr.async_get(hass)
    for old in moved:
        device = devices.async_get_device_by_identifier(
            (DOMAIN, f"{gateway_id}_{old}"), entry.entry_id
        )
        if device is not None:
            devices.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
    LOGGER.info(
        "Moved the owner's choices of %d camera(s) to ids that survive a rename", len(moved)
    )
    return moved
