"""Which cameras are offered, under ids that survive a rename, on the camera's own device
(custom_components/rtcc_share/cameras.py, migrate.py)."""

from __future__ import annotations

from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.cameras import camera_id_for, stable_camera_id
from custom_components.rtcc_share.const import DOMAIN

from .conftest import CONSENT, FakeCamera, Loaded, cam, make_entry, store_settings, wait_for


def pushed(gw: Gateway) -> dict[str, Any]:
    return {c["id"]: c for c in gw.owner_state()["cameras"]}


async def test_ids_are_opaque_and_stable() -> None:
    first = stable_camera_id("entry1", "0123abcd")
    assert first == stable_camera_id("entry1", "0123abcd")
    assert first.startswith("cam_")
    assert len(first) == 24
    assert first != stable_camera_id("entry2", "0123abcd"), "one gateway cannot link another's"
    assert camera_id_for("camera.Front Door!") == "front_door"


async def test_renaming_a_camera_keeps_its_consent_and_its_entities(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    entry, gw, _ = loaded
    camera_id = cam(hass, "front_door")
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: CONSENT}, blocking=True)
    switch_unique_id = er.async_get(hass).async_get(CONSENT).unique_id

    er.async_get(hass).async_update_entity("camera.front_door", new_entity_id="camera.porch")
    await hass.async_block_till_done()
    await entry.runtime_data.coordinator.async_push_policy()

    assert cam(hass, "porch") == camera_id, "the id comes from the registry, not the name"
    assert pushed(gw)[camera_id]["consent"] is True
    assert hass.states.get(CONSENT).state == "on"
    assert er.async_get(hass).async_get(CONSENT).unique_id == switch_unique_id
    assert entry.runtime_data.coordinator.entity_id_of(camera_id) == "camera.porch"


async def test_sharing_entities_sit_on_the_cameras_own_device(
    hass: HomeAssistant, loaded: Loaded, cameras: dict
) -> None:
    entry, gw, _ = loaded
    # A doorbell whose own integration made a device for it.
    maker = MockConfigEntry(domain="acme")
    maker.add_to_hass(hass)
    own = dr.async_get(hass).async_get_or_create(
        config_entry_id=maker.entry_id,
        identifiers={("acme", "doorbell-1")},
        name="Porch doorbell",
        manufacturer="Acme",
    )
    await cameras["front_door"].platform.async_add_entities(
        [FakeCamera("Doorbell", "rtsp://127.0.0.1:8554/bell")]
    )
    # (No await in between: the integration reads the new camera only after its settle delay.)
    er.async_get(hass).async_update_entity("camera.doorbell", device_id=own.id)
    camera_id = cam(hass, "doorbell")
    await wait_for(lambda: camera_id in pushed(gw))
    await wait_for(lambda: hass.states.get("switch.porch_doorbell_share_with_city") is not None)

    switch = er.async_get(hass).async_get("switch.porch_doorbell_share_with_city")
    assert switch is not None
    assert switch.device_id == own.id, "one device per camera: the camera's own"
    ours = (DOMAIN, f"{gw.gateway_id}_{camera_id}")
    assert dr.async_get(hass).async_get_device_by_identifier(ours, entry.entry_id) is None
    assert pushed(gw)[camera_id]["label"] == hass.states.get("camera.doorbell").name, (
        "named as it is"
    )


async def test_choices_kept_under_old_ids_move_to_stable_ones(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], cameras: dict, hass_storage: dict[str, Any]
) -> None:
    gw, bound = gateway
    entry = make_entry(hass, bound.owner[1], unique_id=gw.gateway_id)
    # What an older version kept: settings and a switch under the camera's object id.
    store_settings(
        hass_storage,
        entry,
        {"cameras": {"front_door": {"consent": True, "approval": "auto", "max_minutes": 30}}},
    )
    old_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"{gw.gateway_id}_front_door")}
    )
    er.async_get(hass).async_get_or_create(
        "switch",
        DOMAIN,
        f"{gw.gateway_id}_front_door_consent",
        config_entry=entry,
        suggested_object_id="front_door_share_with_city",
        device_id=old_device.id,
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    camera_id = cam(hass, "front_door")
    assert pushed(gw)[camera_id]["consent"] is True
    assert pushed(gw)[camera_id]["approval"] == "auto"
    assert pushed(gw)[camera_id]["max_duration_s"] == 1800
    assert "front_door" not in pushed(gw)
    switch = er.async_get(hass).async_get(CONSENT)
    assert switch is not None
    assert switch.unique_id == f"{gw.gateway_id}_{camera_id}_consent"
    assert hass.states.get(CONSENT).state == "on"
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["cameras"]
    assert set(stored) >= {camera_id}
    assert "front_door" not in stored
    assert dr.async_get(hass).async_get(old_device.id) is None, "the old device is gone"
