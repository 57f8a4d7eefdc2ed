"""Fixtures for the Home Assistant side."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    setup_test_component_platform,
)
from rtcc_gateway.api import owner as owner_api
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share import coordinator, gateway_client
from custom_components.rtcc_share.cameras import entity_camera_id
from custom_components.rtcc_share.const import DOMAIN
from custom_components.rtcc_share.discovery import lan

from ..conftest import OWNER_TOKEN, jpd_request_headers
from ..peers.onvif_sim import OnvifSim, run_onvif_sim, sim_unavailable

# What the `loaded` fixture gives: the config entry, the in-process gateway and its ports.
type Loaded = tuple[MockConfigEntry, Gateway, Bound]
CONSENT = "switch.front_door_share_with_city"
PAUSE = "switch.rtcc_share_pause_sharing"
# The ONVIF simulator's credentials (a password with characters that need escaping).
SIM_USER = "admin"
SIM_PASSWORD = "Sim-Pass:w/rd@1"
FRONT_SOURCE = "rtsp://user:frontpass@127.0.0.1:8554/front"
GARAGE_SOURCE = "rtsps://127.0.0.1:8322/garage?token=expiring-1"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/rtcc_share in every test here."""


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect quickly in tests."""
    monkeypatch.setattr(coordinator.RtccShareCoordinator, "backoff_s", (0.05, 0.2))


@pytest.fixture(autouse=True)
def no_server_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp's server-side WebSocket keeps a heartbeat timer after a client-initiated close
    (it re-arms on the close frame's data); HA's test harness fails on lingering timers, so
    the in-process gateway runs its event WebSocket without heartbeat here.
    """
    monkeypatch.setattr(owner_api, "WS_HEARTBEAT_S", None)
    # The client side has the same quirk after a close it starts itself.
    monkeypatch.setattr(gateway_client, "WS_HEARTBEAT_S", None)


@pytest.fixture(autouse=True)
def no_lan_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """ONVIF discovery multicasts to the LAN: here nobody answers unless a test says otherwise."""

    async def nobody(**_kwargs: Any) -> list[Any]:
        return []

    monkeypatch.setattr(lan, "ws_probe", nobody)


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    """One ONVIF simulator with credentials per module (it takes about a second to start)."""
    if (reason := sim_unavailable()) is not None:
        print(f"skipping ipycam tests: {reason}")
        pytest.skip(reason)
    with run_onvif_sim(name="Porch-Sim", username=SIM_USER, password=SIM_PASSWORD) as running:
        yield running


@pytest.fixture
def closed_port(socket_enabled: None) -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeCamera(Camera):
    """A camera entity whose stream source is whatever the test says (no video involved)."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, name: str, source: str | None) -> None:
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"fake_{name.lower().replace(' ', '_')}"
        self.source = source
        self.source_reads = 0

    async def stream_source(self) -> str | None:
        self.source_reads += 1
        return self.source

    async def async_camera_image(
        self,
        width: int | None = None,  # noqa: ARG002 - the base class's signature
        height: int | None = None,  # noqa: ARG002
    ) -> bytes | None:
        return None


class BrokenCamera(FakeCamera):
    """A camera whose stream source lookup fails."""

    async def stream_source(self) -> str | None:
        raise RuntimeError("cloud said no")


@pytest.fixture
async def cameras(hass: HomeAssistant) -> dict[str, FakeCamera]:
    """Camera entities: two RTSP ones, one without a stream, one HTTP-only, one broken."""
    cams = {
        "front_door": FakeCamera("Front door", FRONT_SOURCE),
        "garage": FakeCamera("Garage", GARAGE_SOURCE),
        "cloud_doorbell": FakeCamera("Cloud doorbell", None),
        "snapshot_cam": FakeCamera("Snapshot cam", "http://127.0.0.1/snap.jpg"),
        "broken": BrokenCamera("Broken", None),
    }
    setup_test_component_platform(hass, "camera", list(cams.values()))
    assert await async_setup_component(hass, "camera", {"camera": {"platform": "test"}})
    await hass.async_block_till_done()
    return cams


def cam(hass: HomeAssistant, name: str) -> str:
    """The gateway camera id of the test camera `camera.<name>` (stable ids: an opaque hash of
    the entity registry's id, as cameras.stable_camera_id makes them)."""
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    return entity_camera_id(hass, entry.entry_id, f"camera.{name}")


def make_entry(
    hass: HomeAssistant, port: int, token: str = OWNER_TOKEN, **kwargs: Any
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=kwargs.pop("unique_id", "gw_test"),
        data={CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_TOKEN: token},
        **kwargs,
    )
    entry.add_to_hass(hass)
    return entry


def store_settings(hass_storage: dict[str, Any], entry: MockConfigEntry, data: Any) -> None:
    """What the integration's settings store holds for `entry` before it loads."""
    key = f"{DOMAIN}.{entry.entry_id}"
    hass_storage[key] = {"version": 1, "key": key, "data": data}


async def switch(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def auto_approve(hass: HomeAssistant, camera: str = "front_door") -> None:
    """The camera's requests are decided by the policy (no owner in the loop)."""
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: f"select.{camera}_approval", "option": "auto"},
        blocking=True,
    )


