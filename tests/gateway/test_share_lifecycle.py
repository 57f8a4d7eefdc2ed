"""Transitions with their consequences: a share goes live with its stream and record, a pending one
is declined on the record, and ends are cut first, recorded after; an end that cannot be written
is kept, and the failure mode cuts everything until it is."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from rtcc_gateway.policy import Reason
from rtcc_gateway.shares.lifecycle import refuse_unless_recordable, write_or_503
from rtcc_gateway.shares.status import STORAGE_FAILED, ShareStatus
from rtcc_gateway.storage_guard import StorageUnavailableError

from .share_rig import Rig, camera, owner, share_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with share_rig(tmp_path, owner(replace(camera(), share_audio=True))) as made:
        yield made


async def test_a_write_that_fails_is_rolled_back_and_becomes_a_503(rig: Rig) -> None:
    async def written() -> int:
        return 7

    async def full() -> None:
        raise sqlite3.OperationalError("database or disk is full")

    assert await write_or_503(written(), rig.store, rig.parts.guard) == 7
    with pytest.raises(StorageUnavailableError):
        await write_or_503(full(), rig.store, rig.parts.guard)


async def test_no_share_starts_without_the_reserve_or_in_the_failure_mode(rig: Rig) -> None:
    guard = rig.parts.guard
    refuse_unless_recordable(guard)  # the reserve is in place
    guard.path.unlink()
    with pytest.raises(StorageUnavailableError):
        refuse_unless_recordable(guard)
    assert await guard.ensure_reserve()
    guard.enter_failed(OSError(28, "No space left on device"))
    with pytest.raises(StorageUnavailableError):
        refuse_unless_recordable(guard)


async def test_a_share_goes_live_with_its_camera_stream_its_record_and_its_event(
    rig: Rig,
) -> None:
    (share,) = (await rig.request(("front_door", "approve"))).shares
    spec = rig.life.spec(share)
    assert (spec.token, spec.source, spec.share_audio) == (share.token, camera().source, True)
    await rig.life.activate(share)
    assert rig.restreamer.streams == {share.token: spec}
    (started,) = await rig.details("share_started")
    assert (started["share_id"], started["camera_id"]) == (share.id, "front_door")
    assert rig.event_types() == ["share_started"]


async def test_a_declined_share_is_stored_and_recorded_with_its_reason(rig: Rig) -> None:
    state = await rig.request(("front_door", "ask"))
    (share,) = state.shares
    await rig.life.decline(share, Reason.OWNER_DENIED)
    found = await rig.store.get_request("req_1")
    assert found is not None
    assert [(s.status, s.reason) for s in found[1]] == [("declined", "owner_denied")]
    (decided,) = await rig.details("request_decided")
    assert (decided["outcome"], decided["reason"]) == ("decline", "owner_denied")
    assert "req_1" in rig.parts.book.ended_at  # nothing left open: it will be forgotten


async def test_every_live_share_is_cut_before_any_stream_goes_or_any_end_is_recorded(
    rig: Rig,
) -> None:
    state = await rig.request(("front_door", "approve"), ("front_door", "approve"))
    seen_at_cut: list[tuple[int, int]] = []

    async def look(_token: str) -> None:
        removes = sum(call == "remove" for call, _ in rig.restreamer.calls)
        seen_at_cut.append((removes, len(await rig.details("share_ended"))))

    rig.life.on_cut(look)
    await rig.life.end_all([(s, Reason.REVOKED) for s in state.shares])
    assert rig.cuts == [s.token for s in state.shares]
    assert seen_at_cut == [(0, 0), (0, 0)]
    assert [call for call, _ in rig.restreamer.calls] == ["remove", "remove"]
    assert [d["reason"] for d in await rig.details("share_ended")] == ["revoked", "revoked"]
    assert all(s.status == ShareStatus.ENDED for s in state.shares)
    assert not rig.parts.book.active


async def test_a_door_that_fails_to_cut_does_not_stop_the_others(rig: Rig) -> None:
    async def broken(_token: str) -> None:
        raise RuntimeError("door is gone")

    rig.life.on_cut(broken)
    later: list[str] = []

    async def after(token: str) -> None:
        later.append(token)

    rig.life.on_cut(after)
    (share,) = (await rig.request(("front_door", "approve"))).shares
    await rig.life.end_all([(share, Reason.REVOKED)])
    assert later == [share.token]
    assert share.status == ShareStatus.ENDED


async def test_a_scheduled_share_ends_without_a_cut_and_nothing_ends_nothing(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "approve"))).shares
    await rig.life.end_all([])
    assert await rig.kinds() == []
    share.status = ShareStatus.SCHEDULED
    await rig.life.end_all([(share, Reason.CITY_CANCELLED)])
    assert rig.cuts == []
    assert rig.restreamer.calls == []
    assert [d["reason"] for d in await rig.details("share_ended")] == ["city_cancelled"]


async def test_an_end_that_cannot_be_written_cuts_everything_and_is_written_later(
    rig: Rig,
) -> None:
    (ended,) = (await rig.request(("front_door", "approve"))).shares
    (other,) = (await rig.request(("front_door", "approve"), request_id="req_2")).shares
    rig.store.full = True
    await rig.life.end_all([(ended, Reason.REVOKED)])
    guard = rig.parts.guard
    assert guard.failed
    assert not guard.path.exists()  # the reserve was given back to try once more
    assert (other.status, other.reason) == (ShareStatus.ENDED, STORAGE_FAILED)
    assert rig.cuts == [ended.token, other.token]
    assert rig.wakes == 1  # the timer retries
    assert rig.life.unrecorded == 2
    assert "storage_failed" in rig.event_types()
    assert await rig.details("share_ended") == []
    rig.store.full = False
    assert await rig.life.flush()
    assert rig.life.unrecorded == 0
    assert not rig.parts.guard.failed  # left the failure mode
    assert rig.event_types()[-1] == "storage_recovered"
    found = await rig.store.get_request("req_2")
    assert found is not None
    assert found[1][0].reason == STORAGE_FAILED
    assert [d["reason"] for d in await rig.details("share_ended")] == ["revoked", STORAGE_FAILED]
