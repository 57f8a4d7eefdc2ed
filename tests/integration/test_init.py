"""Setting up and unloading an entry against a real gateway."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import DOMAIN

from ..conftest import OWNER_TOKEN
from .conftest import FakeCamera, Loaded, cam


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


async def test_stale_camera_devices_can_be_removed(
    hass: HomeAssistant,
    loaded: Loaded,
    cameras: dict[str, FakeCamera],
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry, gw, _ = loaded
    registry = dr.async_get(hass)
    hub = registry.async_get_device_by_identifier((DOMAIN, gw.gateway_id), entry.entry_id)
    garage = registry.async_get_device_by_identifier(
        (DOMAIN, f"{gw.gateway_id}_{cam(hass, 'garage')}"), entry.entry_id
    )
    assert hub is not None
    assert garage is not None
    assert garage.via_device_id == hub.id
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> bool:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device_id,
            }
        )
        return bool((await client.receive_json())["success"])

    assert await remove(garage.id) is False  # still shareable
    assert await remove(hub.id) is False
    cameras["garage"].source = None  # its stream went away
    await entry.runtime_data.coordinator.async_push_policy()
    assert hass.states.get("switch.garage_share_with_city").state == "unavailable"
    assert await remove(garage.id) is True


async def test_new_options_reach_the_gateway(hass: HomeAssistant, loaded: Loaded) -> None:
    entry, gw, _ = loaded
    assert gw.owner_state()["policy"]["approval_timeout_s"] == 600
    hass.config_entries.async_update_entry(
        entry, options={"approval": "auto", "max_minutes": 30, "approval_timeout_minutes": 2}
    )
    await hass.async_block_till_done()
    assert gw.owner_state()["policy"]["approval_timeout_s"] == 120
    # Existing cameras keep their own choices; the defaults are for cameras that appear later.
    assert hass.states.get("select.front_door_approval").state == "ask"


async def test_removing_the_entry_forgets_the_owner_settings(
    hass: HomeAssistant, loaded: Loaded, hass_storage: dict[str, Any]
) -> None:
    entry, _, _ = loaded
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.front_door_share_with_city"}, blocking=True
    )
    key = f"{DOMAIN}.{entry.entry_id}"
    assert hass_storage[key]["data"]["cameras"][cam(hass, "front_door")]["consent"] is True
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
