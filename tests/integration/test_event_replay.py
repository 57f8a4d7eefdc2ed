"""Events missed while Home Assistant was away are replayed from the kept cursor, once.

Against the real gateway: the entry is unloaded (Home Assistant away), a city request arrives
and waits for the owner, the entry comes back and announces it exactly once; coming back again
announces nothing twice, and a request decided meanwhile is not announced as waiting.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import DOMAIN, EVENT_REQUEST_RECEIVED

from .conftest import CityCall, wait_for
from .test_event import consent


def _latest_seq(gw: Gateway) -> int:
    return gw.events.replay(0).seq


async def _away(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def _back(hass: HomeAssistant, entry: MockConfigEntry, gw: Gateway) -> None:
    """Set the entry up again and wait until it handled every event the gateway sent."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.connected)
    await wait_for(lambda: coordinator.settings.event_cursor.seq == _latest_seq(gw))
    await hass.async_block_till_done()


def _ids(events: list[Event[Any]]) -> list[str]:
    return [e.data["request_id"] for e in events]


async def test_a_request_that_arrived_while_away_is_announced_once_at_reconnect(
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    city: CityCall,
    hass_storage: dict[str, Any],
) -> None:
    entry, gw, _ = loaded
    received = async_capture_events(hass, EVENT_REQUEST_RECEIVED)
    await consent(hass)
    status, seen = await city(incident_id="SEEN-1")
    assert status == 202, seen
    await wait_for(lambda: _ids(received) == [seen["request_id"]])

    await _away(hass, entry)
    kept = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["event_cursor"]
    assert kept["seq"] > 0
    assert kept["stream"] == gw.events.stream
    assert kept["announced"] == [seen["request_id"]]
    status, waiting = await city(incident_id="AWAY-1")
    assert status == 202, waiting
    status, decided = await city(incident_id="AWAY-2")
    assert status == 202, decided
    await gw.shares.deny(decided["request_id"], None)  # decided while away: nothing to ask

    await _back(hass, entry, gw)
    assert _ids(received) == [seen["request_id"], waiting["request_id"]]
    assert received[-1].data["incident_id"] == "AWAY-1"
    assert received[-1].data["cameras"] == ["camera.front_door"]

    await _away(hass, entry)
    await _back(hass, entry, gw)
    assert _ids(received) == [seen["request_id"], waiting["request_id"]], "none twice"


async def test_after_a_gap_the_waiting_requests_are_announced_from_the_state_once(
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    city: CityCall,
    hass_storage: dict[str, Any],
) -> None:
    entry, gw, _ = loaded
    received = async_capture_events(hass, EVENT_REQUEST_RECEIVED)
    await consent(hass)
    status, seen = await city(incident_id="SEEN-1")
    assert status == 202, seen
    await wait_for(lambda: _ids(received) == [seen["request_id"]])
    await _away(hass, entry)
    status, waiting = await city(incident_id="AWAY-1")
    assert status == 202, waiting
    # The cursor kept is of a run the gateway no longer holds (as after its restart): the
    # stream answers with a gap, and what waits is read from the state instead.
    hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["event_cursor"]["stream"] = "evs_another"
    await _back(hass, entry, gw)
    assert _ids(received) == [seen["request_id"], waiting["request_id"]]
    await _away(hass, entry)
    await _back(hass, entry, gw)
    assert _ids(received) == [seen["request_id"], waiting["request_id"]], "none twice"
