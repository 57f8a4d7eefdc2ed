"""Runs the real gateway as a subprocess through its console script, as a user would."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rtcc_gateway.signing import public_key_b64

LISTENING = re.compile(r"^listening public=(\S+):(\d+) rtsp=(\S+):(\d+) owner=(\S+):(\d+)$")


def one_camera_config(
    camera_url: str,
    data_dir: Path,
    key: Ed25519PrivateKey,
    backend: dict[str, Any],
    *,
    agency: str,
    base_url: str,
    owner_token: str,
    port: int = 0,
    **camera: Any,
) -> dict[str, Any]:
    """A gateway on loopback that shares one camera ("cam": consent given, auto-approved) with
    one agency (`agency`, signing with `key`); `backend` picks the restreamer."""
    return {
        "public": {
            "host": "127.0.0.1",
            "port": port,
            "rtsp_port": 0,
            "base_url": base_url,
            "rtsp_base_url": "rtsp://127.0.0.1:8554",
            "insecure_http": True,
        },
        "owner": {"host": "127.0.0.1", "port": 0, "token": owner_token},
        "data_dir": str(data_dir),
        **backend,
        "agencies": [
            {
                "id": agency,
                "name": f"{agency.title()} PD",
                "public_key": public_key_b64(key),
                "rate_limit_per_minute": 100000,
            }
        ],
        "policy": {"timezone": "America/Chicago"},
        "cameras": [
            {
                "id": "cam",
                "label": "Cam",
                "source": camera_url,
                "consent": True,
                "approval": "auto",
                "location": {"lat": 32.2990, "lon": -90.1850},
                **camera,
            }
        ],
    }


@dataclass
class GatewayProcess:
    """A running `rtcc-gateway serve` and what it has written to stderr so far."""

    proc: asyncio.subprocess.Process
    public_port: int
    rtsp_port: int
    owner_port: int
    stderr: list[str]
    _drain: asyncio.Task[None]

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Send `sig`, wait for the exit code and the rest of stderr."""
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        async with asyncio.timeout(timeout):
            code = await self.proc.wait()
            await self._drain
        return code


async def start_gateway(config_path: Path, timeout: float = 20) -> GatewayProcess:
    """Start the console script and wait for its `listening` line."""
    exe = shutil.which("rtcc-gateway")
    assert exe is not None, "the rtcc-gateway console script is not installed here"
    proc = await asyncio.create_subprocess_exec(
        exe,
        "serve",
        "--config",
        str(config_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr: list[str] = []

    async def drain_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            stderr.append(raw.decode(errors="replace").rstrip())  # noqa: PERF401 - streamed

    drain = asyncio.get_running_loop().create_task(drain_stderr())
    assert proc.stdout is not None
    line = ""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            line = (await proc.stdout.readline()).decode().strip()
    match = LISTENING.match(line)
    if not match:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        await drain
        raise AssertionError(f"gateway did not start; first line {line!r}; stderr: {stderr}")
    return GatewayProcess(
        proc=proc,
        public_port=int(match.group(2)),
        rtsp_port=int(match.group(4)),
        owner_port=int(match.group(6)),
        stderr=stderr,
        _drain=drain,
    )
