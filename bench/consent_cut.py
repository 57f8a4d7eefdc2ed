"""Benchmark: consent switched off in Home Assistant -> a viewer's end-of-stream at the door.

Runs the pytest-driven benchmark (it needs Home Assistant's test harness for a real `hass`) and
prints p50/p99 over 20 runs (goal p99 <= 500 ms).

    scripts/run python bench/consent_cut.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    sys.exit(
        subprocess.call(
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
        )
    )
