"""Live state and policy push against a real gateway."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import DOMAIN, OWNER_LEASE_S

from ..conftest import GatewayFactory
from .conftest import (
    CONSENT,
    FRONT_SOURCE,
    FakeCamera,
    Loaded,
    cam,
    make_entry,
    store_settings,
    wait_for,
)

CONNECTED = "binary_sensor.rtcc_share_gateway_connected"


async def test_registry_pushes_rtsp_cameras_only(
    hass: HomeAssistant, loaded: Loaded, cameras: dict[str, FakeCamera]
) -> None:
    entry, gw, _ = loaded
    coordinator = entry.runtime_data.coordinator
    pushed = {c.id: c for c in gw.shares.owner.cameras}
    assert set(pushed) == {cam(hass, "front_door"), cam(hass, "garage")}
    assert pushed[cam(hass, "front_door")].source == FRONT_SOURCE
    assert pushed[cam(hass, "front_door")].consent is False
    reasons = {cid: c.reason for cid, c in coordinator.registry.items()}
    assert reasons == {
        cam(hass, "front_door"): None,
        cam(hass, "garage"): None,
        cam(hass, "cloud_doorbell"): "no_stream_source",
        cam(hass, "snapshot_cam"): "not_rtsp",
        cam(hass, "broken"): "stream_source_error",
    }


async def test_gateway_going_away_and_back(
    hass: HomeAssistant,
    loaded: Loaded,
    gateway_factory: GatewayFactory,
    config_dict: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry, gw, bound = loaded
    coordinator = entry.runtime_data.coordinator
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.front_door_share_with_city"}, blocking=True
    )
    await gw.stop()
    await wait_for(lambda: not coordinator.connected)
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTED).state == "off"
    assert hass.states.get(CONSENT).state == "on", "consent can still be withdrawn"
    assert hass.states.get("sensor.rtcc_share_active_shares").state == "unavailable"
    await wait_for(lambda: coordinator.failed_connects >= 3)
    assert caplog.text.count("went away") == 1, "several failed reconnects: one line in the log"

    config_dict["owner"]["port"] = bound.owner[1]
    config_dict["public"]["port"] = bound.public[1]
    config_dict["public"]["rtsp_port"] = bound.rtsp[1]
    back, _ = await gateway_factory(config_dict)
    await wait_for(lambda: coordinator.connected)
    await hass.async_block_till_done()
    assert caplog.text.count("is back") == 1
    assert hass.states.get(CONNECTED).state == "on"
    assert hass.states.get(CONSENT).state == "on"
    # The restarted gateway got the owner's policy again at once.
    assert {c.id: c.consent for c in back.shares.owner.cameras}[cam(hass, "front_door")] is True


async def test_policy_is_refreshed_inside_the_lease(hass: HomeAssistant, loaded: Loaded) -> None:
    _, gw, _ = loaded
    first = gw.shares.owner.pushed_at
    assert first is not None
    assert gw.owner_state()["policy"]["owner_lease_s"] == OWNER_LEASE_S
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=OWNER_LEASE_S / 3 + 1))
    await wait_for(lambda: gw.shares.owner.pushed_at != first)


async def test_stream_url_is_read_again_at_every_push(
    hass: HomeAssistant, loaded: Loaded, cameras: dict[str, FakeCamera]
) -> None:
    entry, gw, _ = loaded
    cameras["garage"].source = "rtsps://127.0.0.1:8322/garage?token=expiring-2"
    await entry.runtime_data.coordinator.async_push_policy()
    sources = {c.id: c.source for c in gw.shares.owner.cameras}
    assert sources[cam(hass, "garage")].endswith("expiring-2")


async def test_stale_policy_is_pushed_again(hass: HomeAssistant, loaded: Loaded) -> None:
    _, gw, _ = loaded
    first = gw.shares.owner.pushed_at
    gw.events.publish("policy_stale", since=None)
    await wait_for(lambda: gw.shares.owner.pushed_at != first)


async def test_a_new_camera_gets_its_device_and_entities(
    hass: HomeAssistant, loaded: Loaded, cameras: dict[str, FakeCamera]
) -> None:
    _, gw, _ = loaded
    # The camera platform already runs: a new camera entity appears there.
    platform = cameras["front_door"].platform
    pushed = gw.shares.owner.pushed_at
    await platform.async_add_entities(
        [
            FakeCamera("Back yard", "rtsp://127.0.0.1:8554/back"),
            FakeCamera("Side gate", "rtsp://127.0.0.1:8554/side"),
        ]
    )
    await wait_for(lambda: hass.states.get("switch.back_yard_share_with_city") is not None)
    assert hass.states.get("switch.back_yard_share_with_city").state == "off"
    await wait_for(lambda: cam(hass, "back_yard") in {c.id for c in gw.shares.owner.cameras})
    assert cam(hass, "side_gate") in {c.id for c in gw.shares.owner.cameras}
    assert hass.states.get("switch.side_gate_share_with_city") is not None
    assert gw.shares.owner.pushed_at != pushed


async def test_a_cut_audit_log_raises_a_repair_issue(
    hass: HomeAssistant,
    gateway: tuple[Gateway, Bound],
    cameras: dict[str, FakeCamera],
    hass_storage: dict[str, Any],
) -> None:
    gw, bound = gateway
    entry = make_entry(hass, bound.owner[1], unique_id=gw.gateway_id)
    store_settings(hass_storage, entry, {"audit_head": "99999:" + "ab" * 32})
    assert await hass.config_entries.async_setup(entry.entry_id)
    # The audit-head check runs after the connection is made: wait for its outcome, the issue.
    issues = ir.async_get(hass)
    await wait_for(lambda: issues.async_get_issue(DOMAIN, f"audit_chain_{entry.entry_id}"))
    issue = issues.async_get_issue(DOMAIN, f"audit_chain_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "audit_chain_broken"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_the_audit_head_is_kept_and_checked(hass: HomeAssistant, loaded: Loaded) -> None:
    entry, gw, _ = loaded
    coordinator = entry.runtime_data.coordinator
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.front_door_share_with_city"}, blocking=True
    )
    records = await gw.audit.records(limit=1000)
    last = records[-1]
    await wait_for(lambda: coordinator.settings.audit_head == f"{last.seq}:{last.hash}")
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"audit_chain_{entry.entry_id}") is None


async def test_refused_token_on_the_event_stream_starts_reauth(
    hass: HomeAssistant, loaded: Loaded
) -> None:
    entry, gw, _ = loaded
    coordinator = entry.runtime_data.coordinator
    gw.config = dataclasses.replace(
        gw.config, owner=dataclasses.replace(gw.config.owner, token="rotated-" + "x" * 30)
    )
    for ws in list(gw.websockets):
        await ws.close()
    await wait_for(lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert not coordinator.connected


async def test_a_policy_the_gateway_refuses_is_named(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], cameras: dict[str, FakeCamera]
) -> None:
    gw, bound = gateway
    hass.config.latitude = 123.0  # not a latitude: the gateway refuses the cameras' location
    entry = make_entry(hass, bound.owner[1], unique_id=gw.gateway_id)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "refused the owner's policy: cameras[0].location.lat" in (entry.reason or "")


async def test_an_unexpected_error_in_the_stream_reconnects(
    hass: HomeAssistant,
    loaded: Loaded,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry, gw, _ = loaded
    coordinator = entry.runtime_data.coordinator
    original = coordinator.client.put_policy
    calls = 0

    async def once_broken(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("surprise")
        return await original(*args)

    # A stale policy makes the event loop push again: the push blows up once.
    monkeypatch.setattr(coordinator.client, "put_policy", once_broken)
    gw.events.publish("policy_stale", since=None)
    await wait_for(lambda: "Unexpected error while following" in caplog.text)
    await wait_for(lambda: coordinator.connected)
    assert hass.states.get(CONSENT).state == "off"
