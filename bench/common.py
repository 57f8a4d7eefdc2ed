"""Shared pieces of the benchmarks: a camera, a gateway process, signed city calls, figures."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rtcc_gateway.signing import generate_private_key, sign_request  # noqa: E402

from tests.peers.gateway_proc import (  # noqa: E402
    GatewayProcess,
    one_camera_config,
    start_gateway,
)
from tests.peers.process import children, cmdline  # noqa: E402

OWNER_TOKEN = "bench-owner-token-0123456789"  # noqa: S105 - a throwaway local gateway


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    """n, p50, p99 and mean of some figures, for a `--json` line."""
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 2),
        "p99": round(percentile(values, 0.99), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def emit(bench: str, figures: dict[str, Any]) -> None:
    """The machine-readable line: the last line of stdout, one JSON object."""
    print(json.dumps({"bench": bench, **figures}), flush=True)


def report(name: str, values: list[float], unit: str = "ms") -> None:
    print(
        f"{name:<44} n={len(values):4d}  p50={percentile(values, 0.5):8.2f} {unit}  "
        f"p99={percentile(values, 0.99):8.2f} {unit}  mean={statistics.fmean(values):8.2f} {unit}"
    )


@dataclass
class Bench:
    """A running gateway and clients for it."""

    gateway: GatewayProcess
    base: str
    owner: str
    session: aiohttp.ClientSession
    key: Any

    async def request(self, **body: Any) -> dict[str, Any]:
        payload = {
            "incident_id": "BENCH-1",
            "offense": "bench",
            "reason": "benchmark",
            "location": {"lat": 32.2988, "lon": -90.1848},
            **body,
        }
        data = json.dumps(payload).encode()
        headers = sign_request(
            method="POST",
            url=f"{self.base}/api/v1/requests",
            body=data,
            key_id="bench",
            private_key=self.key,
        )
        headers["Content-Type"] = "application/json"
        async with self.session.post(
            f"{self.base}/api/v1/requests", data=data, headers=headers
        ) as resp:
            answer: dict[str, Any] = await resp.json()
            if resp.status != 201:
                raise RuntimeError(f"request refused: {resp.status} {answer}")
            return answer

    async def owner_post(self, path: str, body: Any = None) -> Any:
        async with self.session.post(
            self.owner + path, json=body, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}
        ) as resp:
            return await resp.json()

    def rtsp_link(self, answer: dict[str, Any], index: int = 0) -> str:
        token = answer["shares"][index]["links"]["rtsp"].rsplit("/", 1)[1]
        return f"rtsp://127.0.0.1:{self.gateway.rtsp_port}/{token}"


def backend_config(backend: str) -> dict[str, Any]:
    """Configuration for `--backend`: direct, or the real go2rtc from $GO2RTC_BIN."""
    if backend == "direct":
        return {"restreamer": "direct"}
    if backend == "go2rtc":
        binary = os.environ.get("GO2RTC_BIN")
        if not binary:
            raise SystemExit("--backend go2rtc needs GO2RTC_BIN naming a go2rtc binary")
        return {"restreamer": "go2rtc", "go2rtc_bin": binary}
    raise SystemExit(f"unknown backend {backend!r}: direct or go2rtc")


def bench_options(doc: str | None, *, backend: bool = False) -> argparse.ArgumentParser:
    """The options every bench takes: its docstring's first line as the description, `--json`
    (end with one JSON line of figures, which bench/run collects) and, for a bench with a
    restreamer behind the door, `--backend`."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    if backend:
        parser.add_argument(
            "--backend",
            default="direct",
            choices=["direct", "go2rtc"],
            help="restreamer behind the door (go2rtc: the binary $GO2RTC_BIN names)",
        )
    return parser


def parse_options(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The parsed options; a door bench says first which backend it measures."""
    args = parser.parse_args()
    if "backend" in args:
        print(f"backend: {args.backend}")
    return args


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A /proc/PID/status memory figure in MB: VmHWM (peak resident set) or VmRSS (now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def command(pid: int) -> str:
    """The program name of a process ('' once it is gone)."""
    line = cmdline(pid)
    return Path(line[0]).name if line else ""


def go2rtc_pid(gateway_pid: int) -> int | None:
    """The gateway's go2rtc child, if it runs one."""
    return next((p for p in children(gateway_pid) if command(p) == "go2rtc"), None)


class CpuMeter:
    """CPU share of some processes between start() and stop(), in % of one core."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._start: dict[str, float] = {}
        self._t0 = 0.0

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._t0
        return {
            name: (cpu_seconds(pid) - self._start[name]) / elapsed * 100
            for name, pid in self.pids.items()
        }


@asynccontextmanager
async def running_gateway(camera_url: str, **camera: Any) -> AsyncIterator[Bench]:
    """A gateway process (the console script) sharing one auto-approved camera."""
    key = generate_private_key()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = one_camera_config(
            camera_url,
            Path(tmp) / "data",
            key,
            backend_config(camera.pop("backend", "direct")),
            agency="bench",
            base_url=base,
            owner_token=OWNER_TOKEN,
            port=port,
            **camera,
        )
        path = Path(tmp) / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        gw = await start_gateway(path)
        try:
            async with aiohttp.ClientSession() as session:
                yield Bench(gw, base, f"http://127.0.0.1:{gw.owner_port}", session, key)
        finally:
            await gw.stop()
