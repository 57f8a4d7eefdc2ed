"""A city request: bus events and the City request event entity, against a real gateway."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.rtcc_share.const import DOMAIN

from .conftest import CityCall, Loaded, cam, wait_for, waiting_request

EVENT_ENTITY = "event.rtcc_share_city_request"


async def consent(hass: HomeAssistant, camera: str = "front_door") -> None:
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{camera}_share_with_city"}, blocking=True
    )


async def test_request_fires_events_and_updates_entities(
    hass: HomeAssistant, loaded: Loaded, city: CityCall
) -> None:
    entry, _, _ = loaded
    received = async_capture_events(hass, "rtcc_share_request_received")
    decided = async_capture_events(hass, "rtcc_share_request_decided")
    started = async_capture_events(hass, "rtcc_share_started")
    ended = async_capture_events(hass, "rtcc_share_ended")
    await consent(hass)

    status, body = await city()
    assert status == 202, body
    request_id = body["request_id"]
    await wait_for(lambda: received)
    data = received[0].data
    assert data["request_id"] == request_id
    assert data["agency"] == "Jackson Police Department"
    assert data["incident_id"] == "JPD-2026-001234"
    assert data["offense"] == "burglary"
    assert data["reason"] == "Suspect seen leaving towards the street"
    assert data["camera_ids"] == [cam(hass, "front_door")]
    assert data["cameras"] == ["camera.front_door"]
    assert data["window"]["duration_s"] == 900
    assert data["config_entry_id"] == entry.entry_id

    await wait_for(lambda: hass.states.get(EVENT_ENTITY).attributes["event_type"] == "received")
    assert hass.states.get(EVENT_ENTITY).attributes["incident_id"] == "JPD-2026-001234"
    await wait_for(lambda: hass.states.get("sensor.rtcc_share_pending_requests").state == "1")
    pending = hass.states.get("sensor.rtcc_share_pending_requests").attributes["requests"]
    assert pending[0]["request_id"] == request_id
    assert pending[0]["cameras"] == ["camera.front_door"]
    assert hass.states.get("sensor.front_door_sharing_status").state == "pending"

    await hass.services.async_call(
        DOMAIN,
        "approve",
        {"request_id": request_id, "cameras": ["camera.front_door"]},
        blocking=True,
    )
    await wait_for(lambda: started and decided)
    assert decided[0].data["status"] == "approved"
    assert started[0].data["cameras"] == ["camera.front_door"]
    assert started[0].data["offense"] == "burglary"
    assert started[0].data["window"]["ends_at"]
    share_id = started[0].data["share_id"]
    await wait_for(lambda: hass.states.get("sensor.front_door_sharing_status").state == "live")
    await wait_for(lambda: hass.states.get(EVENT_ENTITY).attributes["event_type"] == "started")
    assert hass.states.get("sensor.rtcc_share_pending_requests").state == "0"

    await hass.services.async_call(DOMAIN, "revoke", {"share_id": share_id}, blocking=True)
    await wait_for(lambda: ended)
    assert ended[0].data["share_id"] == share_id
    assert ended[0].data["end_reason"] == "revoked"
    await wait_for(lambda: hass.states.get(EVENT_ENTITY).attributes["event_type"] == "ended")


async def test_deny_fires_declined(hass: HomeAssistant, loaded: Loaded, city: CityCall) -> None:
    decided = async_capture_events(hass, "rtcc_share_request_decided")
    request_id = await waiting_request(hass, city)
    await hass.services.async_call(DOMAIN, "deny", {"request_id": request_id}, blocking=True)
    await wait_for(lambda: decided)
    assert decided[0].data["status"] == "declined"
    await wait_for(lambda: hass.states.get(EVENT_ENTITY).attributes["event_type"] == "declined")
