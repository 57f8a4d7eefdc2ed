"""The links a city gets for a share: RTSP always, MP4 and HLS only with the HTTP door."""

from __future__ import annotations

from rtcc_gateway.shares.links import Links

TOKEN = "tok_1"


def test_a_direct_gateway_hands_out_rtsp_only() -> None:
    links = Links("rtsps://gw.example:8554", "https://gw.example", http_links=False)
    assert links.for_token(TOKEN) == {"rtsp": "rtsps://gw.example:8554/tok_1"}


def test_with_the_http_door_mp4_and_hls_are_on_the_public_listener() -> None:
    links = Links("rtsps://gw.example:8554", "https://gw.example", http_links=True)
    assert links.for_token(TOKEN) == {
        "rtsp": "rtsps://gw.example:8554/tok_1",
        "mp4": "https://gw.example/s/tok_1/stream.mp4",
        "hls": "https://gw.example/s/tok_1/index.m3u8",
    }