@pytest.fixture
async def loaded(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], cameras: dict[str, FakeCamera]
) -> AsyncIterator[Loaded]:
    """The integration loaded against a real gateway, connected to its event stream."""
    gw, bound = gateway
    entry = make_entry(hass, bound.owner[1], unique_id=gw.gateway_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: entry.runtime_data.coordinator.connected)
    yield entry, gw, bound
    if (
        hass.config_entries.async_get_entry(entry.entry_id) is not None
        and entry.state is ConfigEntryState.LOADED
    ):
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def wait_for(
    predicate: Callable[[], object], timeout: float = 30.0, step: float = 0.02
) -> None:
    """Wait until `predicate()` is true (the gateway and HA run on the same loop). The timeout
    only fails a broken run; a loaded machine just takes longer."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


CityCall = Callable[..., Coroutine[Any, Any, tuple[int, dict[str, Any]]]]


@pytest.fixture
async def city(hass: HomeAssistant, gateway: tuple[Gateway, Bound]) -> AsyncIterator[CityCall]:
    """Send a signed city request to the gateway's public port (base_url as configured)."""
    _, bound = gateway
    async with aiohttp.ClientSession() as session:

        async def request(**overrides: Any) -> tuple[int, dict[str, Any]]:
            body = {
                "incident_id": "JPD-2026-001234",
                "offense": "burglary",
                "reason": "Suspect seen leaving towards the street",
                "location": {"lat": hass.config.latitude, "lon": hass.config.longitude},
                "radius_m": 300,
                "duration_s": 900,
                **overrides,
            }
            data = json.dumps(body).encode()
            url = f"http://127.0.0.1:{bound.public[1]}/api/v1/requests"
            async with session.post(url, data=data, headers=jpd_request_headers(data)) as resp:
                return resp.status, await resp.json(content_type=None)

        yield request


async def go_away(entry: MockConfigEntry, gw: Gateway) -> None:
    """The gateway stops, and the integration has seen it go."""
    await gw.stop()
    await wait_for(lambda: not entry.runtime_data.coordinator.connected)


async def come_back(
    entry: MockConfigEntry, bound: Bound, gateway_factory: Any, config_dict: dict[str, Any]
) -> Gateway:
    """The gateway starts again on its old ports (its database kept), and the integration is
    connected to it again."""
    config_dict["owner"]["port"] = bound.owner[1]
    config_dict["public"]["port"] = bound.public[1]
    config_dict["public"]["rtsp_port"] = bound.rtsp[1]
    back, _ = await gateway_factory(config_dict)
    await wait_for(lambda: entry.runtime_data.coordinator.connected)
    return back


@dataclass
class Outage:
    """The loaded entry's gateway going away (`leave`) and coming back (`back`: the same ports,
    its database kept); each returns once the integration has seen it."""

    entry: MockConfigEntry
    gw: Gateway
    bound: Bound
    factory: Any
    config: dict[str, Any]

    async def leave(self) -> None:
        await go_away(self.entry, self.gw)

    async def back(self) -> Gateway:
        return await come_back(self.entry, self.bound, self.factory, self.config)


@pytest.fixture
def outage(
    loaded: Loaded,
    gateway_factory: Any,
    config_dict: dict[str, Any],
) -> Outage:
    entry, gw, bound = loaded
    return Outage(entry, gw, bound, gateway_factory, config_dict)


async def waiting_request(hass: HomeAssistant, city: CityCall) -> str:
    """The front door offered (approval: ask first), then a city request: it waits for the
    owner. Its id."""
    await switch(hass, CONSENT, True)
    status, body = await city()
    assert status == 202, body
    return str(body["request_id"])


async def auto_share(hass: HomeAssistant, city: CityCall) -> dict[str, Any]:
    """The front door offered and auto-approved, then a city request: the city's answer."""
    await switch(hass, CONSENT, True)
    await auto_approve(hass)
    status, body = await city()
    assert status == 201, body
    return body
