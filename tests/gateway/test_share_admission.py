"""What both doors are told of a share: its viewers are registered under the share's names, and
the RTSP door's admission is the same record plus where the video comes from."""

from __future__ import annotations

from typing import Any

from rtcc_gateway.door.rtsp import Admission
from rtcc_gateway.door.share_admission import DoorCut, ShareAdmission
from rtcc_gateway.door.viewers import ViewerRegistry
from rtcc_gateway.restreamer.base import upstream_from_url

SHARE = ShareAdmission("tok_1", "shr_1", "req_1", "front_door", share_audio=False)


async def test_a_viewer_is_registered_under_the_admitted_share() -> None:
    records: list[dict[str, Any]] = []

    async def record(_kind: str, detail: dict[str, Any]) -> None:
        records.append(detail)

    viewers = ViewerRegistry(record)
    viewer = viewers.connect(SHARE, remote="127.0.0.2", kind="mp4", close=lambda: None)
    assert viewer is not None
    assert (viewer.share, viewer.kind) == (SHARE, "mp4")
    await viewers.cut("tok_1")
    assert viewers.connect(SHARE, remote="127.0.0.2", kind="hls", close=lambda: None) is None
    await viewers.drain()
    assert [r["share_id"] for r in records] == ["shr_1"]


async def test_a_cut_through_the_registry_closes_the_stream_and_says_the_end_was_the_doors() -> (
    None
):
    async def record(_kind: str, _detail: dict[str, Any]) -> None:
        pass

    closed: list[str] = []
    viewers = ViewerRegistry(record)
    stream = DoorCut(lambda: closed.append("closed"))
    assert viewers.connect(SHARE, remote="127.0.0.2", kind="rtsp", close=stream.cut)
    assert not stream.by_door
    stream.close()  # a close of the door's own (the viewer left) is no cut
    assert (closed, stream.by_door) == (["closed"], False)
    await viewers.cut("tok_1")
    assert (closed, stream.by_door) == (["closed", "closed"], True)
    await viewers.drain()


def test_the_rtsp_admission_is_a_share_admission_with_its_upstream() -> None:
    upstream = upstream_from_url("rtsp://127.0.0.1:8554/tok_1")
    admission = Admission(
        token="tok_1",
        share_id="shr_1",
        request_id="req_1",
        camera_id="front_door",
        share_audio=False,
        upstream=upstream,
    )
    assert isinstance(admission, ShareAdmission)
    assert admission.source is None
    assert "tok_1" not in repr(admission), "the token never shows in a repr"
