"""ONVIF cameras on the LAN: background discovery, the add-camera subentry flow, the policy push
with the looked-up stream URI, repair issues for a password that stopped working, stale devices.

The end-to-end tests run against the ipycam simulator (only inside scripts/test's loopback-only
namespace); the others replace the look-up and run everywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import pytest
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share import cameras, onvif_flow
from custom_components.rtcc_share.cameras import onvif_camera_id
from custom_components.rtcc_share.const import DOMAIN, SUBENTRY_ONVIF
from custom_components.rtcc_share.diagnostics import async_get_config_entry_diagnostics
from custom_components.rtcc_share.discovery import lan as lan_discovery
from custom_components.rtcc_share.discovery.lan import DiscoveredCamera
from custom_components.rtcc_share.discovery.onvif import (
    OnvifAuthError,
    OnvifCamera,
    OnvifConnectionError,
    OnvifError,
    OnvifProfile,
)
from custom_components.rtcc_share.discovery.ws_discovery import DiscoveredDevice, probe
from custom_components.rtcc_share.issues import onvif_issue_id

from ..peers.onvif_sim import OnvifSim
from .conftest import SIM_PASSWORD, SIM_USER, FakeCamera, Loaded, cam, make_entry, wait_for

WRONG_PASSWORD = "Wrong-Secret-9876"
CAMERA_KEYS = ("consent", "approval", "max_minutes", "sharing_status", "viewers")
PLATFORM_OF = {
    "consent": "switch",
    "approval": "select",
    "max_minutes": "number",
    "sharing_status": "sensor",
    "viewers": "sensor",
}


def subentry_flow(hass: HomeAssistant) -> Any:
    return hass.config_entries.subentries


async def start_add(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    return await subentry_flow(hass).async_init(
        (entry.entry_id, SUBENTRY_ONVIF), context={"source": SOURCE_USER}
    )


async def configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    return await subentry_flow(hass).async_configure(flow_id, data)


def camera_entities(hass: HomeAssistant, gateway_id: str, camera_id: str) -> dict[str, str | None]:
    registry = er.async_get(hass)
    return {
        key: registry.async_get_entity_id(
            PLATFORM_OF[key], DOMAIN, f"{gateway_id}_{camera_id}_{key}"
        )
        for key in CAMERA_KEYS
    }


def camera_device(
    hass: HomeAssistant, entry: MockConfigEntry, gw: Gateway, camera_id: str
) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{gw.gateway_id}_{camera_id}"), entry.entry_id
    )


def unexpected_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records with a stack trace, except the fixture's deliberately broken HA camera."""
    return [
        r.getMessage()
        for r in caplog.records
        if (r.exc_info or "Traceback" in r.getMessage()) and "camera.broken" not in r.getMessage()
    ]


def heard(
    uuid: str,
    xaddr: str | None,
    *,
    name: str | None = None,
    types: tuple[str, ...] = ("dn:NetworkVideoTransmitter",),
) -> DiscoveredDevice:
    """What WS-Discovery heard from device urn:uuid:`uuid` (a camera, unless `types` say not)."""
    return DiscoveredDevice(
        address=f"urn:uuid:{uuid}",
        xaddrs=(xaddr,) if xaddr else (),
        types=types,
        scopes=(f"onvif://www.onvif.org/name/{quote(name)}",) if name else (),
    )


def pushed(gw: Gateway) -> dict[str, Any]:
    return {c.id: c for c in gw.shares.owner.cameras}


# --- against ipycam (loopback-only namespace) ---------------------------------------------------


