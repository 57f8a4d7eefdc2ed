"""Benchmark: the gateway's CPU share and peak memory while 20 viewers watch a 2 Mbit/s stream.

Goal: <= 10 % of one core and <= 100 MB for the gateway. CPU is read from /proc/PID/stat over the
watching window, memory is VmHWM (peak resident set) from /proc/PID/status; the same run first
measures the idle gateway as a baseline. With `--backend go2rtc` the gateway's go2rtc child is
measured the same way (its own CPU and memory, reported apart from the gateway's).

    scripts/run python bench/door_load.py [--viewers 20] [--seconds 20] [--backend go2rtc]
"""

from __future__ import annotations

import asyncio
import sys

from common import (
    CpuMeter,
    bench_options,
    emit,
    go2rtc_pid,
    memory_mb,
    parse_options,
    running_gateway,
)

from tests.peers.camera import run_camera
from tests.peers.rtsp_client import play


async def main(viewers: int, seconds: float, backend: str, as_json: bool = False) -> int:
    with run_camera(
        "--bitrate", "2000", "--width", "1280", "--height", "720", "--pattern", "snow"
    ) as camera:
        async with running_gateway(camera, backend=backend) as bench:
            pids = {"gateway": bench.gateway.proc.pid}
            child = go2rtc_pid(pids["gateway"])
            if backend == "go2rtc":
                if child is None:
                    print("the gateway runs no go2rtc child", file=sys.stderr)
                    return 1
                pids["go2rtc"] = child
            meter = CpuMeter(pids)
            meter.start()
            await asyncio.sleep(3)
            idle = meter.stop()
            answer = await bench.request(incident_id="LOAD-1", duration_s=600)
            link = bench.rtsp_link(answer)
            watchers = [await play(link) for _ in range(viewers)]  # one after another
            readers = [
                asyncio.create_task(w.read_until_end(timeout=seconds + 30)) for w in watchers
            ]
            await asyncio.sleep(2)  # past the connection burst
            before = [w.bytes_in for w in watchers]
            meter.start()
            await asyncio.sleep(seconds)
            loaded = meter.stop()
            rates = [
                (w.bytes_in - b) * 8 / seconds / 1e6 for w, b in zip(watchers, before, strict=True)
            ]
            peak = {name: memory_mb(pid) for name, pid in pids.items()}
            await bench.owner_post("/api/v1/revoke")
            await asyncio.gather(*readers)
    print(f"idle gateway CPU: {idle['gateway']:.2f} % of one core")
    print(
        f"{viewers} viewers: gateway CPU {loaded['gateway']:.2f} % of one core, "
        f"peak RSS {peak['gateway']:.1f} MB"
    )
    if "go2rtc" in pids:
        print(f"idle go2rtc CPU: {idle['go2rtc']:.2f} % of one core")
        print(
            f"{viewers} viewers: go2rtc CPU {loaded['go2rtc']:.2f} % of one core, "
            f"peak RSS {peak['go2rtc']:.1f} MB"
        )
    print(f"per-viewer rate: min {min(rates):.2f} Mbit/s, max {max(rates):.2f} Mbit/s")
    ok = loaded["gateway"] <= 10 and peak["gateway"] <= 100
    print(f"goal (gateway) <= 10 % CPU and <= 100 MB: {'met' if ok else 'NOT met'}")
    if as_json:
        figures = {
            "backend": backend,
            "viewers": viewers,
            "cpu_pct": {k: round(v, 2) for k, v in loaded.items()},
            "idle_cpu_pct": {k: round(v, 2) for k, v in idle.items()},
            "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
            "rate_mbit_min": round(min(rates), 2),
        }
        emit("door_load", figures)
    return 0


if __name__ == "__main__":
    parser = bench_options(__doc__, backend=True)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.viewers, args.seconds, args.backend, args.json)))
