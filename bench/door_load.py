"""Benchmark: the gateway's CPU share and peak memory while 20 viewers watch a 2 Mbit/s stream.

Goal: <= 10 % of one core and <= 100 MB. CPU is read from /proc/PID/stat over the watching
window, memory is VmHWM (peak resident set) from /proc/PID/status; the same run first measures
the idle gateway as a baseline.

    scripts/run python bench/door_load.py [--viewers 20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from common import add_backend_argument, running_gateway

from tests.peers.camera import run_camera
from tests.peers.rtsp_client import play

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115, PTH123
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):  # noqa: SIM115, PTH123
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def cpu_share(pid: int, seconds: float) -> float:
    c0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0) * 100


async def main(viewers: int, seconds: float, backend: str) -> int:
    with run_camera(
        "--bitrate", "2000", "--width", "1280", "--height", "720", "--pattern", "snow"
    ) as camera:
        async with running_gateway(camera, backend=backend) as bench:
            pid = bench.gateway.proc.pid
            idle = await cpu_share(pid, 3)
            answer = await bench.request(incident_id="LOAD-1", duration_s=600)
            link = bench.rtsp_link(answer)
            watchers = [await play(link) for _ in range(viewers)]  # one after another
            readers = [
                asyncio.create_task(w.read_until_end(timeout=seconds + 30)) for w in watchers
            ]
            await asyncio.sleep(2)  # past the connection burst
            before = [w.bytes_in for w in watchers]
            loaded = await cpu_share(pid, seconds)
            rates = [
                (w.bytes_in - b) * 8 / seconds / 1e6 for w, b in zip(watchers, before, strict=True)
            ]
            peak = peak_rss_mb(pid)
            await bench.owner_post("/api/v1/revoke")
            await asyncio.gather(*readers)
    print(f"idle gateway CPU: {idle:.2f} % of one core")
    print(f"{viewers} viewers: gateway CPU {loaded:.2f} % of one core, peak RSS {peak:.1f} MB")
    print(f"per-viewer rate: min {min(rates):.2f} Mbit/s, max {max(rates):.2f} Mbit/s")
    ok = loaded <= 10 and peak <= 100
    print(f"goal <= 10 % CPU and <= 100 MB: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    add_backend_argument(parser)
    args = parser.parse_args()
    print(f"backend: {args.backend}")
    sys.exit(asyncio.run(main(args.viewers, args.seconds, args.backend)))
