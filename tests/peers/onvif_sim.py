"""Launch the ipycam virtual ONVIF camera for tests, fed with synthetic frames.

Run with the project's Python (`python tests/peers/onvif_sim.py`); prints
`ready ONVIF_DEVICE_URL RTSP_PORT` once the device service listens, then streams until
SIGTERM/SIGINT. Ports default to free ones picked here, so the test process (where pytest-socket
blocks sockets outside `socket_enabled`) needs no socket to start it.
Tests use `run_onvif_sim()` (below), which picks free ports and always stops the process.

ipycam binds 0.0.0.0 and multicasts a WS-Discovery Hello on start, so this must only ever run in
a network namespace that has nothing but loopback (scripts/test makes one). It refuses otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SIM = Path(__file__)


def isolated_namespace() -> bool:
    """True when the only network interface is loopback (scripts/test's namespace)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def sim_unavailable() -> str | None:
    """None when ipycam may run here, else the reason it must not (printed as the skip reason)."""
    if not isolated_namespace():
        return (
            "ipycam binds 0.0.0.0 and multicasts: it runs only inside scripts/test's "
            "loopback-only network namespace (run `scripts/test tests/integration/...`)"
        )
    if importlib.util.find_spec("ipycam") is None:
        return "ipycam is not installed (pip install ipycam; it belongs in the test extras)"
    return None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port nothing listens on right now (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class OnvifSim:
    """A running simulator: where its services are and what it was configured with."""

    onvif_port: int
    rtsp_port: int
    device_url: str
    name: str
    username: str
    password: str


@contextlib.contextmanager
def run_onvif_sim(
    *, name: str = "RTCC-Sim", username: str = "", password: str = "", timeout: float = 30
) -> Iterator[OnvifSim]:
    """Run ipycam on free ports (WS-Discovery on 3702); stopped (killed if need be) on exit."""
    reason = sim_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    args = [sys.executable, str(SIM), "--name", name]
    if username:
        args += ["--username", username, "--password", password]
    # stderr goes to a file: a full pipe nobody reads would stall the simulator.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert proc.stdout is not None
        line = ""
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout
            while not line and time.monotonic() < deadline and proc.poll() is None:
                if selector.select(timeout=0.2):
                    line = proc.stdout.readline().strip()
        if not line.startswith("ready "):
            proc.kill()
            proc.wait(timeout=10)
            log.seek(0)
            raise AssertionError(f"ipycam did not start: {line!r} {log.read()[-2000:]}")
        _, device_url, rtsp_port = line.split()
        onvif_port = int(device_url.split(":")[2].split("/")[0])
        yield OnvifSim(onvif_port, int(rtsp_port), device_url, name, username, password)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--onvif-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--rtsp-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--go2rtc-port", type=int, default=1, help="a port with no go2rtc on it")
    parser.add_argument("--discovery-port", type=int, default=3702)
    parser.add_argument("--name", default="RTCC-Sim")
    parser.add_argument("--manufacturer", default="PythonCam")
    parser.add_argument("--model", default="VirtualCam-1")
    parser.add_argument("--serial", default="SIM-0001")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()

    if not isolated_namespace():
        print("refusing to start: not in a loopback-only network namespace", file=sys.stderr)
        return 2

    # ipycam pulls in OpenCV and numpy; imported late so the guard above runs first.
    import numpy as np  # noqa: PLC0415
    from ipycam import CameraConfig, IPCamera, configure_logging  # noqa: PLC0415
    from ipycam.discovery import WSDiscoveryServer  # noqa: PLC0415

    configure_logging(level=args.log_level)
    # The responder's port is a class attribute; overriding it lets a test pick another.
    WSDiscoveryServer.MULTICAST_PORT = args.discovery_port
    config = CameraConfig(
        name=args.name,
        manufacturer=args.manufacturer,
        model=args.model,
        serial_number=args.serial,
        local_ip="127.0.0.1",
        onvif_port=args.onvif_port or free_port(),
        rtsp_port=args.rtsp_port or free_port(),
        go2rtc_api_port=args.go2rtc_port,
        username=args.username,
        password=args.password,
        # Small and slow: the tests only need a real H.264 stream, not a pretty one.
        main_width=320,
        main_height=240,
        main_fps=args.fps,
        main_bitrate="256K",
        sub_width=160,
        sub_height=120,
        sub_fps=args.fps,
        sub_bitrate="128K",
        hw_accel="cpu",
        show_timestamp=False,
    )
    camera = IPCamera(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not camera.start():
        print("ipycam failed to start", file=sys.stderr)
        return 1
    try:
        print(f"ready {config.onvif_url} {config.rtsp_port}", flush=True)
        frame = np.zeros((config.main_height, config.main_width, 3), dtype=np.uint8)
        n = 0
        while not stop.is_set() and camera.is_running:
            frame[:] = (n * 7 % 256, 64, 128)
            camera.stream(frame)  # paces itself to the configured fps
            n += 1
    finally:
        camera.stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # ipycam leaves non-daemon worker threads behind on some paths; do not wait for them.
    os._exit(code)
