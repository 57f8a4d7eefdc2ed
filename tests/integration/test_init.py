"""Setting up and unloading an entry against a real gateway."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import DOMAIN

from ..conftest import OWNER_TOKEN


def make_entry(hass: HomeAssistant, port: int, token: str = OWNER_TOKEN) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="gw_test",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_TOKEN: token},
    )
    entry.add_to_hass(hass)
    return entry


async def test_setup_and_unload(hass: HomeAssistant, gateway: tuple[Gateway, Bound]) -> None:
    gw, bound = gateway
    entry = make_entry(hass, bound.owner[1])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.info.gateway_id == gw.gateway_id

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_unreachable_gateway_retries_later(hass: HomeAssistant, closed_port: int) -> None:
    entry = make_entry(hass, closed_port)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot reach the rtcc_share gateway at http://127.0.0.1:" in (entry.reason or "")


async def test_refused_token_starts_reauthentication(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    _, bound = gateway
    entry = make_entry(hass, bound.owner[1], token="rotated-away-0123456789")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
