"""Benchmark: crash consistency over many kill -9 cycles (issue 10's 100-cycle run).

Each cycle is one share lifecycle on the real `rtcc-gateway serve` (60 s window, a viewer
attached, most ended early by the city's DELETE or the owner's revoke at a random moment), the
gateway killed -9 at a random moment and restarted on the same data folder; after every restart a
real RTSP client tries every link (ended ones must not play, live ones must), go2rtc's own API is
asked for its streams (only live shares'), `rtcc-gateway audit verify` must pass and its record
count never go down. The engine is tests/e2e/crash_run.py (the suite runs 5 cycles of it).

    scripts/run python bench/crash_cycles.py [--cycles 100] [--seed 1] [--backend go2rtc] [--json]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from common import backend_config, bench_options, parse_options

from tests.e2e.crash_run import CrashRun
from tests.peers.camera import run_camera


async def main(cycles: int, seed: int, backend: str, as_json: bool) -> int:
    started = time.monotonic()
    with run_camera() as camera, tempfile.TemporaryDirectory() as tmp:
        run = CrashRun(
            Path(tmp), camera, seed=seed, backend=backend_config(backend), log=not as_json
        )
        figures = await run.run(cycles)
    result = {
        "bench": "crash_cycles",
        "backend": backend,
        "seed": seed,
        **figures.as_json(),
        "seconds": round(time.monotonic() - started, 1),
    }
    if as_json:
        print(json.dumps(result), flush=True)
    else:
        for what in figures.failures:
            print(f"FAILED: {what}")
        print(
            f"{figures.cycles} cycles, {figures.kills} kill -9, "
            f"{figures.ends_acknowledged} ends acknowledged ({figures.ends_retried} retried after "
            f"a crash), {figures.windows_over} windows over; probes: {figures.probes_ended} of "
            f"ended links ({result['ended_links_playing']} played), {figures.probes_live} of live "
            f"ones; {figures.records} audit records, verified after every restart; "
            f"go2rtc checked {figures.go2rtc_checks} times; restart p50 "
            f"{result['restart_p50_s']} s, max {result['restart_max_s']} s; "
            f"{result['seconds']} s in all"
        )
    return 1 if figures.failures else 0


if __name__ == "__main__":
    parser = bench_options(__doc__, backend=True)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parse_options(parser)
    sys.exit(asyncio.run(main(args.cycles, args.seed, args.backend, args.json)))
