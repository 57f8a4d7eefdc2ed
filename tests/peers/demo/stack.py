"""The demo's processes: the synthetic camera, the ONVIF simulator, the gateway (SQLite, real
go2rtc) and a real Home Assistant. Every one is stopped by the exit stack that started it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from ..camera import SIM as CAMERA_SIM
from ..camera import SYSTEM_PYTHON
from ..gateway_proc import GatewayProcess, start_gateway
from ..onvif_sim import free_port
from ..real_hass import LATITUDE, LONGITUDE, RealHass, start_real_hass
from .steps import StepFailedError

CAMERA_NAME = "Demo-Porch-Camera"  # WS-Discovery scopes end a name at a space
CAMERA_USER = "admin"
CAMERA_PASSWORD = secrets.token_hex(8)
STREAM_PATH = "/video_main"  # what the ONVIF simulator's GetStreamUri answers
AGENCY_ID = "demo-pd"
AGENCY_NAME = "Demo Police Department"
ONVIF_MODULE = "tests.peers.onvif_sim"
START_TIMEOUT_S = 60.0  # fails a broken start only


@dataclass
class Child:
    """A started helper process and the file its output goes to."""

    name: str
    proc: asyncio.subprocess.Process
    log: IO[str]

    async def stop(self, timeout: float = 15) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await self.proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        self.log.close()


async def spawn_until_ready(
    step: str, name: str, args: list[str], logs: Path, *, timeout: float = START_TIMEOUT_S
) -> tuple[Child, str]:
    """Start `args`; return once it prints `ready …` on stdout (its stderr goes to a log)."""
    log = (logs / f"{name}.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=log, cwd=Path(__file__).parents[3]
    )
    child = Child(name, proc, log)
    assert proc.stdout is not None
    line = ""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            line = (await proc.stdout.readline()).decode(errors="replace").strip()
    if not line.startswith("ready "):
        await child.stop(5)
        tail = (logs / f"{name}.log").read_text(errors="replace")[-600:]
        raise StepFailedError(step, f"{name} did not start ({line!r}): {tail}")
    return child, line.removeprefix("ready ")


@dataclass
class Stack:
    """What is running and where."""

    work: Path
    camera_rtsp: str
    onvif_url: str
    gateway: GatewayProcess
    public_url: str
    owner_token: str
    key_file: Path
    data_dir: Path
    hass: RealHass


async def start_camera(stack: contextlib.AsyncExitStack, logs: Path) -> tuple[str, int]:
    """The synthetic RTSP camera, behind the credentials the ONVIF simulator checks."""
    port = free_port()
    args = [SYSTEM_PYTHON, str(CAMERA_SIM), "--port", str(port), "--path", STREAM_PATH]
    args += ["--user", CAMERA_USER, "--password", CAMERA_PASSWORD]
    child, url = await spawn_until_ready("camera", "camera", args, logs)
    stack.push_async_callback(child.stop)
    return url, port


async def start_onvif(stack: contextlib.AsyncExitStack, logs: Path, rtsp_port: int) -> str:
    """ipycam answering ONVIF and WS-Discovery; its stream URI names the camera's port (ipycam's
    own RTSP server finds that port taken and stays out of the way)."""
    # As a module from the checkout (cwd), so the simulator's package-relative imports resolve.
    args = [sys.executable, "-m", ONVIF_MODULE, "--name", CAMERA_NAME]
    args += ["--rtsp-port", str(rtsp_port)]
    args += ["--username", CAMERA_USER, "--password", CAMERA_PASSWORD, "--fps", "2"]
    child, ready = await spawn_until_ready("ONVIF simulator", "onvif", args, logs)
    stack.push_async_callback(child.stop)
    return ready.split()[0]


async def city_key(work: Path) -> tuple[Path, str]:
    """`rtcc-city keygen`: the demo city's key pair (the public half goes into the gateway)."""
    key = work / "city-key.pem"
    proc = await asyncio.create_subprocess_exec(
        "rtcc-city", "keygen", "--out", str(key), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise StepFailedError("gateway", "rtcc-city keygen failed")
    return key, out.decode().strip()


def gateway_config(work: Path, public_key: str, token: str) -> dict[str, Any]:
    """Plain loopback ports picked now (the links must name them); everything else the
    gateway's defaults: SQLite in data_dir, go2rtc as restreamer, policy from Home Assistant."""
    public, rtsp, owner = free_port(), free_port(), free_port()
    return {
        "public": {
            "host": "127.0.0.1",
            "port": public,
            "rtsp_port": rtsp,
            "base_url": f"http://127.0.0.1:{public}",
            "rtsp_base_url": f"rtsp://127.0.0.1:{rtsp}",
            "insecure_http": True,
        },
        "owner": {"host": "127.0.0.1", "port": owner, "token": token},
        "data_dir": str(work / "gateway-data"),
        "restreamer": "go2rtc",
        "agencies": [{"id": AGENCY_ID, "name": AGENCY_NAME, "public_key": public_key}],
        "policy": {"timezone": "America/Chicago"},
        "cameras": [],
    }


async def start_stack(
    stack: contextlib.AsyncExitStack, work: Path, ha_port: int, on_step: Any
) -> Stack:
    """Start everything; `on_step(line)` is told as each part is up."""
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    camera_rtsp, camera_port = await start_camera(stack, logs)
    on_step(f"synthetic camera streaming H.264 (RTSP port {camera_port}, password protected)")
    onvif_url = await start_onvif(stack, logs, camera_port)
    on_step(f"ONVIF simulator answering WS-Discovery in the demo's namespace ({onvif_url})")

    if not os.environ.get("GO2RTC_BIN") and shutil.which("go2rtc") is None:
        raise StepFailedError("gateway", "no go2rtc (GO2RTC_BIN unset): run scripts/setup")
    key_file, public_key = await city_key(work)
    token = secrets.token_urlsafe(24)
    config = gateway_config(work, public_key, token)
    config_path = work / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config))
    try:
        gateway = await start_gateway(config_path, timeout=START_TIMEOUT_S)
    except AssertionError as err:
        raise StepFailedError("gateway", str(err)[-600:]) from None
    stack.push_async_callback(_stop_gateway, gateway, logs)
    on_step(
        f"gateway serving (SQLite, go2rtc {os.environ.get('GO2RTC_BIN', 'from PATH')}): "
        f"city API {config['public']['base_url']}, RTSP door {config['public']['rtsp_base_url']}"
    )

    try:
        hass = await start_real_hass(work / "home-assistant", port=ha_port)
    except AssertionError as err:
        raise StepFailedError("Home Assistant", str(err)[-600:]) from None
    stack.push_async_callback(_stop_hass, hass, logs)
    on_step(f"Home Assistant running ({hass.url}, home at {LATITUDE}, {LONGITUDE})")
    return Stack(
        work=work,
        camera_rtsp=camera_rtsp,
        onvif_url=onvif_url,
        gateway=gateway,
        public_url=str(config["public"]["base_url"]),
        owner_token=token,
        key_file=key_file,
        data_dir=Path(config["data_dir"]),
        hass=hass,
    )


async def _stop_gateway(gateway: GatewayProcess, logs: Path) -> None:
    with contextlib.suppress(TimeoutError):
        await gateway.stop(timeout=20)
    if gateway.proc.returncode is None:
        gateway.proc.kill()
        await gateway.proc.wait()
    (logs / "gateway.log").write_text("\n".join(gateway.stderr) + "\n")


async def _stop_hass(hass: RealHass, logs: Path) -> None:
    await hass.stop(60)
    (logs / "home-assistant.log").write_text("\n".join(hass.output) + "\n")


@contextlib.asynccontextmanager
async def owner_api(stack: Stack) -> AsyncIterator[Any]:
    """GET helper for the gateway's owner API (what the integration talks to)."""
    import aiohttp  # noqa: PLC0415 - only the demo's process needs it here

    base = f"http://127.0.0.1:{stack.gateway.owner_port}"
    headers = {"Authorization": f"Bearer {stack.owner_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def get(path: str) -> Any:
            async with session.get(base + path) as resp:
                return json.loads(await resp.read())

        yield get
