"""Benchmark: request and cut latency with a long history and a full waiting room.

Starts `rtcc-gateway serve` on loopback with ten agencies (rate limits raised), one auto-approved
camera and one that asks the owner. Phase "empty": N signed requests for the auto camera, each
followed by the city's DELETE (the cut), on a fresh gateway. Then it builds the history: H more
requests, each ended by DELETE, and 500 requests left waiting for the owner (50 per agency, the
caps). Phase "history": the same N requests and cuts again. Prints p50/p99 of both, RSS, the size
and time of GET /api/v1/state, and whether each p99 with history stays within 20 % of the empty
gateway's (the goal of issue 10).

    scripts/run python bench/request_history.py [-n 1000] [--history 10000]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from common import (
    OWNER_TOKEN,
    bench_options,
    emit,
    free_port,
    memory_mb,
    parse_options,
    percentile,
    report,
    summary,
)
from rtcc_gateway.signing import generate_private_key, public_key_b64, sign_request

from tests.peers.gateway_proc import start_gateway

AGENCIES = 10
PENDING_PER_AGENCY = 50
CONCURRENCY = 8
HERE = {"lat": 32.2988, "lon": -90.1848}


class City:
    """Ten agencies signing calls to one gateway."""

    def __init__(self, session: aiohttp.ClientSession, base: str, keys: list[Any]) -> None:
        self.session = session
        self.base = base
        self.keys = keys

    async def call(
        self, method: str, path: str, agency: int, body: Any = None
    ) -> tuple[int, Any, float]:
        data = None if body is None else json.dumps(body).encode()
        headers = sign_request(
            method=method,
            url=self.base + path,
            body=data,
            key_id=f"pd{agency}",
            private_key=self.keys[agency],
        )
        if data is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        async with self.session.request(
            method, self.base + path, data=data, headers=headers
        ) as resp:
            text = await resp.text()
            elapsed = (time.perf_counter() - started) * 1000
            return resp.status, (json.loads(text) if text else None), elapsed

    async def ask(self, agency: int, camera: str, n: int) -> tuple[int, Any, float]:
        body = {
            "incident_id": f"HIST-{n}",
            "offense": "bench",
            "reason": "history benchmark",
            "location": HERE,
            "camera_ids": [camera],
            "duration_s": 600,
        }
        return await self.call("POST", "/api/v1/requests", agency, body)

    async def ask_and_cut(self, agency: int, n: int) -> tuple[float, float]:
        status, answer, asked = await self.ask(agency, "auto_cam", n)
        if status != 201 or answer["status"] != "approved":
            raise RuntimeError(f"request refused: {status} {answer}")
        path = f"/api/v1/requests/{answer['request_id']}"
        status, _, cut = await self.call("DELETE", path, agency)
        if status != 204:
            raise RuntimeError(f"DELETE answered {status}")
        return asked, cut


def config(tmp: Path, port: int, keys: list[Any]) -> dict[str, Any]:
    camera = {"source": "rtsp://127.0.0.1:9/unused", "consent": True, "location": HERE}
    return {
        "public": {
            "host": "127.0.0.1",
            "port": port,
            "rtsp_port": 0,
            "base_url": f"http://127.0.0.1:{port}",
            "rtsp_base_url": "rtsp://127.0.0.1:8554",
            "insecure_http": True,
        },
        "owner": {"host": "127.0.0.1", "port": 0, "token": OWNER_TOKEN},
        "data_dir": str(tmp / "data"),
        "restreamer": "direct",
        "agencies": [
            {
                "id": f"pd{i}",
                "name": f"Bench PD {i}",
                "public_key": public_key_b64(key),
                "rate_limit_per_minute": 100_000,
            }
            for i, key in enumerate(keys)
        ],
        "policy": {"timezone": "America/Chicago", "approval_timeout_s": 86400},
        "cameras": [
            {"id": "auto_cam", "label": "Auto", "approval": "auto", **camera},
            {"id": "ask_cam", "label": "Ask", "approval": "ask", **camera},
        ],
    }


async def phase(city: City, n: int) -> tuple[list[float], list[float]]:
    asked, cut = [], []
    for i in range(n):
        a, c = await city.ask_and_cut(i % AGENCIES, i)
        asked.append(a)
        cut.append(c)
    return asked, cut


async def build_history(city: City, history: int) -> None:
    done = 0

    async def worker(w: int) -> None:
        nonlocal done
        for i in range(w, history, CONCURRENCY):
            await city.ask_and_cut(i % AGENCIES, i)
            done += 1
            if done % 1000 == 0:
                print(f"  history: {done}/{history}", file=sys.stderr, flush=True)

    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    for agency in range(AGENCIES):
        for i in range(PENDING_PER_AGENCY):
            status, _, _ = await city.ask(agency, "ask_cam", i)
            if status != 202:
                raise RuntimeError(f"pending request answered {status}")
    status, answer, _ = await city.ask(0, "ask_cam", 0)
    print(f"  the 51st waiting request of one agency: {status} ({answer['detail']})")


async def owner_state(session: aiohttp.ClientSession, owner: str) -> tuple[int, float]:
    started = time.perf_counter()
    async with session.get(
        f"{owner}/api/v1/state", headers={"Authorization": f"Bearer {OWNER_TOKEN}"}
    ) as resp:
        body = await resp.read()
    return len(body), (time.perf_counter() - started) * 1000


async def main(n: int, history: int, as_json: bool = False) -> int:
    keys = [generate_private_key() for _ in range(AGENCIES)]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gateway.yaml"
        path.write_text(yaml.safe_dump(config(Path(tmp), port, keys)))
        gw = await start_gateway(path)
        owner = f"http://127.0.0.1:{gw.owner_port}"
        try:
            async with aiohttp.ClientSession() as session:
                city = City(session, f"http://127.0.0.1:{port}", keys)
                await phase(city, 50)  # warm-up
                empty_ask, empty_cut = await phase(city, n)
                empty_rss = memory_mb(gw.proc.pid, "VmRSS")
                empty_state = await owner_state(session, owner)
                print(f"building history: {history} ended requests, then 500 waiting ...")
                await build_history(city, history)
                full_ask, full_cut = await phase(city, n)
                full_rss = memory_mb(gw.proc.pid, "VmRSS")
                full_state = await owner_state(session, owner)
        finally:
            await gw.stop()
    report("empty: signed POST /api/v1/requests", empty_ask)
    report("empty: DELETE (cut)", empty_cut)
    report(f"{history} ended + 500 waiting: POST", full_ask)
    report(f"{history} ended + 500 waiting: DELETE (cut)", full_cut)
    print(f"RSS: {empty_rss:.1f} MB empty, {full_rss:.1f} MB with history")
    print(
        f"GET /api/v1/state: {empty_state[0]} B in {empty_state[1]:.1f} ms empty, "
        f"{full_state[0]} B in {full_state[1]:.1f} ms with history"
    )
    ok = True
    for name, empty, full in (("request", empty_ask, full_ask), ("cut", empty_cut, full_cut)):
        ratio = percentile(full, 0.99) / percentile(empty, 0.99)
        within = ratio <= 1.2
        ok &= within
        print(
            f"{name} p99 with history / empty: {ratio:.2f} ({'within' if within else 'OVER'} 20 %)"
        )
    if as_json:
        figures = {
            "history": history,
            "empty_request_ms": summary(empty_ask),
            "empty_cut_ms": summary(empty_cut),
            "history_request_ms": summary(full_ask),
            "history_cut_ms": summary(full_cut),
            "rss_mb": {"empty": round(empty_rss, 1), "history": round(full_rss, 1)},
            "within_20_pct": ok,
        }
        emit("request_history", figures)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = bench_options(__doc__)
    parser.add_argument("-n", type=int, default=1000, help="measured requests per phase")
    parser.add_argument("--history", type=int, default=10_000, help="ended requests to build")
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.n, args.history, args.json)))
