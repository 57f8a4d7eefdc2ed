"""RTCC Share: share chosen cameras with the city's Real Time Crime Center, on the owner's terms."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import DOMAIN
from .data import RtccShareConfigEntry, RtccShareData
from .gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayConnectionError,
    GatewayResponseError,
)

PLATFORMS: list[Platform] = []


async def async_setup_entry(hass: HomeAssistant, entry: RtccShareConfigEntry) -> bool:
    """Connect to the gateway; retry later while it is unreachable."""
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
    entry.runtime_data = RtccShareData(client=client, info=info)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: RtccShareConfigEntry) -> bool:
    """Unload the entry's platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
