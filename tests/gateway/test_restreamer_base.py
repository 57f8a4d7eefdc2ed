"""The restreamer interface's values: a share's stream spec and where the door connects, with a
camera's credentials split off its URL."""

from __future__ import annotations

import pytest
from rtcc_gateway.restreamer.base import StreamSpec, Upstream, upstream_from_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "rtsp://admin:s3cret@192.0.2.10:8554/stream1",
            Upstream(
                "192.0.2.10", 8554, "rtsp://192.0.2.10:8554/stream1", False, "admin", "s3cret"
            ),
        ),
        ("rtsp://cam.lan/live", Upstream("cam.lan", 554, "rtsp://cam.lan/live")),
        ("rtsps://cam.lan/live/", Upstream("cam.lan", 322, "rtsps://cam.lan/live", tls=True)),
        (
            "rtsp://u%40home:p%2Fw%3A@[2001:db8::5]/h264?channel=1",
            Upstream(
                "2001:db8::5", 554, "rtsp://[2001:db8::5]/h264?channel=1", False, "u@home", "p/w:"
            ),
        ),
    ],
)
def test_an_upstream_splits_the_credentials_off_the_camera_url(
    url: str, expected: Upstream
) -> None:
    assert upstream_from_url(url) == expected


def test_secrets_stay_out_of_reprs() -> None:
    upstream = upstream_from_url("rtsp://admin:s3cret@cam/stream")
    spec = StreamSpec(token="tok_secret_123", source="rtsp://admin:s3cret@cam/stream")
    for text in (repr(upstream), repr(spec)):
        assert "s3cret" not in text
        assert "tok_secret_123" not in text
