"""The door's own session descriptions: video only unless audio is shared, the door's control
names, and nothing of the camera's address, name or tooling."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rtcc_gateway.door.sdp import Track, filter_sdp

# What the synthetic GStreamer camera answered (LAN address swapped in for the test's loopback).
GSTREAMER = """v=0
o=- 16510222571663399234 1 IN IP4 192.168.1.20
s=Session streamed with GStreamer
i=rtsp-server
u=http://192.168.1.20/admin
e=owner@example.net
t=0 0
a=tool:GStreamer
a=type:broadcast
a=control:*
a=range:npt=now-
m=video 0 RTP/AVP 96
c=IN IP4 192.168.1.20
b=AS:512
a=rtpmap:96 H264/90000
a=framerate:15
a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAFtoCgL/lwFqDAwNSgAAAAwCAAAAPR4sXUA==,aM48gA==
a=control:rtsp://admin:hunter2@192.168.1.20:554/Streaming/Channels/101/stream=0
a=ts-refclk:local
a=mediaclk:sender
a=ssrc:950068372 cname:user51201959@host-17a65ac1
m=audio 0 RTP/AVP 0
c=IN IP4 192.168.1.20
a=rtpmap:0 PCMU/8000
a=control:stream=1
m=application 0 RTP/AVP 107
a=rtpmap:107 vnd.onvif.metadata/90000
a=control:stream=2
""".replace("\n", "\r\n")

# What go2rtc 1.9.14 answered for the same camera.
GO2RTC = """v=0
o=- 1 1 IN IP4 0.0.0.0
s=go2rtc/1.9.14
c=IN IP4 0.0.0.0
t=0 0
m=video 0 RTP/AVP 96
a=rtpmap:96 H264/90000
a=recvonly
a=control:trackID=0
m=audio 0 RTP/AVP 97
a=rtpmap:97 PCMU/8000
a=recvonly
a=control:trackID=1
"""

SERVED = [
    "v=0",
    "o=- 0 0 IN IP4 0.0.0.0",
    "s=rtcc_share",
    "c=IN IP4 0.0.0.0",
    "t=0 0",
    "a=range:npt=now-",
    "a=control:*",
    "m=video 0 RTP/AVP 96",
    "b=AS:512",
    "a=rtpmap:96 H264/90000",
    "a=framerate:15",
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAFtoCgL/lwFqDAwNSgAAAAwCAAAAPR4sXUA==,aM48gA==",
    "a=control:track0",
]


def test_the_camera_gets_described_as_video_only_with_door_controls() -> None:
    served = filter_sdp(GSTREAMER, keep_audio=False)
    assert served.text == "\r\n".join(SERVED) + "\r\n"
    assert served.tracks == (
        Track("video", "rtsp://admin:hunter2@192.168.1.20:554/Streaming/Channels/101/stream=0"),
    )
    assert served.controls == ("track0",)
    assert served.session_control == ""


@pytest.mark.parametrize(
    "leak",
    [
        "192.168",
        "hunter2",
        "Streaming",
        "GStreamer",
        "owner@",
        "http:",
        "cname",
        "stream=",
        "onvif",
    ],
)
def test_nothing_of_the_camera_is_served(leak: str) -> None:
    for keep_audio in (False, True):
        assert leak not in filter_sdp(GSTREAMER, keep_audio=keep_audio).text


def test_audio_is_served_only_when_shared_and_other_media_never() -> None:
    shared = filter_sdp(GSTREAMER, keep_audio=True)
    assert [t.kind for t in shared.tracks] == ["video", "audio"]
    assert shared.tracks[1].upstream_control == "stream=1"
    assert shared.text.count("m=") == 2
    assert "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:track1\r\n" in shared.text
    assert "application" not in shared.text


def test_go2rtc_descriptions_are_served_the_same_way() -> None:
    served = filter_sdp(GO2RTC, keep_audio=False)
    assert served.tracks == (Track("video", "trackID=0"),)
    assert "m=audio" not in served.text
    assert "go2rtc" not in served.text
    assert "a=recvonly\r\na=control:track0\r\n" in served.text
    assert [t.upstream_control for t in filter_sdp(GO2RTC, keep_audio=True).tracks] == [
        "trackID=0",
        "trackID=1",
    ]


@pytest.mark.parametrize(
    ("section", "served"),
    [
        ("m=video 0 RTP/SAVP 96\r\na=control:s0", False),  # no keys through the door
        ("m=video 0 RTP/AVP x\r\na=control:s0", False),
        ("m=video 0 RTP/AVP 96\r\na=control:has space", False),
        ("m=video 0 RTP/AVP 96\r\na=control:*", True),
        ("m=video 0 RTP/AVP 96", True),
        ("m=video 9 RTP/AVP 96\r\nc=IN IP4 10.0.0.9\r\na=control:s", True),
    ],
)
def test_sections_the_door_cannot_serve_are_left_out(section: str, served: bool) -> None:
    result = filter_sdp(f"v=0\r\n{section}\r\n", keep_audio=False)
    assert bool(result.tracks) is served
    assert "10.0.0.9" not in result.text
    if served:
        assert "m=video 0 RTP/AVP 96\r\n" in result.text
        assert result.tracks[0].upstream_control in {"", "s"}


def test_a_session_level_control_is_kept_for_the_door_alone() -> None:
    served = filter_sdp(
        "v=0\r\na=control:rtsp://cam/live\r\nm=video 0 RTP/AVP 96\r\n", keep_audio=False
    )
    assert served.session_control == "rtsp://cam/live"
    assert "cam/live" not in served.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600), st.booleans())
def test_any_text_gets_a_description_of_the_doors_own_lines(text: str, keep_audio: bool) -> None:
    served = filter_sdp(text, keep_audio=keep_audio)
    lines = served.text.split("\r\n")
    assert lines[:5] == [
        "v=0",
        "o=- 0 0 IN IP4 0.0.0.0",
        "s=rtcc_share",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
    ]
    assert lines[-1] == ""
    assert all(line.isascii() and line.isprintable() for line in lines)
    kinds = {"video", "audio"} if keep_audio else {"video"}
    assert all(line.split(" ")[0][2:] in kinds for line in lines if line.startswith("m="))
    assert sum(line.startswith("m=") for line in lines) == len(served.tracks)
