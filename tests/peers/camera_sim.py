"""A synthetic RTSP camera: GStreamer's RTSP server with one shared H.264 (+ optional G.711 audio)
media, so any number of clients read the same encoder. Run with the system Python that has
PyGObject (`/usr/bin/python3 tests/peers/camera_sim.py --port 0`); prints `ready URL` when serving.

A shared media is unprepared when its last client leaves, and DESCRIBEs that arrive meanwhile are
answered 503 (24 of 30 back-to-back visits were): so the camera keeps one client of its own, a
"keeper", attached for its whole life, and says ready only once that client plays. Real cameras
do not flap like that; the tests must not see it either.

Binds 127.0.0.1 only (or the address given, for tests inside their own network namespace).
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def pipeline(args: argparse.Namespace) -> str:
    video = (
        f"videotestsrc is-live=true pattern={args.pattern} ! video/x-raw,width={args.width},"
        f"height={args.height},framerate={args.fps}/1 ! x264enc tune=zerolatency "
        f"speed-preset=ultrafast key-int-max={args.fps} bitrate={args.bitrate} "
        f"vbv-buf-capacity=1000 ! "
        "rtph264pay name=pay0 pt=96 config-interval=1"
    )
    audio = (
        " audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=8000,channels=1 ! "
        "mulawenc ! rtppcmupay name=pay1 pt=0"
    )
    return "( " + video + (audio if args.audio else "") + " )"


def start_keeper(url: str, args: argparse.Namespace) -> Gst.Pipeline:
    """An RTSP/TCP client of the camera itself that reads every track into fakesinks."""
    pipe = Gst.Pipeline.new("keeper")
    src = Gst.ElementFactory.make("rtspsrc", "keeper-src")
    src.set_property("location", url)
    src.set_property("protocols", GstRtsp.RTSPLowerTrans.TCP)
    src.set_property("latency", 0)
    if args.user:
        src.set_property("user-id", args.user)
        src.set_property("user-pw", args.password or "")
    pipe.add(src)

    def on_pad(_src: Gst.Element, pad: Gst.Pad) -> None:
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    src.connect("pad-added", on_pad)
    pipe.set_state(Gst.State.PLAYING)
    return pipe


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--path", default="/stream1")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", type=int, default=500, help="kbit/s")
    parser.add_argument(
        "--pattern", default="ball", help="videotestsrc pattern; 'snow' keeps the bitrate up"
    )
    parser.add_argument("--audio", action="store_true", help="add a G.711 audio track")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--auth", choices=["basic", "digest"], default="basic")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(pipeline(args))
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        if args.auth == "digest":
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(args.user, args.password or "", token)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
        factory.add_role_from_structure(
            Gst.Structure.from_string(
                "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )[0]
        )
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on {args.address}:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    try:
        from gi.repository import GLibUnix  # noqa: PLC0415 - newer PyGObject only

        add_signal = GLibUnix.signal_add
    except ImportError:
        add_signal = GLib.unix_signal_add
    for sig in (signal.SIGTERM, signal.SIGINT):
        add_signal(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    url = f"rtsp://{args.address}:{server.get_bound_port()}{args.path}"
    # The server answers from the main loop's context: run it while the keeper connects.
    context = GLib.MainContext.default()
    keeper = start_keeper(url, args)
    bus = keeper.get_bus()
    problem: str | None = "the keeper client did not start playing"
    deadline = GLib.get_monotonic_time() + 20_000_000
    while GLib.get_monotonic_time() < deadline:
        context.iteration(False)
        message = bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.STATE_CHANGED)
        if message is None:
            continue
        if message.type == Gst.MessageType.ERROR:
            problem = str(message.parse_error()[0])
            break
        if message.src == keeper and message.parse_state_changed()[1] == Gst.State.PLAYING:
            problem = None
            break
    if problem is not None:
        print(f"camera: {problem}", file=sys.stderr)
        return 1
    print(f"ready {url}", flush=True)
    loop.run()
    keeper.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
