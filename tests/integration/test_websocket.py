"""The panel's websocket commands and subscription, against a real gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.components.frontend import DATA_PANELS
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.rtcc_share.panel import PANEL_URL_PATH

from .conftest import CityCall, Loaded, wait_for
from .test_event import consent

Client = Any


async def _client(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> Client:
    return await hass_ws_client(hass)


@pytest.fixture
async def ws(hass: HomeAssistant, loaded: Loaded, hass_ws_client: WebSocketGenerator) -> Client:
    """The panel's websocket, as the owner, to Home Assistant with the gateway loaded."""
    return await _client(hass, hass_ws_client)


async def _ok(ws: Client, **message: Any) -> Any:
    await ws.send_json_auto_id(message)
    answer = await ws.receive_json()
    assert answer["success"], answer
    return answer["result"]


async def _error(ws: Client, **message: Any) -> dict[str, Any]:
    await ws.send_json_auto_id(message)
    answer = await ws.receive_json()
    assert not answer["success"], answer
    return dict(answer["error"])


def _gateway(result: dict[str, Any]) -> dict[str, Any]:
    (gateway,) = result["gateways"]
    return dict(gateway)


def _camera(gateway: dict[str, Any], entity_id: str) -> dict[str, Any]:
    """A camera of the snapshot by its camera entity (its gateway id is opaque)."""
    return next(c for c in gateway["cameras"] if c["entity_id"] == entity_id)


async def _consent_through_the_panel(ws: Client, entry: MockConfigEntry) -> None:
    await _ok(
        ws,
        type="rtcc_share/set_consent",
        entry_id=entry.entry_id,
        camera_id="camera.front_door",
        consent=True,
    )


def _front_id(entry: MockConfigEntry) -> str:
    camera_id = entry.runtime_data.coordinator.camera_id_of("camera.front_door")
    assert camera_id is not None
    return str(camera_id)


