"""How the door builds upstream URIs (only from the registered source and the upstream's own
controls, always at the registered host) and rewrites the upstream's RTP-Info for the viewer."""

from __future__ import annotations

import pytest
from rtcc_gateway.door.rtsp.upstream import CameraError, door_rtp_info, pin, resolve

SOURCE = "rtsp://192.168.1.20:554/Streaming/Channels/101"


@pytest.mark.parametrize(
    ("base", "control", "resolved"),
    [
        ("rtsp://cam/stream1/", "stream=0", "rtsp://cam/stream1/stream=0"),
        ("rtsp://cam/TOKEN", "trackID=0", "rtsp://cam/TOKEN/trackID=0"),  # go2rtc: no Content-Base
        ("rtsp://cam/stream1/", "", "rtsp://cam/stream1/"),
        ("rtsp://cam/stream1/", "*", "rtsp://cam/stream1/"),
        ("rtsp://cam/stream1/", "rtsp://other:8554/x/track1", "rtsp://other:8554/x/track1"),
    ],
)
def test_controls_resolve_the_way_players_resolve_them(
    base: str, control: str, resolved: str
) -> None:
    assert resolve(base, control) == resolved


@pytest.mark.parametrize(
    ("url", "pinned"),
    [
        # A camera naming another host (or its LAN address) is still reached where registered.
        ("rtsp://10.0.0.9:8554/Streaming/Channels/101/trackID=1", f"{SOURCE}/trackID=1"),
        ("rtsp://admin:pw@192.168.1.20/Streaming/Channels/101/", f"{SOURCE}/"),
        ("RTSPS://cam/x", "rtsp://192.168.1.20:554/x"),
    ],
)
def test_upstream_urls_keep_the_registered_host_and_no_credentials(url: str, pinned: str) -> None:
    assert pin(url, "rtsp://viewer:secret@192.168.1.20:554/Streaming/Channels/101") == pinned


def test_a_control_that_is_not_rtsp_is_garbage() -> None:
    with pytest.raises(CameraError) as failed:
        pin("http://cam/x", SOURCE)
    assert failed.value.cause == "camera_answered_garbage"


def test_rtp_info_names_the_doors_tracks_only() -> None:
    tracks = (f"{SOURCE}/stream=0", f"{SOURCE}/stream=1")
    upstream = (
        "url=rtsp://127.0.0.1:554/Streaming/Channels/101/stream=0;seq=13065;rtptime=1553570008, "
        "url=stream=1;seq=31317;rtptime=1048759718, "
        "url=rtsp://cam/elsewhere;seq=1;rtptime=2"
    )
    assert door_rtp_info(upstream, tracks, {0: (0, 1), 1: (2, 3)}, "rtsp://door/T/") == (
        "url=rtsp://door/T/track0;seq=13065;rtptime=1553570008,"
        "url=rtsp://door/T/track1;seq=31317;rtptime=1048759718"
    )
    # Tracks not set up, and numbers that are not numbers, are left out.
    assert door_rtp_info(upstream, tracks, {0: (0, 1)}, "/T/") == (
        "url=/T/track0;seq=13065;rtptime=1553570008"
    )
    assert door_rtp_info(f"url={tracks[0]};seq=1\r\nX: y", tracks, {0: (0, 1)}, "/T/") == (
        "url=/T/track0"
    )
    assert door_rtp_info("", tracks, {0: (0, 1)}, "/T/") == ""
