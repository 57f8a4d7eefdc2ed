"""Starts the synthetic RTSP camera (camera_sim.py) with the system Python that has GStreamer."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .process import announcing

SIM = Path(__file__).with_name("camera_sim.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def camera_available() -> str | None:
    """None when the camera can run here, else the reason it cannot."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} (with PyGObject and GStreamer) is missing; run scripts/setup"
    if shutil.which("ffprobe") is None:
        return "ffprobe is missing; run scripts/setup"
    return None


@contextlib.contextmanager
def run_camera(*args: str, timeout: float = 15) -> Iterator[str]:
    """Run the camera; yields its RTSP URL (on 127.0.0.1, a free port)."""
    argv = [SYSTEM_PYTHON, str(SIM), "--port", "0", *args]
    with announcing(argv, stop_timeout=5) as (proc, line):
        if not line.startswith("ready "):
            proc.kill()
            _, err = proc.communicate(timeout=timeout)
            raise AssertionError(f"camera did not start: {line!r} {err}")
        yield line.split(" ", 1)[1]


@contextlib.contextmanager
def camera_or_skip(*args: str) -> Iterator[str]:
    """run_camera, or skip the test with the reason the camera cannot run here."""
    reason = camera_available()
    if reason:
        pytest.skip(reason)
    with run_camera(*args) as url:
        yield url


def main() -> None:
    """`python -m tests.peers.camera`: a camera for manual runs (Ctrl-C stops it)."""
    with run_camera(*sys.argv[1:]) as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(["sleep", "infinity"], check=False)


if __name__ == "__main__":
    main()
