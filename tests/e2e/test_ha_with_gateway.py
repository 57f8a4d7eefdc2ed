"""Home Assistant set up, through the config flow, against the real gateway process."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.rtcc_share.const import DOMAIN

from ..conftest import OWNER_TOKEN, ServeGateway


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/rtcc_share."""


async def test_flow_and_setup_against_the_console_script(
    hass: HomeAssistant, serve_gateway: ServeGateway, tmp_path: Path
) -> None:
    gw = await serve_gateway()
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: gw.owner_port, CONF_TOKEN: OWNER_TOKEN},
        )
        assert result["step_id"] == "confirm"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        entry = result["result"]
        assert entry.state is ConfigEntryState.LOADED
        gateway_id = (tmp_path / "data" / "gateway_id").read_text().strip()
        assert entry.unique_id == gateway_id
        assert entry.runtime_data.info.gateway_id == gateway_id
    finally:
        assert await gw.stop() == 0

    # With the gateway gone, a reload waits for it instead of failing for good.
    assert await hass.config_entries.async_reload(entry.entry_id) is False
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
