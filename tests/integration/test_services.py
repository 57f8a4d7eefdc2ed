"""Actions with good and bad input, against a real gateway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.rtcc_share.const import DOMAIN

from .conftest import CityCall, Loaded, Outage, cam, wait_for, waiting_request

NIGHT = {
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "start": "22:00",
    "end": "07:00",
}


async def call(hass: HomeAssistant, service: str, data: dict[str, Any] | None = None) -> None:
    await hass.services.async_call(DOMAIN, service, data or {}, blocking=True)


async def bad(hass: HomeAssistant, service: str, data: dict[str, Any], key: str) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, data)
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN


async def test_actions_are_registered(hass: HomeAssistant, loaded: Any) -> None:
    services = hass.services.async_services_for_domain(DOMAIN)
    assert set(services) == {
        "approve",
        "deny",
        "revoke",
        "revoke_all",
        "pause",
        "resume",
        "set_privacy_schedule",
    }


async def test_approve_with_camera_id_and_revoke_by_camera(
    hass: HomeAssistant, loaded: Loaded, city: CityCall
) -> None:
    _, gw, _ = loaded
    request_id = await waiting_request(hass, city)
    await call(hass, "approve", {"request_id": request_id, "cameras": cam(hass, "front_door")})
    assert [s["camera_id"] for s in gw.owner_state()["shares"]] == [cam(hass, "front_door")]
    with pytest.raises(ServiceValidationError) as again:
        await call(hass, "approve", {"request_id": request_id})
    assert again.value.translation_key == "already_decided", "not a 'success' that did nothing"

    await call(hass, "revoke", {"camera": "camera.front_door"})
    assert gw.owner_state()["shares"] == []


async def test_revoke_all(hass: HomeAssistant, loaded: Loaded, city: CityCall) -> None:
    _, gw, _ = loaded
    request_id = await waiting_request(hass, city)
    await call(hass, "approve", {"request_id": request_id})
    assert len(gw.owner_state()["shares"]) == 1
    await call(hass, "revoke_all")
    assert gw.owner_state()["shares"] == []
    # The hub's button does the same.
    _, body = await city(incident_id="JPD-2026-000002")
    await call(hass, "approve", {"request_id": body["request_id"]})
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.rtcc_share_revoke_all"}, blocking=True
    )
    assert gw.owner_state()["shares"] == []


async def test_bad_input_is_named(hass: HomeAssistant, loaded: Loaded, city: CityCall) -> None:
    entry, _, _ = loaded
    await bad(hass, "approve", {"request_id": "req_nope"}, "unknown_request")
    await bad(hass, "deny", {"request_id": "req_nope"}, "unknown_request")
    await bad(
        hass,
        "approve",
        {"request_id": "req_x", "cameras": ["camera.cloud_doorbell"]},
        "unknown_camera",
    )
    await bad(hass, "revoke", {}, "revoke_needs_one")
    await bad(hass, "revoke", {"share_id": "shr_x", "camera": "front_door"}, "revoke_needs_one")
    await bad(hass, "revoke", {"share_id": "shr_nope"}, "unknown_share")
    await bad(hass, "revoke", {"camera": "camera.nope"}, "unknown_camera")
    await bad(hass, "pause", {"duration": {"seconds": 0}}, "bad_duration")
    await bad(hass, "resume", {"config_entry_id": "nope"}, "unknown_entry")
    await bad(
        hass,
        "set_privacy_schedule",
        {"windows": [NIGHT, {"start": "25:00", "end": "07:00"}]},
        "bad_window",
    )
    await bad(
        hass,
        "set_privacy_schedule",
        {"windows": [{"start": "07:00", "end": "07:00"}]},
        "bad_window",
    )
    await bad(
        hass,
        "set_privacy_schedule",
        {"windows": [{"days": ["mon", "mon"], "start": "07:00", "end": "08:00"}]},
        "bad_window",
    )
    await bad(hass, "set_privacy_schedule", {"windows": ["not a window"]}, "bad_window")
    # The entry named explicitly works.
    await call(hass, "resume", {"config_entry_id": entry.entry_id})


# Time frozen (ticking) from before Home Assistant starts: freezing it later would jump the
# loop's clock under requests already in flight, and their timeouts would fire.
@pytest.mark.freeze_time(tick=True)
async def test_pause_with_duration_and_resume(
    hass: HomeAssistant, loaded: Loaded, freezer: FrozenDateTimeFactory
) -> None:
    _, gw, _ = loaded
    before = dt_util.utcnow()
    await call(hass, "pause", {"duration": {"hours": 2}})
    state = gw.owner_state()
    assert state["paused"] is True
    until = dt_util.parse_datetime(state["policy"]["paused_until"])
    assert until is not None
    assert before + timedelta(hours=2) <= until <= dt_util.utcnow() + timedelta(hours=2)
    pause = hass.states.get("switch.rtcc_share_pause_sharing")
    assert pause.state == "on"
    assert pause.attributes["until"] is not None

    # The pause ends by itself: the gateway resumes, and so does the switch.
    freezer.move_to(until + timedelta(seconds=1))
    async_fire_time_changed(hass, until + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert hass.states.get("switch.rtcc_share_pause_sharing").state == "off"

    await call(hass, "pause", {"duration": {"minutes": 5}})
    await call(hass, "resume")
    assert gw.owner_state()["paused"] is False
    assert hass.states.get("switch.rtcc_share_pause_sharing").state == "off"


async def test_privacy_schedule_reaches_the_gateway(hass: HomeAssistant, loaded: Loaded) -> None:
    _, gw, _ = loaded
    weekend = {"days": ["Saturday", "sun"], "start": "09:00:00", "end": "12:00"}
    await call(hass, "set_privacy_schedule", {"windows": [NIGHT, weekend]})
    windows = gw.owner_state()["policy"]["privacy_windows"]
    assert windows == [NIGHT, {"days": ["sat", "sun"], "start": "09:00", "end": "12:00"}]
    sensor = hass.states.get("sensor.rtcc_share_privacy_schedule")
    assert sensor.state == "2"
    assert sensor.attributes["windows"] == windows

    await call(hass, "set_privacy_schedule", {"windows": []})
    assert gw.owner_state()["policy"]["privacy_windows"] == []


async def test_actions_without_a_loaded_gateway(hass: HomeAssistant, loaded: Any) -> None:
    entry = loaded[0]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await bad(hass, "revoke_all", {}, "no_gateway")
    await bad(hass, "revoke_all", {"config_entry_id": entry.entry_id}, "entry_not_loaded")


async def test_two_gateways_need_an_entry_id(hass: HomeAssistant, loaded: Loaded) -> None:
    _, _, bound = loaded
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id="gw_other",
        data={"host": "127.0.0.1", "port": bound.owner[1], "token": loaded[0].data["token"]},
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: other.runtime_data.coordinator.connected)
    await bad(hass, "revoke_all", {}, "entry_required")
    await call(hass, "revoke_all", {"config_entry_id": other.entry_id})
    assert await hass.config_entries.async_unload(other.entry_id)


async def test_actions_while_the_gateway_is_down_lose_nothing(
    hass: HomeAssistant, outage: Outage
) -> None:
    coordinator = outage.entry.runtime_data.coordinator
    await outage.leave()
    # Pausing and adding a window only take sharing away: kept, applied at reconnect.
    await call(hass, "pause")
    await call(hass, "set_privacy_schedule", {"windows": [NIGHT]})
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "approve", {"request_id": "req_x"})
    assert err.value.translation_key == "gateway_away"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "set_privacy_schedule", {"windows": []})
    assert err.value.translation_key == "gateway_away", "dropping a window could widen sharing"
    assert coordinator.settings.is_paused()

    back = await outage.back()
    state = back.owner_state()
    assert state["paused"] is True
    assert state["policy"]["privacy_windows"] == [NIGHT]


async def test_cameras_are_named_by_entity_switch_or_id(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    """An ONVIF camera has no camera entity: its Share with city switch names it too."""
    entry, _, _ = loaded
    coordinator = entry.runtime_data.coordinator
    camera_id = cam(hass, "front_door")
    assert coordinator.camera_id_of("camera.front_door") == camera_id
    assert coordinator.camera_id_of("switch.front_door_share_with_city") == camera_id
    assert coordinator.camera_id_of("sensor.front_door_sharing_status") == camera_id
    assert coordinator.camera_id_of(camera_id) == camera_id
    assert coordinator.camera_id_of("switch.rtcc_share_pause_sharing") is None
    assert coordinator.camera_id_of("camera.cloud_doorbell") is None, "not shareable"
    assert coordinator.camera_id_of("camera.nowhere") is None
