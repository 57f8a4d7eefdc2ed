"""Consent and pause switches reach the gateway; consent survives a restart."""

from __future__ import annotations

import asyncio

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from rtcc_gateway.app import Gateway

from .conftest import (
    CONSENT,
    PAUSE,
    CityCall,
    FakeCamera,
    Loaded,
    auto_share,
    cam,
    switch,
    wait_for,
)


def gw_camera(gw: Gateway, camera_id: str) -> dict[str, object]:
    return next(c for c in gw.owner_state()["cameras"] if c["id"] == camera_id)


async def test_consent_is_off_by_default_and_reaches_the_gateway(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    _, gw, _ = loaded
    assert hass.states.get(CONSENT).state == STATE_OFF
    assert gw_camera(gw, cam(hass, "front_door"))["consent"] is False

    await switch(hass, CONSENT, True)
    assert hass.states.get(CONSENT).state == STATE_ON
    assert gw_camera(gw, cam(hass, "front_door"))["consent"] is True
    assert gw_camera(gw, cam(hass, "garage"))["consent"] is False

    await switch(hass, CONSENT, False)
    assert hass.states.get(CONSENT).state == STATE_OFF
    assert gw_camera(gw, cam(hass, "front_door"))["consent"] is False


async def test_consent_off_ends_a_live_share(
    hass: HomeAssistant, loaded: Loaded, city: CityCall
) -> None:
    _, gw, _ = loaded
    await auto_share(hass, city)
    await wait_for(lambda: hass.states.get("sensor.front_door_sharing_status").state == "live")
    assert hass.states.get("sensor.rtcc_share_active_shares").state == "1"

    await switch(hass, CONSENT, False)
    assert gw.owner_state()["shares"] == []
    await wait_for(
        lambda: hass.states.get("sensor.front_door_sharing_status").state == "not_shared"
    )
    assert hass.states.get("sensor.rtcc_share_active_shares").state == "0"


async def test_pause_switch_reaches_the_gateway(hass: HomeAssistant, loaded: Loaded) -> None:
    _, gw, _ = loaded
    await switch(hass, PAUSE, True)
    assert hass.states.get(PAUSE).state == STATE_ON
    assert gw.owner_state()["paused"] is True
    assert gw.owner_state()["policy"]["paused_until"] is None

    await switch(hass, PAUSE, False)
    assert hass.states.get(PAUSE).state == STATE_OFF
    assert gw.owner_state()["paused"] is False


async def test_consent_and_settings_survive_a_restart(hass: HomeAssistant, loaded: Loaded) -> None:
    entry, gw, _ = loaded
    await switch(hass, CONSENT, True)
    await switch(hass, PAUSE, True)
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_maximum_share_length", "value": 15},
        blocking=True,
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # Someone else's push while Home Assistant is away: Home Assistant's choice wins on return.
    await gw.shares.set_policy(
        gw.shares.owner.policy.__class__(timezone="UTC"), gw.shares.owner.cameras[:0]
    )
    assert gw.owner_state()["cameras"] == []

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(CONSENT).state == STATE_ON
    assert hass.states.get(PAUSE).state == STATE_ON
    assert hass.states.get("number.garage_maximum_share_length").state == "15.0"
    assert gw_camera(gw, cam(hass, "front_door"))["consent"] is True
    assert gw_camera(gw, cam(hass, "garage"))["max_duration_s"] == 900
    assert gw.owner_state()["paused"] is True


async def test_nightly_privacy_window_reaches_the_gateway(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    _, gw, _ = loaded
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: "time.rtcc_share_privacy_window_from", "time": "23:30:00"},
        blocking=True,
    )
    assert gw.owner_state()["policy"]["privacy_windows"] == []
    await switch(hass, "switch.rtcc_share_nightly_privacy_window", True)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert gw.owner_state()["policy"]["privacy_windows"] == [
        {"days": days, "start": "23:30", "end": "07:00"}
    ]
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: "time.rtcc_share_privacy_window_until", "time": "06:15:00"},
        blocking=True,
    )
    assert hass.states.get("time.rtcc_share_privacy_window_until").state == "06:15:00"
    assert gw.owner_state()["policy"]["privacy_windows"][0]["end"] == "06:15"
    await switch(hass, "switch.rtcc_share_nightly_privacy_window", False)
    assert gw.owner_state()["policy"]["privacy_windows"] == []


async def test_consent_off_does_not_wait_for_a_slow_camera(
    hass: HomeAssistant, loaded: Loaded, cameras: dict[str, FakeCamera]
) -> None:
    _, gw, _ = loaded
    await switch(hass, CONSENT, True)
    slow = asyncio.Event()

    async def never() -> str | None:
        await slow.wait()
        return None

    cameras["cloud_doorbell"].stream_source = never  # type: ignore[method-assign]
    # The slow camera's lookup never ends until `slow` is set: waiting for it would hang here.
    await asyncio.wait_for(switch(hass, CONSENT, False), 60)
    assert not slow.is_set()
    assert gw_camera(gw, cam(hass, "front_door"))["consent"] is False
    slow.set()


async def test_states_say_what_is_true(hass: HomeAssistant, loaded: Loaded) -> None:
    """Consent off reads "not shared" (not "idle"); a block names its reason, and only then;
    counts carry no made-up units; the consent switch is the camera's primary control."""
    entities = er.async_get(hass)
    status = "sensor.front_door_sharing_status"
    assert hass.states.get(status).state == "not_shared"
    assert "blocked_reason" not in hass.states.get(status).attributes
    assert entities.async_get(CONSENT).entity_category is None

    await switch(hass, CONSENT, True)
    await wait_for(lambda: hass.states.get(status).state == "idle")
    await switch(hass, PAUSE, True)
    await wait_for(lambda: hass.states.get(status).state == "blocked")
    assert hass.states.get(status).attributes["blocked_reason"] == "paused"
    await switch(hass, PAUSE, False)
    await wait_for(lambda: hass.states.get(status).state == "idle")
    assert "blocked_reason" not in hass.states.get(status).attributes

    for count in (
        "sensor.rtcc_share_pending_requests",
        "sensor.rtcc_share_active_shares",
        "sensor.rtcc_share_privacy_schedule",
        "sensor.front_door_viewers_now",
    ):
        assert "unit_of_measurement" not in hass.states.get(count).attributes, count
    minutes = hass.states.get("number.front_door_maximum_share_length")
    assert minutes.attributes["device_class"] == "duration"
    assert minutes.attributes["unit_of_measurement"] == "min"
    names = [
        hass.states.get(e).name
        for e in ("time.rtcc_share_privacy_window_from", "time.rtcc_share_privacy_window_until")
    ]
    assert names == sorted(names), "listed as they read: from … until …"
