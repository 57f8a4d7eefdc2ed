"""Fixtures shared by every test: gateway configurations and running gateways on loopback."""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rtcc_gateway.app import Bound, Gateway
from rtcc_gateway.config import parse_config
from rtcc_gateway.restreamer.base import StreamSpec, Upstream, upstream_from_url
from rtcc_gateway.signing import sign_request

import custom_components.rtcc_share  # noqa: F401 - lets Home Assistant's test harness find it

from .peers.gateway_proc import GatewayProcess, start_gateway

OWNER_TOKEN = "test-owner-token-0123456789abcdef"


pytest_plugins = ["tests.ci_gate"]


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


AGENCY_KEY = Ed25519PrivateKey.generate()
OTHER_AGENCY_KEY = Ed25519PrivateKey.generate()
AGENCY_PUBLIC_B64 = public_b64(AGENCY_KEY)
CAMERA_SOURCE = "rtsp://user:campass@127.0.0.1:8554/stream1"


def jpd_request_headers(body: bytes, base_url: str = "http://127.0.0.1:8443") -> dict[str, str]:
    """The headers of a JSON POST /api/v1/requests the "jpd" agency signed for `base_url`."""
    headers = sign_request(
        method="POST",
        url=f"{base_url}/api/v1/requests",
        body=body,
        key_id="jpd",
        private_key=AGENCY_KEY,
    )
    headers["Content-Type"] = "application/json"
    return headers


BASE_CONFIG: dict[str, Any] = {
    "public": {
        "host": "127.0.0.1",
        "port": 0,
        "rtsp_port": 0,
        "base_url": "http://127.0.0.1:8443",
        "rtsp_base_url": "rtsp://127.0.0.1:8554",
        "insecure_http": True,
    },
    "owner": {"host": "127.0.0.1", "port": 0, "token": OWNER_TOKEN},
    "data_dir": "data",
    "restreamer": "direct",
    "agencies": [
        {"id": "jpd", "name": "Jackson Police Department", "public_key": AGENCY_PUBLIC_B64},
        {"id": "hcso", "name": "Hinds County Sheriff", "public_key": public_b64(OTHER_AGENCY_KEY)},
    ],
    "policy": {"timezone": "America/Chicago"},
    "cameras": [
        {
            "id": "front_door",
            "label": "Front door",
            "source": CAMERA_SOURCE,
            "location": {"lat": 32.2990, "lon": -90.1850},
        }
    ],
}


@pytest.fixture
def config_dict() -> dict[str, Any]:
    """A valid standalone configuration (loopback, plain HTTP, ports picked by the OS)."""
    return copy.deepcopy(BASE_CONFIG)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[Any], Path]:
    """Write a configuration as YAML next to its data folder; returns the file's path."""

    def write(data: Any) -> Path:
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
        return path

    return write


type ServeGateway = Callable[[], Awaitable[GatewayProcess]]


@pytest.fixture
async def serve_gateway(
    socket_enabled: None, write_config: Callable[[Any], Path], config_dict: dict[str, Any]
) -> AsyncIterator[ServeGateway]:
    """Start `rtcc-gateway serve` on `config_dict` as it is at the call (a test may change it
    first); whatever still runs when the test ends is stopped."""
    started: list[GatewayProcess] = []

    async def serve() -> GatewayProcess:
        gw = await start_gateway(write_config(config_dict))
        started.append(gw)
        return gw

    yield serve
    for gw in started:
        await gw.stop()


class RecordingRestreamer:
    """A restreamer that records every call (the media door's backends are tested elsewhere)."""

    name = "direct"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.streams: dict[str, StreamSpec] = {}

    async def start(self) -> None:
        self.calls.append(("start", None))

    async def add(self, spec: StreamSpec) -> None:
        self.calls.append(("add", spec))
        self.streams[spec.token] = spec

    async def remove(self, token: str) -> None:
        self.calls.append(("remove", token))
        self.streams.pop(token, None)

    async def reconcile(self, live: set[str]) -> None:
        self.calls.append(("reconcile", set(live)))
        for token in set(self.streams) - live:
            del self.streams[token]

    async def stop(self) -> None:
        self.calls.append(("stop", None))

    def http_upstream(self) -> None:
        return None

    def rtsp_upstream(self, token: str) -> Upstream | None:
        spec = self.streams.get(token)
        return None if spec is None else upstream_from_url(spec.source)


class Clock:
    """The gateway's clock in tests: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


type GatewayFactory = Callable[..., Awaitable[tuple[Gateway, Bound]]]


@pytest.fixture
async def gateway_factory(socket_enabled: None, tmp_path: Path) -> AsyncIterator[GatewayFactory]:
    """Start gateways in this process on loopback; every one is stopped at the end."""
    started: list[Gateway] = []

    async def start(
        config: dict[str, Any],
        *,
        restreamer: Any = None,
        clock: Clock | None = None,
        **options: Any,  # more of Gateway's keywords (e.g. no_media_s)
    ) -> tuple[Gateway, Bound]:
        gw = Gateway(
            parse_config(copy.deepcopy(config), tmp_path),
            clock=clock or Clock(),
            restreamer=restreamer,
            **options,
        )
        bound = await gw.start()
        started.append(gw)
        return gw, bound

    yield start
    for gw in started:
        await gw.stop()


@pytest.fixture
async def gateway(
    gateway_factory: GatewayFactory, config_dict: dict[str, Any]
) -> tuple[Gateway, Bound]:
    """A gateway running in this process on loopback, with the base configuration."""
    return await gateway_factory(config_dict)
