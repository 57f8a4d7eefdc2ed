"""Who is watching now: both doors register each viewer here; a cut closes them all and refuses
new ones, and every connect and disconnect is recorded in that order."""

from __future__ import annotations

import asyncio
from typing import Any

from rtcc_gateway.door.share_admission import ShareAdmission
from rtcc_gateway.door.viewers import Viewer, ViewerRegistry

TOKEN = "tok_1"


class Records:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, kind: str, detail: dict[str, Any]) -> None:
        self.seen.append((kind, detail))


class Connection:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def connect(registry: ViewerRegistry, conn: Connection, token: str = TOKEN) -> Viewer | None:
    share = ShareAdmission(token, "shr_1", "req_1", "front_door", share_audio=False)
    return registry.connect(share, remote="127.0.0.2", kind="rtsp", close=conn.close)


async def test_a_viewer_is_counted_while_connected_and_recorded_both_ways() -> None:
    records = Records()
    registry = ViewerRegistry(records)
    viewer = connect(registry, Connection())
    assert viewer is not None
    assert registry.counts() == {TOKEN: 1}
    viewer.bytes_out = 1234
    await registry.disconnect(viewer)
    await registry.drain()
    assert registry.counts() == {}
    assert [kind for kind, _ in records.seen] == ["viewer_connected", "viewer_disconnected"]
    connected, disconnected = (detail for _, detail in records.seen)
    assert connected == {
        "viewer_id": viewer.id,
        "share_id": "shr_1",
        "request_id": "req_1",
        "camera_id": "front_door",
        "remote": "127.0.0.2",
        "via": "rtsp",
        "viewers": 1,
    }
    assert disconnected["bytes"] == 1234
    assert disconnected["duration_s"] >= 0
    assert TOKEN not in str(records.seen), "records name the share, never its token"


async def test_a_second_disconnect_records_nothing() -> None:
    records = Records()
    registry = ViewerRegistry(records)
    viewer = connect(registry, Connection())
    assert viewer is not None
    await registry.disconnect(viewer)
    await registry.disconnect(viewer)
    await registry.drain()
    assert len(records.seen) == 2


async def test_the_end_reason_is_recorded_when_the_door_knows_it() -> None:
    records = Records()
    registry = ViewerRegistry(records)
    viewer = connect(registry, Connection())
    assert viewer is not None
    await registry.disconnect(viewer, end_reason="camera_lost")
    await registry.drain()
    assert records.seen[-1][1]["end_reason"] == "camera_lost"


async def test_a_cut_closes_every_connection_of_the_share_and_refuses_new_ones() -> None:
    registry = ViewerRegistry(Records())
    mine, also_mine, other = Connection(), Connection(), Connection()
    connect(registry, mine)
    connect(registry, also_mine)
    connect(registry, other, token="tok_2")
    await registry.cut(TOKEN)
    assert (mine.closed, also_mine.closed, other.closed) == (True, True, False)
    assert registry.is_cut(TOKEN)
    assert connect(registry, Connection()) is None
    await registry.drain()


async def test_totals_count_viewers_ever_and_are_kept_until_the_share_is_forgotten() -> None:
    registry = ViewerRegistry(Records())
    for _ in range(3):
        viewer = connect(registry, Connection())
        assert viewer is not None
        await registry.disconnect(viewer)
    assert registry.ever() == {TOKEN: 3}
    assert registry.seconds()[TOKEN] >= 0
    await registry.cut(TOKEN)
    viewers, seconds = registry.forget(TOKEN)
    assert viewers == 3
    assert seconds >= 0
    assert registry.ever() == {}
    assert not registry.is_cut(TOKEN), "a forgotten token is not remembered at all"
    await registry.drain()


async def test_a_share_with_a_viewer_still_registered_is_not_forgotten() -> None:
    registry = ViewerRegistry(Records())
    viewer = connect(registry, Connection())
    assert viewer is not None
    assert registry.forget(TOKEN) == (1, 0.0)
    assert registry.ever() == {TOKEN: 1}
    await registry.disconnect(viewer)
    await registry.drain()


async def test_drain_returns_when_a_record_just_finished_and_its_bookkeeping_has_not_run() -> None:
    # The stop that never ended: the sink wakes whoever waits on it before the record's task has
    # finished, so drain() runs while that finished task is still listed. Awaiting finished tasks
    # does not yield to the loop, so a drain that waited on them spun forever (and a gateway's
    # stop with it).
    recorded = asyncio.Event()

    class Announcing(Records):
        async def __call__(self, kind: str, detail: dict[str, Any]) -> None:
            await super().__call__(kind, detail)
            recorded.set()

    records = Announcing()
    registry = ViewerRegistry(records)
    assert connect(registry, Connection()) is not None
    await recorded.wait()
    await registry.drain()
    assert [kind for kind, _ in records.seen] == ["viewer_connected"]
