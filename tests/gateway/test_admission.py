"""What the doors ask of the gateway: a token admits a viewer only while its share is live and
uncut and its camera is in the registry; the RTSP door also learns where the video comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rtcc_gateway.admission import DoorGate
from rtcc_gateway.config import Camera, Location
from rtcc_gateway.door.share_admission import ShareAdmission
from rtcc_gateway.door.viewers import ViewerRegistry
from rtcc_gateway.restreamer.base import StreamSpec, upstream_from_url
from rtcc_gateway.restreamer.direct import DirectRestreamer
from rtcc_gateway.store import ShareRow

SOURCE = "rtsp://admin:pw@192.0.2.10/stream1"
NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def camera(share_audio: bool = False) -> Camera:
    return Camera(
        id="front_door",
        label="Front door",
        source=SOURCE,
        location=Location(32.299, -90.185),
        consent=True,
        share_audio=share_audio,
    )


def live(token: str) -> ShareRow:
    return ShareRow(
        id="shr_1",
        request_id="req_1",
        camera_id="front_door",
        status="live",
        token=token,
        duration_s=600,
        cut=False,
        starts_at=NOW,
        ends_at=NOW,
    )


@dataclass
class Shares:
    """The two questions DoorGate asks of the shares."""

    live: dict[str, ShareRow] = field(default_factory=dict)
    cameras: dict[str, Camera] = field(default_factory=dict)

    def live_share(self, token: str) -> ShareRow | None:
        return self.live.get(token)

    def camera(self, camera_id: str) -> Camera | None:
        return self.cameras.get(camera_id)


async def nothing(_kind: str, _detail: dict[str, Any]) -> None:
    """Viewer records go nowhere here."""


def gate(shares: Shares, restreamer: DirectRestreamer, viewers: ViewerRegistry) -> DoorGate:
    return DoorGate(shares=lambda: shares, restreamer=lambda: restreamer, viewers=viewers)  # type: ignore[arg-type, return-value]


async def test_a_live_share_admits_both_doors() -> None:
    shares = Shares({"t1": live("t1")}, {"front_door": camera(share_audio=True)})
    direct = DirectRestreamer()
    await direct.add(StreamSpec(token="t1", source=SOURCE))
    doors = gate(shares, direct, ViewerRegistry(nothing))
    expected = ShareAdmission("t1", "shr_1", "req_1", "front_door", share_audio=True)
    assert await doors.admit_http("t1") == expected
    rtsp = await doors.admit_rtsp("t1")
    assert rtsp is not None
    assert (
        ShareAdmission("t1", rtsp.share_id, rtsp.request_id, rtsp.camera_id, rtsp.share_audio)
        == expected
    )
    assert rtsp.upstream == upstream_from_url(SOURCE)
    assert rtsp.source == upstream_from_url(SOURCE), "the camera, to ask why it failed"


async def test_an_unknown_or_ended_token_admits_nobody() -> None:
    doors = gate(
        Shares(cameras={"front_door": camera()}), DirectRestreamer(), ViewerRegistry(nothing)
    )
    assert await doors.admit_http("t1") is None
    assert await doors.admit_rtsp("t1") is None


async def test_a_cut_share_admits_nobody_even_before_it_is_ended() -> None:
    viewers = ViewerRegistry(nothing)
    direct = DirectRestreamer()
    await direct.add(StreamSpec(token="t1", source=SOURCE))
    doors = gate(Shares({"t1": live("t1")}, {"front_door": camera()}), direct, viewers)
    await viewers.cut("t1")
    assert await doors.admit_http("t1") is None
    assert await doors.admit_rtsp("t1") is None


async def test_a_camera_gone_from_the_registry_admits_nobody() -> None:
    direct = DirectRestreamer()
    await direct.add(StreamSpec(token="t1", source=SOURCE))
    doors = gate(Shares({"t1": live("t1")}), direct, ViewerRegistry(nothing))
    assert await doors.admit_http("t1") is None
    assert await doors.admit_rtsp("t1") is None


async def test_the_rtsp_door_needs_the_stream_at_the_restreamer() -> None:
    doors = gate(
        Shares({"t1": live("t1")}, {"front_door": camera()}),
        DirectRestreamer(),
        ViewerRegistry(nothing),
    )
    assert await doors.admit_http("t1") is not None
    assert await doors.admit_rtsp("t1") is None, "live, but the restreamer holds no stream"
