"""Benchmark: signed, auto-approved city requests against a running gateway.

Starts `rtcc-gateway serve` (the console script) on loopback with the agency's rate limit raised,
sends N signed POST /api/v1/requests one after another, and prints p50/p99 from request to
answer, next to a baseline of unsigned GET /api/v1/health on the same gateway in the same run.

    scripts/run python bench/city_requests.py [-n 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rtcc_gateway.signatures import generate_private_key, public_key_b64, sign_request  # noqa: E402

from tests.peers.gateway_proc import start_gateway  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, ms: list[float]) -> None:
    print(
        f"{name:<34} n={len(ms):5d}  p50={percentile(ms, 0.5):7.2f} ms  "
        f"p99={percentile(ms, 0.99):7.2f} ms  mean={statistics.fmean(ms):7.2f} ms"
    )


async def main(n: int) -> int:
    key = generate_private_key()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "public": {
                "host": "127.0.0.1",
                "port": port,
                "rtsp_port": 0,
                "base_url": base,
                "rtsp_base_url": "rtsp://127.0.0.1:8554",
                "insecure_http": True,
            },
            "owner": {"host": "127.0.0.1", "port": 0, "token": "bench-owner-token-0123456789"},
            "data_dir": str(Path(tmp) / "data"),
            "restreamer": "direct",
            "agencies": [
                {
                    "id": "bench",
                    "name": "Bench PD",
                    "public_key": public_key_b64(key),
                    "rate_limit_per_minute": 100000,
                }
            ],
            "policy": {"timezone": "America/Chicago"},
            "cameras": [
                {
                    "id": "cam",
                    "label": "Cam",
                    "source": "rtsp://127.0.0.1:9/x",
                    "consent": True,
                    "approval": "auto",
                    "location": {"lat": 32.2990, "lon": -90.1850},
                }
            ],
        }
        path = Path(tmp) / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        gw = await start_gateway(path)
        try:
            async with aiohttp.ClientSession() as session:
                health: list[float] = []
                for _ in range(min(n, 300)):
                    t0 = time.perf_counter()
                    async with session.get(f"{base}/api/v1/health") as resp:
                        await resp.read()
                    health.append((time.perf_counter() - t0) * 1000)
                signed: list[float] = []
                for i in range(n):
                    body = json.dumps(
                        {
                            "incident_id": f"BENCH-{i}",
                            "offense": "bench",
                            "reason": "benchmark",
                            "location": {"lat": 32.2988, "lon": -90.1848},
                            "duration_s": 600,
                        }
                    ).encode()
                    t0 = time.perf_counter()
                    headers = sign_request(
                        method="POST",
                        url=f"{base}/api/v1/requests",
                        body=body,
                        key_id="bench",
                        private_key=key,
                    )
                    headers["Content-Type"] = "application/json"
                    async with session.post(
                        f"{base}/api/v1/requests", data=body, headers=headers
                    ) as resp:
                        answer = await resp.json()
                    signed.append((time.perf_counter() - t0) * 1000)
                    if resp.status != 201 or answer["status"] != "approved":
                        print(f"unexpected answer {resp.status}: {answer}", file=sys.stderr)
                        return 1
        finally:
            await gw.stop()
    report("baseline GET /api/v1/health", health)
    report("signed POST /api/v1/requests", signed)
    print(
        f"ratio of medians (signed/health): {percentile(signed, 0.5) / percentile(health, 0.5):.1f}"
    )
    ok = percentile(signed, 0.5) <= 20 and percentile(signed, 0.99) <= 100
    print(f"goal p50 <= 20 ms, p99 <= 100 ms: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="signed requests to send")
    sys.exit(asyncio.run(main(parser.parse_args().n)))
