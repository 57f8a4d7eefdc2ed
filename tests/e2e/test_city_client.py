"""`rtcc-city`, the reference city client, against a running `rtcc-gateway` (both as processes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..conftest import ServeGateway
from ..peers.go2rtc import free_port
from ..peers.process import run_console


async def city(*args: str) -> subprocess.CompletedProcess[str]:
    return await run_console("rtcc-city", *args)


async def test_keygen_request_status_cancel_against_the_gateway(
    serve_gateway: ServeGateway, config_dict: dict[str, Any], tmp_path: Path
) -> None:
    key = tmp_path / "city.pem"
    keygen = await city("keygen", "--out", str(key))
    assert keygen.returncode == 0, keygen.stderr
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    config_dict["public"].update(port=port, base_url=gateway_url)
    config_dict["agencies"] = [
        {"id": "jpd", "name": "Jackson Police Department", "public_key": keygen.stdout.strip()}
    ]
    config_dict["cameras"][0].update(consent=True, approval="auto")
    gw = await serve_gateway()
    common = ["--gateway", gateway_url, "--key", str(key), "--key-id", "jpd"]
    try:
        asked = await city(
            "request",
            *common,
            "--incident",
            "JPD-1",
            "--offense",
            "burglary",
            "--reason",
            "Break-in at 123 Main St",
            "--lat",
            "32.2988",
            "--lon",
            "-90.1848",
            "--camera",
            "front_door",
            "--duration",
            "600",
        )
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        assert answer["status"] == "approved"
        request_id = answer["request_id"]

        status = await city("status", *common, request_id, "--wait", "1")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["shares"][0]["status"] == "live"

        cancel = await city("cancel", *common, request_id)
        assert cancel.returncode == 0, cancel.stderr
        after = json.loads((await city("status", *common, request_id)).stdout)
        assert after["status"] == "ended"

        refused = await city(
            "request",
            *common,
            "--incident",
            "bad id!",
            "--offense",
            "x",
            "--reason",
            "y",
            "--lat",
            "0",
            "--lon",
            "0",
        )
        assert refused.returncode == 1
        assert "incident_id" in refused.stderr
    finally:
        assert await gw.stop() == 0

    unreachable = await city("status", *common, "req_x")
    assert unreachable.returncode == 2
    assert "Traceback" not in unreachable.stderr
