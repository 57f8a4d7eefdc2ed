"""Helpers around go2rtc in tests: the double's path, the real binary when GO2RTC_BIN names one,
and a double started by hand (for the double's own tests)."""

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

DOUBLE = Path(__file__).with_name("go2rtc_double.py")
NO_REAL = "GO2RTC_BIN not set: real go2rtc not available here"


def go2rtc_binary(kind: str) -> Path:
    """The double, or the real go2rtc (skipping the test with the reason when there is none)."""
    if kind == "double":
        return DOUBLE
    real = os.environ.get("GO2RTC_BIN")
    if not real:
        pytest.skip(NO_REAL)
    return Path(real)


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
class RunningDouble:
    api: str  # http://127.0.0.1:PORT
    rtsp_port: int
    config_path: Path
    proc: subprocess.Popen[bytes]

    def rtsp(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.rtsp_port}/{name}"


@contextlib.contextmanager
def run_double(
    folder: Path, streams: dict[str, Any] | None = None, binary: Path = DOUBLE, **api: Any
) -> Iterator[RunningDouble]:
    """A double (or the go2rtc `binary`) on free loopback ports, with `streams` and extra `api`
    settings in its file. WebRTC and SRTP are off: a real go2rtc would otherwise listen on every
    interface."""
    api_port, rtsp_port = free_port(), free_port()
    config: dict[str, Any] = {
        "api": {"listen": f"127.0.0.1:{api_port}", **api},
        "rtsp": {"listen": f"127.0.0.1:{rtsp_port}"},
        "webrtc": {"listen": ""},
        "srtp": {"listen": ""},
    }
    if streams:
        config["streams"] = streams
    path = folder / "go2rtc.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [str(binary), "-config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_port(api_port)
        wait_port(rtsp_port)
        yield RunningDouble(f"http://127.0.0.1:{api_port}", rtsp_port, path, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
