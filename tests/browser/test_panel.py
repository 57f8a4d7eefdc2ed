"""The "City sharing" panel in headless Chromium, against a real Home Assistant process.

Home Assistant runs as `hass -c DIR --skip-pip` (tests/peers/real_hass.py), set up through its
real config flows: RTCC Share against the real gateway process, and the generic camera pointing
at the synthetic camera. The owner logs in on the real login page, turns consent on, sees the
city's request with its countdown, approves it, sees the share live and "1 viewer" while ffmpeg
reads the link ("since HH:MM via RTSP"), revokes it and sees the viewer cut, then renames the
camera entity and sees consent and the device kept. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rtcc_gateway.signing import sign_request

from ..conftest import BASE_CONFIG, OWNER_TOKEN
from ..peers.camera import camera_available, run_camera
from ..peers.gateway_proc import GatewayProcess, start_gateway
from ..peers.real_hass import (
    LATITUDE,
    LONGITUDE,
    OWNER_NAME,
    OWNER_PASSWORD,
    RealHass,
    start_real_hass,
)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
FLOW = Path(__file__).with_name("panel_flow.cjs")
PUBLIC_BASE = "http://127.0.0.1:8443"  # what the gateway signs and links against
STEP_TIMEOUT_S = 240.0  # fails a broken run only


def playwright_prefix() -> Path | None:
    """Where set-up put npm's playwright-core: /opt/node in the chroot, the cache in a venv."""
    cache = Path(os.environ.get("RTCC_CACHE", "/var/cache/rtcc_share"))
    home_cache = Path.home() / ".cache" / "rtcc_share"
    for prefix in (Path("/opt/node"), cache / "node", home_cache / "node"):
        if (prefix / "node_modules" / "playwright-core" / "package.json").is_file():
            return prefix
    return None


def missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian's chromium): run scripts/setup"
    if shutil.which("node") is None:
        return "node is missing: run scripts/setup"
    if playwright_prefix() is None:
        return "npm's playwright-core is missing: run scripts/setup"
    try:
        import hass_frontend  # noqa: F401, PLC0415 - only to say why the test cannot run
    except ImportError:
        return "home-assistant-frontend is missing: run scripts/setup"
    return camera_available()


@pytest.fixture(scope="module")
def camera_url() -> Iterator[str]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    with run_camera() as url:
        yield url


class City:
    """The city's side: signed requests to the gateway's public port."""

    def __init__(self, gw: GatewayProcess, key: Ed25519PrivateKey) -> None:
        self._gw = gw
        self._key = key

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = sign_request(
            method=method, url=PUBLIC_BASE + path, body=data, key_id="jpd", private_key=self._key
        )
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = f"http://127.0.0.1:{self._gw.public_port}{path}"
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url, data=data, headers=headers) as resp,
        ):
            return resp.status, await resp.json(content_type=None)

    async def ask(self) -> str:
        status, body = await self.call(
            "POST",
            "/api/v1/requests",
            {
                "incident_id": "JPD-2026-004711",
                "offense": "burglary",
                "reason": "Suspect seen leaving towards the street",
                "location": {"lat": LATITUDE, "lon": LONGITUDE},
                "radius_m": 300,
                "duration_s": 900,
            },
        )
        assert status == 202, body  # accepted; waiting for the owner
        return str(body["request_id"])

    async def rtsp_link(self, request_id: str) -> str:
        status, body = await self.call("GET", f"/api/v1/requests/{request_id}")
        assert status == 200, body
        (share,) = body["shares"]
        token = share["links"]["rtsp"].rsplit("/", 1)[1]
        return f"rtsp://127.0.0.1:{self._gw.rtsp_port}/{token}"


@pytest.fixture
async def stack(
    camera_url: str, tmp_path: Path, socket_enabled: None
) -> AsyncIterator[tuple[RealHass, City, GatewayProcess]]:
    """The gateway process, Home Assistant with RTCC Share and the generic camera configured."""
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    config = copy.deepcopy(BASE_CONFIG)
    config["data_dir"] = str(tmp_path / "gateway-data")
    config["agencies"] = [
        {"id": "jpd", "name": "Jackson Police Department", "public_key": public.decode()}
    ]
    config["cameras"] = []  # Home Assistant decides which cameras are offered
    gw_config = tmp_path / "gateway.yaml"
    gw_config.write_text(yaml.safe_dump(config))
    gw = await start_gateway(gw_config)
    hass: RealHass | None = None
    try:
        hass = await start_real_hass(tmp_path / "ha")
        camera = await hass.config_flow("generic", lambda step: _generic(step, camera_url))
        assert camera["type"] == "create_entry", camera
        share = await hass.config_flow("rtcc_share", lambda step: _rtcc(step, gw.owner_port))
        assert share["type"] == "create_entry", share
        yield hass, City(gw, key), gw
    finally:
        if hass is not None:
            await hass.stop()
            SHOTS.mkdir(parents=True, exist_ok=True)
            (SHOTS / "home-assistant.log").write_text("\n".join(hass.output))
        await gw.stop()
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "gateway.log").write_text("\n".join(gw.stderr))


