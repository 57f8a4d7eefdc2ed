"""A real Home Assistant process (`hass -c DIR --skip-pip`), set up the way an owner would.

`start_real_hass(dir)` writes a configuration folder (this checkout's rtcc_share linked in as a
custom integration), makes the owner's user with `hass --script auth`, marks onboarding done,
starts Home Assistant offline on a free loopback port and waits for its HTTP server. `RealHass`
then logs in through the same REST endpoints the login page uses and drives config flows
through `/api/config/config_entries/flow`, as the UI does. The browser tests and the demo use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
OWNER_NAME = "owner"
OWNER_PASSWORD = "owner-password-0123"
LATITUDE, LONGITUDE = 32.2990, -90.1850  # Jackson, MS: where the tests' city asks
ONBOARDING_STEPS = ["user", "core_config", "analytics", "integration"]

CONFIGURATION = """\
homeassistant:
  name: Test home
  latitude: {lat}
  longitude: {lon}
  elevation: 90
  unit_system: metric
  currency: USD
  country: US
  time_zone: America/Chicago
  internal_url: "http://127.0.0.1:{port}"
frontend:
config:
logger:
  default: warning
  logs:
    custom_components.rtcc_share: debug
"""


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hass_command() -> list[str]:
    """`hass`, or the same entry point through this interpreter."""
    exe = shutil.which("hass")
    return [exe] if exe else [sys.executable, "-m", "homeassistant"]


def write_config_dir(config_dir: Path, port: int) -> None:
    """configuration.yaml, this checkout's rtcc_share, and onboarding marked done."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(lat=LATITUDE, lon=LONGITUDE, port=port)
    )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "rtcc_share"
    if not link.exists():
        link.symlink_to(ROOT / "custom_components" / "rtcc_share", target_is_directory=True)
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    # Home Assistant 2026.10 keeps its HTTP settings in storage (YAML ones wait for a confirm).
    (storage / "http").write_text(
        json.dumps(
            {
                "version": 2,
                "minor_version": 2,
                "key": "http",
                "data": {
                    "stable": {
                        **HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port}),
                        "created_at": "2026-01-01T00:00:00+00:00",
                        "error": None,
                        "error_message": None,
                    },
                    "pending": None,
                    "yaml_migration_done": True,
                },
            }
        )
    )
    (storage / "onboarding").write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ONBOARDING_STEPS},
            }
        )
    )


async def add_user(config_dir: Path, username: str, password: str) -> None:
    """`hass --script auth -c DIR add USER PASS`: the owner's login (the first login makes the
    Home Assistant user, an administrator)."""
    proc = await asyncio.create_subprocess_exec(
        *hass_command(),
        "--script",
        "auth",
        "-c",
        str(config_dir),
        "add",
        username,
        password,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"hass --script auth failed: {text}"
    assert "Auth created" in text or "already exists" in text, text


@dataclass
class RealHass:
    """A running Home Assistant and how to talk to it as its owner."""

    config_dir: Path
    port: int
    proc: asyncio.subprocess.Process
    output: list[str] = field(default_factory=list)
    token: str | None = None
    _drain: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # Keeps Home Assistant's output (its pipe must never fill up) for tests to read.
        self._drain = asyncio.get_running_loop().create_task(self._read_output())

    async def _read_output(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.output.append(raw.decode(errors="replace").rstrip())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client_id(self) -> str:
        return f"{self.url}/"

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.output[-lines:])

    async def login(self, username: str = OWNER_NAME, password: str = OWNER_PASSWORD) -> str:
        """An access token through the login flow the login page uses."""
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{self.url}/auth/login_flow",
                json={
                    "client_id": self.client_id,
                    "handler": ["homeassistant", None],
                    "redirect_uri": self.client_id,
                },
            ) as resp:
                flow = await resp.json()
                assert resp.status == 200, flow
            async with session.post(
                f"{self.url}/auth/login_flow/{flow['flow_id']}",
                json={"client_id": self.client_id, "username": username, "password": password},
            ) as resp:
                result = await resp.json()
                assert result.get("type") == "create_entry", result
            async with session.post(
                f"{self.url}/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": result["result"],
                    "client_id": self.client_id,
                },
            ) as resp:
                tokens = await resp.json()
                assert resp.status == 200, tokens
        self.token = str(tokens["access_token"])
        return self.token

    async def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call Home Assistant's REST API as the owner."""
        token = self.token or await self.login()
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                f"{self.url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            ) as resp,
        ):
            return resp.status, await resp.json(content_type=None)

    async def config_flow(
        self, handler: str, answer: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run a config flow to its end; `answer(step)` fills each form. Returns the last step."""
        status, step = await self.api(
            "POST", "/api/config/config_entries/flow", {"handler": handler}
        )
        for _ in range(10):
            assert status == 200, step
            if step.get("type") != "form":
                return dict(step)
            status, step = await self.api(
                "POST", f"/api/config/config_entries/flow/{step['flow_id']}", answer(step)
            )
        raise AssertionError(f"the {handler} flow did not end: {step}")

    async def entry_state(self, domain: str) -> list[dict[str, Any]]:
        """The config entries of `domain`, with their state."""
        status, entries = await self.api("GET", f"/api/config/config_entries/entry?domain={domain}")
        assert status == 200, entries
        return list(entries)

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code (SIGKILL after `timeout`)."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                code = await self.proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            code = await self.proc.wait()
        if self._drain is not None:
            await self._drain
        return code


async def start_real_hass(
    config_dir: Path,
    *,
    username: str = OWNER_NAME,
    password: str = OWNER_PASSWORD,
    timeout: float = 240,
    port: int | None = None,
) -> RealHass:
    """Write the folder, add the owner, start `hass` offline and wait until it serves (on `port`,
    else a free one)."""
    port = port or free_port()
    write_config_dir(config_dir, port)
    await add_user(config_dir, username, password)
    proc = await asyncio.create_subprocess_exec(
        *hass_command(),
        "-c",
        str(config_dir),
        "--skip-pip",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    hass = RealHass(config_dir=config_dir, port=port, proc=proc)
    try:
        await _wait_until_serving(hass, timeout)
    except BaseException:
        await hass.stop(10)
        raise
    return hass


async def _wait_until_serving(hass: RealHass, timeout: float) -> None:
    """Home Assistant answers the login page's provider list, then says it is RUNNING."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    logged_in = False
    async with aiohttp.ClientSession() as session:
        while True:
            if hass.proc.returncode is not None:
                raise AssertionError(f"hass exited ({hass.proc.returncode}):\n{hass.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                if not logged_in:
                    async with session.get(f"{hass.url}/auth/providers") as resp:
                        if resp.status == 200:
                            await hass.login()
                            logged_in = True
                if logged_in:
                    status, config = await hass.api("GET", "/api/config")
                    if status == 200 and config.get("state") == "RUNNING":
                        return
            if loop.time() > end:
                raise AssertionError(f"hass did not start in {timeout} s:\n{hass.log_tail()}")
            await asyncio.sleep(0.5)  # a process that tells nobody when it is up: ask again
