"""go2rtc in tests: the real binary (the one place a go2rtc test skips), and the API double.

The real binary comes from $GO2RTC_BIN (set-up builds it from source). `go2rtc_binary()` is the
only way a test gets it, so that a run without it skips every go2rtc test with the same reason (and
a CI run, which must test the real restreamer, can turn that skip into a failure in one place).
The double (`go2rtc_double.py`) serves garbage answers only; see its docstring.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .process import stop_process

DOUBLE = Path(__file__).with_name("go2rtc_double.py")
NO_REAL = "GO2RTC_BIN not set: real go2rtc not available here"


def go2rtc_binary() -> Path:
    """The real go2rtc; skips the calling test with the reason when there is none."""
    real = os.environ.get("GO2RTC_BIN")
    if not real:
        pytest.skip(NO_REAL)
    path = Path(real)
    if not path.is_file():
        pytest.skip(f"GO2RTC_BIN names {real}, which does not exist here")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.05)


@dataclass
class RunningGo2rtc:
    """A go2rtc (real or the double) started by hand, outside the gateway."""

    api: str  # http://127.0.0.1:PORT
    rtsp_port: int
    config_path: Path
    proc: subprocess.Popen[bytes]

    def rtsp(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/{name}"


@contextlib.contextmanager
def run_go2rtc(
    binary: Path, folder: Path, streams: dict[str, Any] | None = None, **api: Any
) -> Iterator[RunningGo2rtc]:
    """go2rtc (or the double) on free loopback ports, with `streams` and extra `api` settings in
    its file. WebRTC and SRTP are off: a real go2rtc would otherwise listen on every interface."""
    api_port, rtsp_port = free_port(), free_port()
    config: dict[str, Any] = {
        "api": {"listen": f"127.0.0.1:{api_port}", **api},
        "rtsp": {"listen": f"127.0.0.1:{rtsp_port}"},
        "webrtc": {"listen": ""},
        "srtp": {"listen": ""},
    }
    if streams:
        config["streams"] = streams
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "go2rtc.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [str(binary), "-config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_port(api_port)
        wait_port(rtsp_port)
        yield RunningGo2rtc(f"http://127.0.0.1:{api_port}", rtsp_port, path, proc)
    finally:
        stop_process(proc, timeout=10)
