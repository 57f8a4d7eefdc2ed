"""Crash consistency, a short fixed-seed run (bench/crash_cycles.py runs 100 cycles): share
lifecycles on the real gateway process, ended early by the city or the owner at random moments,
the gateway killed -9 at random moments and restarted on its data folder. After each restart no
ended link plays (a real RTSP client tries), live ones do, go2rtc holds only live shares' streams,
the audit log verifies and never shrinks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..peers.camera import camera_or_skip
from ..peers.go2rtc import go2rtc_binary
from .crash_run import CrashRun

CYCLES = 5
SEED = 9  # a schedule with deletes, revokes and one share left to run its window


@pytest.fixture(scope="module")
def camera_url() -> Iterator[str]:
    with camera_or_skip() as url:
        yield url


@pytest.mark.parametrize("backend", ["direct", "go2rtc"])
async def test_kill_9_at_random_moments_never_revives_an_ended_link(
    socket_enabled: None, tmp_path: Path, camera_url: str, backend: str
) -> None:
    chosen = {"restreamer": "direct"}
    if backend == "go2rtc":
        chosen = {"restreamer": "go2rtc", "go2rtc_bin": str(go2rtc_binary())}
    run = CrashRun(tmp_path, camera_url, seed=SEED, backend=chosen)
    figures = await run.run(CYCLES)
    assert figures.failures == []
    assert figures.cycles == figures.kills == CYCLES
    assert figures.probes_ended > 0, "ended links were tried"
    assert figures.probes_live > 0, "and live ones, which must play"
    assert figures.ends_acknowledged > 0
    assert figures.records > 0
    if backend == "go2rtc":
        assert figures.go2rtc_checks == CYCLES
        assert figures.go2rtc_live_seen > 0, "go2rtc's API shows a live share's stream"
