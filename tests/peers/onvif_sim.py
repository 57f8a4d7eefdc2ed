"""Launch the ipycam virtual ONVIF camera for tests, fed with synthetic frames.

Run with the project's Python (`python tests/peers/onvif_sim.py --onvif-port N --rtsp-port M`);
prints `ready ONVIF_URL` once the device service answers, streams until SIGTERM/SIGINT.

ipycam binds 0.0.0.0 and multicasts a WS-Discovery Hello on start, so this must only ever run in
a network namespace that has nothing but loopback (scripts/test makes one). It refuses otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading


def isolated_namespace() -> bool:
    """True when the only network interface is loopback (scripts/test's namespace)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--onvif-port", type=int, required=True)
    parser.add_argument("--rtsp-port", type=int, required=True)
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
        onvif_port=args.onvif_port,
        rtsp_port=args.rtsp_port,
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
        print(f"ready {config.onvif_url}", flush=True)
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
