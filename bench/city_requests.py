"""Benchmark: signed, auto-approved city requests against a running gateway.

Starts `rtcc-gateway serve` (the console script) on loopback with the agency's rate limit raised,
sends N signed POST /api/v1/requests one after another, and prints p50/p99 from request to
answer, next to a baseline of unsigned GET /api/v1/health on the same gateway in the same run.
Goal on these 2-core machines: p50 <= 20 ms, p99 <= 100 ms.

    scripts/run python bench/city_requests.py [-n 1000]
"""

from __future__ import annotations

import asyncio
import sys
import time

from common import bench_options, emit, parse_options, percentile, report, running_gateway, summary


async def main(n: int, as_json: bool = False) -> int:
    # The camera is never contacted: requests are decided and recorded, nobody watches.
    async with running_gateway("rtsp://127.0.0.1:9/unused") as bench:
        health: list[float] = []
        for _ in range(min(n, 300)):
            started = time.perf_counter()
            async with bench.session.get(f"{bench.base}/api/v1/health") as resp:
                await resp.read()
            health.append((time.perf_counter() - started) * 1000)
        signed: list[float] = []
        for i in range(n):
            started = time.perf_counter()
            answer = await bench.request(incident_id=f"BENCH-{i}", duration_s=600)
            signed.append((time.perf_counter() - started) * 1000)
            if answer["status"] != "approved":
                print(f"unexpected answer: {answer}", file=sys.stderr)
                return 1
    report("baseline GET /api/v1/health", health)
    report("signed POST /api/v1/requests", signed)
    ratio = percentile(signed, 0.5) / percentile(health, 0.5)
    print(f"ratio of medians (signed/health): {ratio:.1f}")
    ok = percentile(signed, 0.5) <= 20 and percentile(signed, 0.99) <= 100
    print(f"goal p50 <= 20 ms, p99 <= 100 ms: {'met' if ok else 'NOT met'}")
    if as_json:
        emit("city_requests", {"health_ms": summary(health), "signed_ms": summary(signed)})
    return 0


if __name__ == "__main__":
    parser = bench_options(__doc__)
    parser.add_argument("-n", type=int, default=1000, help="signed requests to send")
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.n, args.json)))
