"""Benchmark: consent switched off in Home Assistant -> a viewer's end-of-stream at the door.

Runs the pytest-driven benchmark (it needs Home Assistant's test harness for a real `hass`) and
prints p50/p99 over 20 runs (goal p99 <= 500 ms). With `--json` it ends with one JSON line of
those figures, read from the benchmark's own summary line (the test lives with the integration's
tests and prints it; this script passes its output through).

    scripts/run python bench/consent_cut.py [--json]
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from common import bench_options, emit, parse_options

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r"consent off -> end-of-stream over (\d+) runs: p50 ([\d.]+) ms, p99 ([\d.]+) ms, "
    r"max ([\d.]+) ms"
)


def main(as_json: bool) -> int:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-m",
            "bench",
            "-p",
            "no:randomly",
            "tests/integration/test_consent_cut_bench.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    if as_json:
        found = SUMMARY.search(done.stdout)
        if found is None:
            print("no summary line in the benchmark's output", file=sys.stderr)
            return done.returncode or 1
        runs, p50, p99, worst = found.groups()
        figures = {"n": int(runs), "p50": float(p50), "p99": float(p99), "max": float(worst)}
        emit(
            "consent_cut",
            {"consent_off_ms": figures},
        )
    return done.returncode


if __name__ == "__main__":
    parser = bench_options(__doc__)
    sys.exit(main(parse_options(parser).json))
