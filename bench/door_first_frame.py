"""Benchmark: link -> first decoded frame through the door, versus straight from the camera.

ffmpeg (low-latency options) decodes one frame, 10 tries each way, alternating, in one run;
prints the medians and their ratio (goal <= 1.10).

    scripts/run python bench/door_first_frame.py [--tries 10]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from common import bench_options, emit, parse_options, report, running_gateway, summary

from tests.peers.camera import run_camera


async def first_frame_ms(url: str) -> float:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg",
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-fflags",
        "nobuffer",
        "-probesize",
        "32",
        "-analyzeduration",
        "0",
        "-i",
        url,
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
    )
    if await proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed on {url}")
    return (time.perf_counter() - started) * 1000


async def main(tries: int, backend: str, as_json: bool = False) -> int:
    with run_camera() as camera:
        async with running_gateway(camera, backend=backend) as bench:
            direct: list[float] = []
            door: list[float] = []
            await first_frame_ms(camera)  # warm the camera's encoder
            for i in range(tries):
                answer = await bench.request(incident_id=f"FF-{i}", duration_s=600)
                link = bench.rtsp_link(answer)
                direct.append(await first_frame_ms(camera))
                door.append(await first_frame_ms(link))
    report("first frame straight from the camera", direct)
    report("first frame through the door", door)
    ratio = statistics.median(door) / statistics.median(direct)
    verdict = "met" if ratio <= 1.10 else "NOT met"
    print(f"ratio of medians (door/camera): {ratio:.3f}  goal <= 1.10: {verdict}")
    if as_json:
        figures = {"camera_ms": summary(direct), "door_ms": summary(door), "ratio": round(ratio, 3)}
        emit("door_first_frame", {"backend": backend, **figures})
    return 0


if __name__ == "__main__":
    parser = bench_options(__doc__, backend=True)
    parser.add_argument("--tries", type=int, default=10)
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.tries, args.backend, args.json)))
