"""RTCC Share: share chosen cameras with the city's Real Time Crime Center, on the owner's terms."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .cameras import onvif_camera_id
from .const import DOMAIN, LOGGER
from .coordinator import RtccShareCoordinator
from .data import RtccShareConfigEntry, RtccShareData
from .entity import hub_device
from .gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayConnectionError,
    GatewayError,
    GatewayResponseError,
)
from .issues import delete_issue, onvif_issue_id
from .panel import async_register_panel, async_unregister_panel
from .services import async_setup_services
from .settings import SettingsStore
from .websocket import async_setup_websocket

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, _config: ConfigType) -> bool:
    """Register the integration's actions and the panel's commands (before any entry loads)."""
    async_setup_services(hass)
    async_setup_websocket(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: RtccShareConfigEntry) -> bool:
    """Connect to the gateway, push the owner's policy, start following its events."""
    client = GatewayClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
    )
    try:
        info = await client.get_info()
    except GatewayAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except (GatewayConnectionError, GatewayResponseError) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"url": client.base_url},
        ) from err
    coordinator = RtccShareCoordinator(hass, entry, client, info)
    await coordinator.async_setup()
    entry.runtime_data = RtccShareData(client=client, info=info, coordinator=coordinator)
    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **hub_device(coordinator)
    )
    coordinator.hub_device_id = hub.id
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start()
    # ONVIF cameras on the LAN, looked for once the entry is up (never delays the start).
    coordinator.async_start_discovery()
    entry.async_on_unload(coordinator.async_stop)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await async_register_panel(hass, entry.entry_id)
    entry.async_on_unload(lambda: async_unregister_panel(hass, entry.entry_id))
    return True


async def _async_options_updated(_hass: HomeAssistant, entry: RtccShareConfigEntry) -> None:
    """New defaults, or an ONVIF camera added, changed or removed: push now."""
    try:
        await entry.runtime_data.coordinator.async_push_policy()
    except GatewayError as err:
        LOGGER.debug("Policy push after an options change failed: %s", err)


async def async_unload_entry(hass: HomeAssistant, entry: RtccShareConfigEntry) -> bool:
    """Unload the entry's platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    _hass: HomeAssistant, entry: RtccShareConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the owner delete a camera's device once that camera can no longer be shared.

    An ONVIF camera's device goes with its subentry (delete the camera, not the device).
    """
    coordinator = entry.runtime_data.coordinator
    gateway_id = coordinator.info.gateway_id
    onvif_ids = {onvif_camera_id(sid) for sid in entry.subentries}
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        if identifier == gateway_id:
            return False
        camera_id = identifier.removeprefix(f"{gateway_id}_")
        if camera_id in onvif_ids:
            return False
        camera = coordinator.registry.get(camera_id)
        if camera is not None and camera.shareable:
            return False
    return True


async def async_remove_entry(hass: HomeAssistant, entry: RtccShareConfigEntry) -> None:
    """Forget the owner's stored settings for this gateway, and its cameras' repair issues."""
    await SettingsStore(hass, entry.entry_id).async_remove()
    for subentry_id in entry.subentries:
        delete_issue(hass, onvif_issue_id(subentry_id))
