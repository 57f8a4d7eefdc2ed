"""Benchmark: the gateway under load (rate limit raised, auto approval, raw RTSP readers rather
than decoding ffmpegs): 500 concurrent signed requests (errors, p50/p99), then 50 viewers of one
share while 100 slowloris connections sit on each listener (every viewer's first frame, the
per-viewer rate).

    scripts/run python bench/load.py [--requests 500] [--viewers 50] [--slow 100] [--json]
"""

from __future__ import annotations

import asyncio
import sys
import time

from common import bench_options, emit, parse_options, percentile, report, running_gateway

from tests.peers.camera import run_camera
from tests.peers.load import SLOW_HTTP, SLOW_RTSP, burst, slowloris, watch


async def main(requests: int, viewers: int, slow: int, seconds: float, as_json: bool) -> int:
    with run_camera("--bitrate", "1000", "--pattern", "snow") as camera:
        async with running_gateway(camera) as bench:
            gw = bench.gateway

            async def send(i: int) -> int:
                try:
                    await bench.request(incident_id=f"LOAD-{i}", duration_s=600)
                except RuntimeError:
                    return 0
                return 201

            result = await burst(requests, send)
            errors = sum(1 for s in result.statuses if s != 201)
            report(f"{requests} concurrent signed requests", result.latencies_ms)
            print(f"  errors: {errors}")

            answer = await bench.request(incident_id="LOAD-VIEW", duration_s=600)
            link = bench.rtsp_link(answer)
            public = int(bench.base.rsplit(":", 1)[1])
            owner = int(bench.owner.rsplit(":", 1)[1])
            async with (
                slowloris(public, slow, SLOW_HTTP),
                slowloris(owner, slow, SLOW_HTTP),
                slowloris(gw.rtsp_port, slow, SLOW_RTSP),
            ):
                started = time.monotonic()
                watching = await watch(link, viewers)
                first: list[float] = []
                for viewer in watching.viewers:
                    await viewer.until(lambda v=viewer: v.packets > 0, timeout=60)
                    first.append((time.monotonic() - started) * 1000)
                before = [v.bytes_in for v in watching.viewers]
                await asyncio.sleep(seconds)  # a measuring window, not a wait for an event
                rates = [
                    (v.bytes_in - b) * 8 / seconds / 1e6
                    for v, b in zip(watching.viewers, before, strict=True)
                ]
                await watching.close()
    got = sum(1 for r in rates if r > 0)
    report(f"{viewers} viewers beside {slow} slowloris x3: first media", first)
    print(f"  viewers with media: {got}/{viewers}")
    print(f"  per-viewer rate: min {min(rates):.2f} Mbit/s, max {max(rates):.2f} Mbit/s")
    if as_json:
        emit(
            "load",
            {
                "requests": requests,
                "request_errors": errors,
                "request_p50_ms": percentile(result.latencies_ms, 0.5),
                "request_p99_ms": percentile(result.latencies_ms, 0.99),
                "viewers": viewers,
                "viewers_with_media": got,
                "first_media_p99_ms": percentile(first, 0.99),
                "rate_min_mbit": min(rates),
            },
        )
    return 0 if errors == 0 and got == viewers else 1


if __name__ == "__main__":
    parser = bench_options(__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--slow", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5)
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.requests, args.viewers, args.slow, args.seconds, args.json)))