def _generic(step: dict[str, Any], stream: str) -> dict[str, Any]:
    if step["step_id"] == "user_confirm":
        return {"confirmed_ok": True}
    assert step["step_id"] == "user", step
    assert not step.get("errors"), step
    return {
        "stream_source": stream,
        "advanced": {
            "authentication": "basic",
            "framerate": 2,
            "verify_ssl": True,
            "rtsp_transport": "tcp",
        },
    }


def _rtcc(step: dict[str, Any], owner_port: int) -> dict[str, Any]:
    assert not step.get("errors"), step
    if step["step_id"] == "user":
        return {"host": "127.0.0.1", "port": owner_port, "token": OWNER_TOKEN}
    # Any confirmation step (what sharing means, what the gateway had): accept its defaults.
    return {
        f["name"]: f.get("default", True if f.get("type") == "boolean" else None)
        for f in step.get("data_schema") or []
        if f.get("required")
    }


async def _viewer(link: str) -> asyncio.subprocess.Process:
    """ffmpeg reading the share's RTSP link, as the city's player would."""
    return await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", link,
        "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _check_rename_kept(renamed: dict[str, Any], gw: GatewayProcess) -> None:
    """After the camera entity's rename: the same registry entry and device, no device added or
    removed, the sharing entities on the same devices, and the gateway's camera (same id) still
    offered with consent on."""
    before, after = renamed["before"], renamed["after"]
    (was,) = before["cameras"]
    (now,) = after["cameras"]
    assert (now["entity_id"], now["id"]) == ("camera.front_door", was["id"]), renamed
    assert now["device_id"] == was["device_id"], "the camera's device is kept"
    assert after["devices"] == before["devices"], "no device made, none removed"
    assert sorted(str(e["device_id"]) for e in after["sharing"]) == sorted(
        str(e["device_id"]) for e in before["sharing"]
    ), "the sharing entities stay on their devices"
    url = f"http://127.0.0.1:{gw.owner_port}/api/v1/state"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}) as resp,
    ):
        state = await resp.json()
    assert [(c["id"], c["consent"]) for c in state["cameras"]] == [(renamed["camera_id"], True)]


@pytest.mark.timeout(900)  # a real Home Assistant and a browser on a loaded 2-core machine
async def test_owner_approves_watches_and_revokes_from_the_panel(
    stack: tuple[RealHass, City, GatewayProcess],
) -> None:
    hass, city, gw = stack
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()  # each run's own screenshots only
    prefix = playwright_prefix()
    assert prefix is not None
    node = await asyncio.create_subprocess_exec(
        "node", str(FLOW), hass.url, OWNER_NAME, OWNER_PASSWORD, str(SHOTS),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NODE_PATH": str(prefix / "node_modules")},
    )  # fmt: skip
    assert node.stdin is not None
    assert node.stdout is not None
    said: list[str] = []
    viewer: asyncio.subprocess.Process | None = None
    request_id = ""

    async def expect(name: str) -> Any:
        """Read the browser's lines up to STEP `name`; returns the data it carries."""
        while True:
            raw = await asyncio.wait_for(node.stdout.readline(), STEP_TIMEOUT_S)
            line = raw.decode(errors="replace").rstrip()
            if not raw:
                pytest.fail(f"the browser run ended before {name}: {said[-20:]}")
            said.append(line)
            if line.startswith("FAIL"):
                pytest.fail(
                    f"{line}\n--- browser: {said[-10:]}\n--- Home Assistant:\n{hass.log_tail(40)}"
                )
            if line.split(" ")[:2] == ["STEP", name]:
                rest = line.split(" ", 2)[2:]
                return json.loads(rest[0]) if rest else None

    def go() -> None:
        node.stdin.write(b"GO\n")

    try:
        await expect("consented")
        request_id = await city.ask()
        go()
        await expect("approved")
        viewer = await _viewer(await city.rtsp_link(request_id))
        go()
        await expect("viewing")
        if viewer.returncode is not None:
            assert viewer.stderr is not None
            why = (await viewer.stderr.read()).decode(errors="replace")[-2000:]
            pytest.fail(f"ffmpeg stopped reading before the revoke ({viewer.returncode}): {why}")
        go()
        await expect("revoked")
        # The revoke cut the viewer: ffmpeg's stream ends by itself.
        await asyncio.wait_for(viewer.wait(), STEP_TIMEOUT_S)
        go()
        renamed = await expect("renamed")
        await _check_rename_kept(renamed, gw)
        go()
        await expect("done")
        assert await asyncio.wait_for(node.wait(), STEP_TIMEOUT_S) == 0
    finally:
        for proc in (viewer, node):
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
    status, body = await city.call("GET", f"/api/v1/requests/{request_id}")
    assert status == 200, body
    assert [s["status"] for s in body["shares"]] != ["live"]
    assert sorted(p.name for p in SHOTS.glob("0*.png")) == [
        "01-login.png",
        "02-consent-on.png",
        "03-pending-request.png",
        "04-pending-request-phone.png",
        "05-live-share.png",
        "06-one-viewer.png",
        "07-revoked.png",
        "08-renamed.png",
    ]
