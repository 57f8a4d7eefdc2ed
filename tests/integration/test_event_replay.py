"""Events missed while Home Assistant was away are replayed from the kept cursor, once.

Against the real gateway: the entry is unloaded (Home Assistant away), a city request arrives
and waits for the owner, the entry comes back and announces it exactly once; coming back again
announces nothing twice, and a request decided meanwhile is not announced as waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import DOMAIN, EVENT_REQUEST_RECEIVED

from .conftest import CityCall, wait_for
from .test_event import consent


def _ids(events: list[Event[Any]]) -> list[str]:
    return [e.data["request_id"] for e in events]


@dataclass
class Replay:
    """The loaded entry with consent on and one city request (`seen`) announced while it ran."""

    hass: HomeAssistant
    entry: MockConfigEntry
    gw: Gateway
    received: list[Event[Any]]
    seen: dict[str, Any]

    def announced(self) -> list[str]:
        return _ids(self.received)

    async def away(self) -> None:
        assert await self.hass.config_entries.async_unload(self.entry.entry_id)
        await self.hass.async_block_till_done()
        assert self.entry.state is ConfigEntryState.NOT_LOADED

    async def back(self) -> None:
        """Set the entry up again and wait until it handled every event the gateway sent."""
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()
        coordinator = self.entry.runtime_data.coordinator
        await wait_for(lambda: coordinator.connected)
        await wait_for(
            lambda: coordinator.settings.event_cursor.seq == self.gw.events.replay(0).seq
        )
        await self.hass.async_block_till_done()


@pytest.fixture
async def replay(
    hass: HomeAssistant, loaded: tuple[MockConfigEntry, Gateway, Bound], city: CityCall
) -> Replay:
    entry, gw, _ = loaded
    received = async_capture_events(hass, EVENT_REQUEST_RECEIVED)
    await consent(hass)
    status, seen = await city(incident_id="SEEN-1")
    assert status == 202, seen
    await wait_for(lambda: _ids(received) == [seen["request_id"]])
    return Replay(hass, entry, gw, received, seen)


def _cursor_kept(replay: Replay, hass_storage: dict[str, Any]) -> dict[str, Any]:
    cursor: dict[str, Any] = hass_storage[f"{DOMAIN}.{replay.entry.entry_id}"]["data"][
        "event_cursor"
    ]
    return cursor


async def test_a_request_that_arrived_while_away_is_announced_once_at_reconnect(
    replay: Replay, city: CityCall, hass_storage: dict[str, Any]
) -> None:
    seen = replay.seen["request_id"]
    await replay.away()
    kept = _cursor_kept(replay, hass_storage)
    assert kept["seq"] > 0
    assert kept["stream"] == replay.gw.events.stream
    assert kept["announced"] == [seen]
    status, waiting = await city(incident_id="AWAY-1")
    assert status == 202, waiting
    status, decided = await city(incident_id="AWAY-2")
    assert status == 202, decided
    await replay.gw.shares.deny(decided["request_id"], None)  # decided while away: nothing to ask

    await replay.back()
    assert replay.announced() == [seen, waiting["request_id"]]
    assert replay.received[-1].data["incident_id"] == "AWAY-1"
    assert replay.received[-1].data["cameras"] == ["camera.front_door"]

    await replay.away()
    await replay.back()
    assert replay.announced() == [seen, waiting["request_id"]], "none twice"


async def test_after_a_gap_the_waiting_requests_are_announced_from_the_state_once(
    replay: Replay, city: CityCall, hass_storage: dict[str, Any]
) -> None:
    await replay.away()
    status, waiting = await city(incident_id="AWAY-1")
    assert status == 202, waiting
    # The cursor kept is of a run the gateway no longer holds (as after its restart): the
    # stream answers with a gap, and what waits is read from the state instead.
    _cursor_kept(replay, hass_storage)["stream"] = "evs_another"
    await replay.back()
    expected = [replay.seen["request_id"], waiting["request_id"]]
    assert replay.announced() == expected
    await replay.away()
    await replay.back()
    assert replay.announced() == expected, "none twice"