@pytest.fixture
def lan_is_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery probes 127.0.0.1 (unicast) instead of the LAN."""

    async def loopback_probe(**kwargs: Any) -> list[DiscoveredDevice]:
        return await probe(
            timeout=min(1.0, kwargs["timeout"]),
            multicast_group=None,
            unicast_targets=["127.0.0.1"],
        )

    monkeypatch.setattr(lan_discovery, "ws_probe", loopback_probe)


@pytest.mark.usefixtures("socket_enabled", "lan_is_loopback")
async def test_discovered_camera_is_added_shared_repaired_and_removed(
    hass: HomeAssistant, sim: OnvifSim, loaded: Loaded, caplog: pytest.LogCaptureFixture
) -> None:
    entry, gw, _bound = loaded
    coord = entry.runtime_data.coordinator
    await wait_for(lambda: coord.discovered, timeout=5)
    (found,) = coord.discovered.values()
    assert (found.name, found.host, found.port) == ("Porch-Sim", "127.0.0.1", sim.onvif_port)

    # The owner picks the discovered camera; a wrong password is named, never a stack trace.
    result = await start_add(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await configure(hass, result["flow_id"], {"device": found.address})
    assert result["step_id"] == "credentials"
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    result = await configure(
        hass, result["flow_id"], {CONF_USERNAME: SIM_USER, CONF_PASSWORD: WRONG_PASSWORD}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert not unexpected_tracebacks(caplog)
    assert WRONG_PASSWORD not in caplog.text
    result = await configure(
        hass, result["flow_id"], {CONF_USERNAME: SIM_USER, CONF_PASSWORD: SIM_PASSWORD}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Porch-Sim"
    (subentry,) = entry.subentries.values()
    assert subentry.unique_id == found.address
    camera_id = onvif_camera_id(subentry.subentry_id)

    # Offered to the gateway with the credentials in its RTSP source; a device with five entities.
    await wait_for(lambda: camera_id in pushed(gw))
    source = pushed(gw)[camera_id].source
    assert source.startswith("rtsp://admin:")
    assert source.endswith(f"@127.0.0.1:{sim.rtsp_port}/video_main")
    assert pushed(gw)[camera_id].label == "Porch-Sim"
    await hass.async_block_till_done()
    entities = camera_entities(hass, gw.gateway_id, camera_id)
    assert all(entities.values()), entities
    device = camera_device(hass, entry, gw, camera_id)
    assert device is not None
    assert device.name == "Porch-Sim"
    assert device.config_subentry_id == subentry.subentry_id
    assert hass.states.get(str(entities["consent"])).state == "off"

    # Adding it again: the same device address is refused (through the manual path too).
    result = await start_add(hass, entry)
    assert result["step_id"] == "manual"  # the only discovered camera is added already
    result = await configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: sim.onvif_port}
    )
    result = await configure(
        hass, result["flow_id"], {CONF_USERNAME: SIM_USER, CONF_PASSWORD: SIM_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    # The password changes on the camera's side (here: the stored one goes wrong): repair issue,
    # the camera is no longer offered, its entities go unavailable.
    issues = ir.async_get(hass)
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_PASSWORD: WRONG_PASSWORD}
    )
    await wait_for(lambda: issues.async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id)))
    issue = issues.async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id))
    assert issue is not None
    assert issue.translation_key == "onvif_invalid_auth"
    assert issue.translation_placeholders == {
        "camera": "Porch-Sim",
        "host": f"127.0.0.1:{sim.onvif_port}",
    }
    await wait_for(lambda: camera_id not in pushed(gw))
    assert coord.registry[camera_id].reason == "onvif_invalid_auth"
    await wait_for(lambda: hass.states.get(str(entities["consent"])).state == "unavailable")
    assert not unexpected_tracebacks(caplog)
    assert WRONG_PASSWORD not in caplog.text

    # The owner enters the current password (subentry reconfigure): the issue goes away.
    result = await subentry_flow(hass).async_init(
        (entry.entry_id, SUBENTRY_ONVIF),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    assert result["step_id"] == "reconfigure"
    address = {CONF_HOST: "127.0.0.1", CONF_PORT: sim.onvif_port, CONF_USERNAME: SIM_USER}
    result = await configure(hass, result["flow_id"], {**address, CONF_PASSWORD: WRONG_PASSWORD})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await configure(hass, result["flow_id"], {**address, CONF_PASSWORD: SIM_PASSWORD})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await wait_for(lambda: camera_id in pushed(gw))
    assert issues.async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id)) is None
    await hass.async_block_till_done()
    assert hass.states.get(str(entities["consent"])).state == "off"

    # Removed by the owner: its device and entities go, and the gateway no longer has it.
    assert hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    await wait_for(lambda: camera_id not in pushed(gw))
    await hass.async_block_till_done()
    assert camera_device(hass, entry, gw, camera_id) is None
    assert not any(camera_entities(hass, gw.gateway_id, camera_id).values())


# --- with the look-up replaced (everywhere) -----------------------------------------------------


def fake_camera(
    host: str, port: int, serial: str = "SN-1", manufacturer: str = "Acme"
) -> OnvifCamera:
    profile = OnvifProfile("main", "Main", "H264", 640, 480, 10)
    return OnvifCamera(
        host=host,
        port=port,
        manufacturer=manufacturer,
        model="Cam 2" if manufacturer else "",
        serial_number=serial,
        firmware_version="1.0",
        hardware_id="",
        profiles=(profile,),
        main_profile=profile,
        stream_uri=f"rtsp://{host}:554/main?x=1",
    )


class FakeLan:
    """Stands in for the camera: what each look-up answers (a camera or an error)."""

    def __init__(self) -> None:
        self.answer: OnvifCamera | Exception | None = None
        self.calls: list[tuple[str, int, str | None, str | None]] = []

    async def lookup(
        self, host: str, port: int, username: str | None, password: str | None, **_kw: Any
    ) -> OnvifCamera:
        self.calls.append((host, port, username, password))
        answer = self.answer
        if isinstance(answer, Exception):
            raise answer
        return answer if answer is not None else fake_camera(host, port)


@pytest.fixture
def lan(monkeypatch: pytest.MonkeyPatch) -> FakeLan:
    fake = FakeLan()
    monkeypatch.setattr(onvif_flow, "lookup", fake.lookup)
    monkeypatch.setattr(cameras, "lookup", fake.lookup)
    return fake


async def test_flow_aborts_while_the_entry_is_not_loaded(hass: HomeAssistant) -> None:
    entry = make_entry(hass, 1)
    result = await start_add(hass, entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (OnvifAuthError("no"), "invalid_auth"),
        (OnvifConnectionError("gone"), "cannot_connect"),
        (OnvifError("not a camera"), "not_onvif"),
        (RuntimeError("boom"), "unknown"),
    ],
)
async def test_lookup_failures_are_named_in_the_form(
    hass: HomeAssistant, lan: FakeLan, loaded: Loaded, error: Exception, key: str
) -> None:
    entry, _gw, _bound = loaded
    lan.answer = error
    result = await start_add(hass, entry)
    assert result["step_id"] == "manual"
    result = await configure(hass, result["flow_id"], {CONF_HOST: "192.0.2.7", CONF_PORT: 8000})
    assert result["step_id"] == "credentials"
    assert result["description_placeholders"] == {"camera": "192.0.2.7", "host": "192.0.2.7:8000"}
    result = await configure(hass, result["flow_id"], {CONF_USERNAME: "u", CONF_PASSWORD: "p"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": key}
    assert not entry.subentries


async def test_manual_camera_and_its_failures_at_push_time(
    hass: HomeAssistant, lan: FakeLan, loaded: Loaded, cameras: dict[str, FakeCamera]
) -> None:
    entry, gw, _bound = loaded
    coord = entry.runtime_data.coordinator
    # Discovery found another camera: the user step offers it, the owner enters an address.
    coord.discovered = {
        "urn:uuid:other": DiscoveredCamera("urn:uuid:other", "Shed", "192.0.2.9", 80)
    }
    result = await start_add(hass, entry)
    assert result["step_id"] == "user"
    result = await configure(hass, result["flow_id"], {"device": "manual"})
    assert result["step_id"] == "manual"
    result = await configure(hass, result["flow_id"], {CONF_HOST: "192.0.2.7", CONF_PORT: 8000})
    result = await configure(hass, result["flow_id"], {CONF_USERNAME: "", CONF_PASSWORD: ""})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Acme Cam 2"
    (subentry,) = entry.subentries.values()
    assert subentry.unique_id == "Acme_SN-1"
    assert subentry.data[CONF_USERNAME] == ""
    camera_id = onvif_camera_id(subentry.subentry_id)
    await wait_for(lambda: camera_id in pushed(gw))
    assert pushed(gw)[camera_id].source == "rtsp://192.0.2.7:554/main?x=1"  # no credentials
    assert lan.calls[-1] == ("192.0.2.7", 8000, None, None)
    # HA camera entities are still offered alongside
    assert cam(hass, "front_door") in pushed(gw)

    # Unreachable: not offered for now, with the reason, and no repair issue.
    lan.answer = OnvifConnectionError("gone")
    await coord.async_push_policy()
    assert camera_id not in pushed(gw)
    assert coord.registry[camera_id].reason == "onvif_unreachable"
    assert not ir.async_get(hass).issues
    lan.answer = OnvifError("odd")
    await coord.async_push_policy()
    assert coord.registry[camera_id].reason == "onvif_error"
    # Back: offered again.
    lan.answer = None
    await coord.async_push_policy()
    assert camera_id in pushed(gw)
    assert coord.camera_id_of(camera_id) == camera_id
    assert coord.entity_id_of(camera_id) is None

    # A wrong password raises the issue; removing the camera takes the issue with it.
    lan.answer = OnvifAuthError("no")
    await coord.async_push_policy()
    assert ir.async_get(hass).async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id))
    # The device of an ONVIF camera goes with its subentry, not on its own.
    device = camera_device(hass, entry, gw, camera_id)
    assert device is not None
    from custom_components.rtcc_share import async_remove_config_entry_device  # noqa: PLC0415

    assert not await async_remove_config_entry_device(hass, entry, device)
    hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    await wait_for(
        lambda: (
            ir.async_get(hass).async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id)) is None
        )
    )


async def test_names_and_ids_without_discovery_or_serial(
    hass: HomeAssistant, lan: FakeLan, loaded: Loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry, _gw, _bound = loaded

    async def shed(**_kwargs: Any) -> list[DiscoveredDevice]:
        return [heard("shed", "http://192.0.2.9/onvif/device_service", name="Shed")]

    monkeypatch.setattr(lan_discovery, "ws_probe", shed)
    coord = entry.runtime_data.coordinator
    coord.async_start_discovery()
    await wait_for(lambda: coord.discovered)
    lan.answer = fake_camera("192.0.2.5", 80, serial="", manufacturer="")
    result = await start_add(hass, entry)
    result = await configure(hass, result["flow_id"], {"device": "manual"})
    result = await configure(hass, result["flow_id"], {CONF_HOST: "192.0.2.5", CONF_PORT: 80})
    result = await configure(hass, result["flow_id"], {CONF_USERNAME: "u", CONF_PASSWORD: "p"})
    assert result["title"] == "192.0.2.5"
    assert {sub.unique_id for sub in entry.subentries.values()} == {"192.0.2.5:80"}
    # A manual address that discovery knows takes the discovered identity and name.
    lan.answer = None
    result = await start_add(hass, entry)
    result = await configure(hass, result["flow_id"], {"device": "manual"})
    result = await configure(hass, result["flow_id"], {CONF_HOST: "192.0.2.9", CONF_PORT: 80})
    assert result["description_placeholders"]["camera"] == "Shed"
    result = await configure(hass, result["flow_id"], {CONF_USERNAME: "u", CONF_PASSWORD: "p"})
    assert result["title"] == "Shed"
    assert {sub.unique_id for sub in entry.subentries.values()} == {"192.0.2.5:80", "urn:uuid:shed"}
    # Every discovered camera is added now: the flow goes straight to the address.
    result = await start_add(hass, entry)
    assert result["step_id"] == "manual"


async def test_discovery_runs_in_the_background(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    gateway: tuple[Gateway, Bound],
    cameras: dict[str, FakeCamera],
) -> None:
    gw, bound = gateway
    release = asyncio.Event()
    probes: list[float] = []

    async def slow_probe(**kwargs: Any) -> list[DiscoveredDevice]:
        probes.append(kwargs["timeout"])
        await release.wait()
        return [
            heard("cam-1", "http://192.0.2.3:2020/onvif/device_service", name="Porch"),
            heard("nvr", "http://192.0.2.4/onvif/device_service", types=("tds:Device",)),  # NVR
            heard("mute", None),  # no address to reach it at
            heard("cam-2", "http://192.0.2.5/onvif/device_service"),  # no name: its host stands in
        ]

    monkeypatch.setattr(lan_discovery, "ws_probe", slow_probe)
    entry = make_entry(hass, bound.owner[1], unique_id=gw.gateway_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    # Loaded while discovery is still waiting for answers.
    assert entry.state is ConfigEntryState.LOADED
    assert probes == [3.0]
    coord = entry.runtime_data.coordinator
    assert coord.discovered == {}
    coord.async_start_discovery()  # already running: not started twice
    release.set()
    await wait_for(lambda: coord.discovered)
    assert coord.discovered == {
        "urn:uuid:cam-1": DiscoveredCamera("urn:uuid:cam-1", "Porch", "192.0.2.3", 2020),
        "urn:uuid:cam-2": DiscoveredCamera("urn:uuid:cam-2", "192.0.2.5", "192.0.2.5", 80),
    }
    assert probes == [3.0]
    # Opening the add-camera flow looks again (on demand), in the background too.
    result = await start_add(hass, entry)
    assert result["step_id"] == "user"
    await hass.async_block_till_done()
    assert probes == [3.0, 3.0]
    subentry_flow(hass).async_abort(result["flow_id"])
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_discovery_errors_are_only_logged(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    loaded: Loaded,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry, _gw, _bound = loaded

    async def no_socket(**_kwargs: Any) -> list[DiscoveredDevice]:
        raise OSError("no multicast here")

    monkeypatch.setattr(lan_discovery, "ws_probe", no_socket)
    caplog.set_level(logging.DEBUG)
    coord = entry.runtime_data.coordinator
    coord.async_start_discovery()
    await hass.async_block_till_done()
    assert coord.discovered == {}
    assert "ONVIF discovery failed: no multicast here" in caplog.text


async def test_devices_of_cameras_gone_for_good_are_removed(
    hass: HomeAssistant, loaded: Loaded, cameras: dict[str, FakeCamera]
) -> None:
    entry, gw, _bound = loaded
    coord = entry.runtime_data.coordinator
    assert camera_device(hass, entry, gw, cam(hass, "garage")) is not None
    assert camera_device(hass, entry, gw, cam(hass, "front_door")) is not None
    # A camera whose integration is not loaded (no state, still registered) keeps its device.
    hass.states.async_remove("camera.front_door")
    # A camera entity the owner deleted is gone for good: its device goes with the next push.
    er.async_get(hass).async_remove("camera.garage")
    await hass.async_block_till_done()
    assert hass.states.get("camera.garage") is None
    await coord.async_push_policy()
    assert cam(hass, "garage") not in pushed(gw)
    assert camera_device(hass, entry, gw, cam(hass, "garage")) is None
    assert camera_device(hass, entry, gw, cam(hass, "front_door")) is not None
    hub = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, gw.gateway_id), entry.entry_id)
    assert hub is not None


async def test_diagnostics_redact_onvif_credentials(
    hass: HomeAssistant, lan: FakeLan, loaded: Loaded
) -> None:
    entry, gw, _bound = loaded
    lan.answer = None
    subentry = ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_HOST: "192.0.2.8",
                CONF_PORT: 80,
                CONF_USERNAME: "porch-admin",
                CONF_PASSWORD: "s3cret-pw",
            }
        ),
        subentry_type=SUBENTRY_ONVIF,
        title="Porch",
        unique_id="urn:uuid:porch",
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    camera_id = onvif_camera_id(subentry.subentry_id)
    await wait_for(lambda: camera_id in pushed(gw))
    assert pushed(gw)[camera_id].source == "rtsp://porch-admin:s3cret-pw@192.0.2.8:554/main?x=1"
    diag = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diag)
    assert "s3cret-pw" not in text
    assert "porch-admin" not in text
    (camera,) = diag["onvif_cameras"]
    assert camera["data"][CONF_PASSWORD] == "**REDACTED**"
    assert camera["unique_id"] == "urn:uuid:porch"
    onvif = [c for c in diag["cameras"] if c["onvif_subentry_id"] == subentry.subentry_id]
    assert onvif[0]["shareable"] is True


async def test_removing_the_entry_clears_camera_issues(
    hass: HomeAssistant, lan: FakeLan, loaded: Loaded
) -> None:
    entry, _gw, _bound = loaded
    lan.answer = OnvifAuthError("no")
    subentry = ConfigSubentry(
        data=MappingProxyType({CONF_HOST: "192.0.2.8", CONF_PORT: 80}),
        subentry_type=SUBENTRY_ONVIF,
        title="Porch",
        unique_id="urn:uuid:porch",
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    issues = ir.async_get(hass)
    await wait_for(lambda: issues.async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id)))
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, onvif_issue_id(subentry.subentry_id)) is None
