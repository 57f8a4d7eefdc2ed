"""Fixtures shared by every test: gateway configurations and running gateways on loopback."""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rtcc_gateway.app import Bound, Gateway
from rtcc_gateway.config import parse_config

OWNER_TOKEN = "test-owner-token-0123456789abcdef"
AGENCY_KEY = Ed25519PrivateKey.generate()
AGENCY_PUBLIC_B64 = base64.b64encode(
    AGENCY_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()

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
        {"id": "jpd", "name": "Jackson Police Department", "public_key": AGENCY_PUBLIC_B64}
    ],
    "policy": {"timezone": "America/Chicago"},
    "cameras": [
        {
            "id": "front_door",
            "label": "Front door",
            "source": "rtsp://user:campass@127.0.0.1:8554/stream1",
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


@pytest.fixture
async def gateway(
    socket_enabled: None, config_dict: dict[str, Any], tmp_path: Path
) -> AsyncIterator[tuple[Gateway, Bound]]:
    """A gateway running in this process on loopback."""
    gw = Gateway(parse_config(config_dict, tmp_path))
    bound = await gw.start()
    try:
        yield gw, bound
    finally:
        await gw.stop()