async def _next_snapshot(ws: Client, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Read the subscription's pushes until one satisfies `until` (each push is a snapshot)."""
    while True:
        message = await ws.receive_json()
        assert message["type"] == "event", message
        gateway = _gateway(message["event"])
        if until(gateway):
            return gateway


async def test_state_shows_cameras_with_consent_and_status(loaded: Loaded, ws: Client) -> None:
    entry, gw, _ = loaded
    gateway = _gateway(await _ok(ws, type="rtcc_share/state"))
    assert gateway["entry_id"] == entry.entry_id
    assert gateway["gateway_id"] == gw.gateway_id
    assert gateway["connected"] is True
    front = _camera(gateway, "camera.front_door")
    assert front["consent"] is False
    assert front["status"] == "not_shared"  # consent off: never "idle" (ready to share)
    assert front["entity_id"] == "camera.front_door"
    cloud = _camera(gateway, "camera.cloud_doorbell")
    assert cloud["shareable"] is False
    assert cloud["status"] == "unavailable"
    assert gateway["audit"]["ok"] is True
    assert gateway["audit"]["count"] >= 1
    assert [a["agency"] for a in gateway["transparency"]["agencies"]] == ["hcso", "jpd"]


async def test_set_consent_then_a_request_is_shown_and_approved_per_camera(
    loaded: Loaded, city: CityCall, ws: Client
) -> None:
    entry, gw, _ = loaded
    await _consent_through_the_panel(ws, entry)
    assert entry.runtime_data.coordinator.controls.camera_settings(_front_id(entry)).consent

    status, body = await city()
    assert status == 202, body  # accepted, waiting for the owner
    request_id = body["request_id"]
    await wait_for(lambda: entry.runtime_data.coordinator.data["pending_requests"])
    gateway = _gateway(await _ok(ws, type="rtcc_share/state"))
    (pending,) = gateway["pending_requests"]
    assert pending["request_id"] == request_id
    assert pending["agency"] == "Jackson Police Department"
    assert pending["incident_id"] == "JPD-2026-001234"
    assert pending["offense"] == "burglary"
    assert pending["reason"] == "Suspect seen leaving towards the street"
    assert pending["pending_camera_ids"] == [_front_id(entry)]
    assert pending["approve_by"]
    assert _camera(gateway, "camera.front_door")["status"] == "pending"

    await _ok(
        ws,
        type="rtcc_share/approve",
        entry_id=entry.entry_id,
        request_id=request_id,
        camera_ids=["camera.front_door"],
    )
    assert [s["camera_id"] for s in gw.owner_state()["shares"]] == [_front_id(entry)]


async def test_deny_and_unknown_request(loaded: Loaded, city: CityCall, ws: Client) -> None:
    entry, gw, _ = loaded
    await _consent_through_the_panel(ws, entry)
    _, body = await city()
    await _ok(ws, type="rtcc_share/deny", entry_id=entry.entry_id, request_id=body["request_id"])
    assert gw.owner_state()["pending_requests"] == []
    assert gw.owner_state()["shares"] == []

    error = await _error(
        ws, type="rtcc_share/approve", entry_id=entry.entry_id, request_id="no-such-request"
    )
    assert error["code"] == "not_found"
    assert "no-such-request" in error["message"]


async def test_subscription_pushes_on_every_change_and_revoke_ends_the_share(
    hass: HomeAssistant, loaded: Loaded, city: CityCall, ws: Client
) -> None:
    entry, gw, _ = loaded
    await ws.send_json_auto_id({"type": "rtcc_share/subscribe"})
    answer = await ws.receive_json()
    assert answer["success"], answer
    first = await _next_snapshot(ws, lambda _g: True)
    assert _camera(first, "camera.front_door")["consent"] is False

    await consent(hass)  # the switch, not the panel: every change is pushed
    await _next_snapshot(ws, lambda g: _camera(g, "camera.front_door")["consent"] is True)

    _, body = await city()
    pending = await _next_snapshot(ws, lambda g: bool(g["pending_requests"]))
    assert pending["pending_requests"][0]["request_id"] == body["request_id"]

    await hass.services.async_call(
        "rtcc_share", "approve", {"request_id": body["request_id"]}, blocking=True
    )
    live = await _next_snapshot(ws, lambda g: bool(g["shares"]))
    (share,) = live["shares"]
    assert share["ends_at"]
    assert share["viewers"] == 0

    # Revoke goes through its own command; the subscription shows the share gone.
    await ws.send_json_auto_id(
        {"type": "rtcc_share/revoke", "entry_id": entry.entry_id, "share_id": share["share_id"]}
    )
    while (message := await ws.receive_json())["type"] != "result":
        pass  # snapshots pushed meanwhile
    assert message["success"], message
    await _next_snapshot(ws, lambda g: not g["shares"])
    assert gw.owner_state()["shares"] == []

    await ws.send_json_auto_id({"type": "unsubscribe_events", "subscription": answer["id"]})


async def test_pause_resume_and_audit_export(loaded: Loaded, ws: Client) -> None:
    entry, gw, _ = loaded
    await _ok(ws, type="rtcc_share/pause", entry_id=entry.entry_id, minutes=30)
    gateway = _gateway(await _ok(ws, type="rtcc_share/state"))
    assert gateway["paused"] is True
    assert gateway["paused_until"]
    assert gw.owner_state()["paused"] is True
    await _ok(ws, type="rtcc_share/resume", entry_id=entry.entry_id)
    assert gw.owner_state()["paused"] is False

    export = await _ok(ws, type="rtcc_share/audit_export", entry_id=entry.entry_id)
    kinds = [r["kind"] for r in export["records"]]
    assert export["truncated"] is False
    assert [r["seq"] for r in export["records"]] == sorted(r["seq"] for r in export["records"])
    assert len(kinds) == _gateway(await _ok(ws, type="rtcc_share/state"))["audit"]["count"]


async def test_bad_input_gets_a_clear_error(loaded: Loaded, ws: Client) -> None:
    entry, _, _ = loaded
    error = await _error(ws, type="rtcc_share/resume", entry_id="nope")
    assert error["code"] == "not_found"
    assert "nope" in error["message"]
    error = await _error(
        ws,
        type="rtcc_share/set_consent",
        entry_id=entry.entry_id,
        camera_id="camera.cloud_doorbell",
        consent=True,
    )
    assert error["code"] == "not_found"
    assert "camera.cloud_doorbell" in error["message"]
    error = await _error(ws, type="rtcc_share/pause", entry_id=entry.entry_id, minutes=0)
    assert error["code"] == "invalid_format"
    error = await _error(
        ws,
        type="rtcc_share/revoke",
        entry_id=entry.entry_id,
        share_id="a",
        camera_id="camera.front_door",
    )
    assert error["code"] == "invalid_format"
    error = await _error(ws, type="rtcc_share/approve", entry_id=entry.entry_id)
    assert error["code"] == "invalid_format"


async def test_a_gateway_away_is_said_not_hidden(loaded: Loaded, ws: Client) -> None:
    entry, gw, _ = loaded
    await gw.stop()
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: not coordinator.connected)
    gateway = _gateway(await _ok(ws, type="rtcc_share/state"))
    assert gateway["connected"] is False
    assert "Cannot reach" in gateway["audit"]["error"]
    error = await _error(ws, type="rtcc_share/resume", entry_id=entry.entry_id)
    assert error["code"] == "home_assistant_error"
    assert error["message"]


async def test_commands_are_for_administrators_only(
    hass: HomeAssistant,
    loaded: Loaded,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> None:
    hass_admin_user.groups = []  # no longer an administrator
    ws = await _client(hass, hass_ws_client)
    for message in ({"type": "rtcc_share/state"}, {"type": "rtcc_share/subscribe"}):
        error = await _error(ws, **message)
        assert error["code"] == "unauthorized"


async def test_the_panel_is_served_and_removed_with_the_last_entry(
    hass: HomeAssistant, loaded: Loaded, hass_client: ClientSessionGenerator
) -> None:
    entry, _, _ = loaded
    panel = hass.data[DATA_PANELS][PANEL_URL_PATH]
    assert panel.require_admin is True
    assert panel.sidebar_title == "City sharing"
    module_url = panel.config["_panel_custom"]["module_url"]
    client = await hass_client()
    resp = await client.get(module_url)
    assert resp.status == 200
    text = await resp.text()
    assert 'customElements.define("rtcc-share-panel"' in text
    assert "import " not in text  # a plain module: nothing fetched from anywhere else
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert PANEL_URL_PATH not in hass.data["frontend_panels"]


async def test_the_subscription_follows_entries_that_unload(
    hass: HomeAssistant, loaded: Loaded, ws: Client
) -> None:
    entry, _, _ = loaded
    await ws.send_json_auto_id({"type": "rtcc_share/subscribe"})
    assert (await ws.receive_json())["success"]
    assert (await ws.receive_json())["event"]["gateways"]
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    while (message := await ws.receive_json())["event"]["gateways"]:
        pass  # pushes from before the unload
    assert message["event"]["gateways"] == []
