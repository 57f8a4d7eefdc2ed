"""The `direct` backend: no process; the RTSP door goes straight to the camera of a live share."""

from __future__ import annotations

from rtcc_gateway.restreamer.base import StreamSpec
from rtcc_gateway.restreamer.direct import DirectRestreamer

SOURCE = "rtsp://admin:pw@192.0.2.10/stream1"


async def test_a_live_share_points_the_door_at_its_camera() -> None:
    direct = DirectRestreamer()
    await direct.start()
    await direct.add(StreamSpec(token="t1", source=SOURCE))
    upstream = direct.rtsp_upstream("t1")
    assert upstream is not None
    assert (upstream.host, upstream.base, upstream.username) == (
        "192.0.2.10",
        "rtsp://192.0.2.10/stream1",
        "admin",
    )
    assert direct.rtsp_upstream("t2") is None, "not live here"
    assert direct.http_upstream() is None, "no MP4 or HLS without a restreamer"


async def test_removed_and_unreconciled_streams_are_gone() -> None:
    direct = DirectRestreamer()
    for token in ("t1", "t2", "t3"):
        await direct.add(StreamSpec(token=token, source=SOURCE))
    await direct.remove("t1")
    await direct.remove("t1")  # idempotent
    await direct.reconcile({"t2"})
    assert [t for t in ("t1", "t2", "t3") if direct.rtsp_upstream(t)] == ["t2"]
    await direct.stop()
    assert direct.rtsp_upstream("t2") is None
