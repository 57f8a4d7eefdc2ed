"""The owner's actions: a push replaces the policy, cuts what it no longer allows and is saved; a
pause ends live shares; approvals still go through the policy; deny and revoke end what they name.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from rtcc_gateway.config import Camera, Policy
from rtcc_gateway.shares.book import NotFoundError, NothingPendingError, RequestState
from rtcc_gateway.shares.enforce import Enforcer
from rtcc_gateway.shares.owner_policy import load_owner
from rtcc_gateway.shares.owner_side import OwnerSide
from rtcc_gateway.shares.status import ShareStatus
from rtcc_gateway.storage_guard import StorageUnavailableError

from .share_rig import NOW, Rig, camera, owner, share_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with share_rig(tmp_path, owner(camera(), camera("porch"))) as made:
        yield made


class Owner:
    """OwnerSide over the rig, and the cameras it was told to register."""

    def __init__(self, rig: Rig) -> None:
        self.registered: list[tuple[Camera, ...]] = []
        self._rig = rig
        self.side = OwnerSide(
            parts=rig.parts,
            lock=asyncio.Lock(),
            life=rig.life,
            enforce=Enforcer(rig.parts, life=rig.life).enforce,
            find_request=self.stored,
            use_cameras=self.registered.append,
            wake=rig.wake,
        )

    async def stored(self, request_id: str) -> RequestState | None:
        """A request no longer in memory, read back from the database."""
        found = await self._rig.store.get_request(request_id)
        if found is None:
            return None
        return RequestState(row=found[0], agency_name="JPD", shares=found[1])


async def test_a_push_ends_what_it_no_longer_allows_and_is_saved_and_recorded(rig: Rig) -> None:
    state = await rig.request(("front_door", "approve"), ("porch", "approve"))
    front, porch = state.shares
    me = Owner(rig)
    rig.parts.policy.stale_announced = True
    cameras = (replace(camera(), source="rtsp://127.0.0.1/renewed"), camera("porch", consent=False))
    rig.clock.now = NOW + timedelta(seconds=5)
    await me.side.set_policy(Policy(timezone="UTC"), cameras)
    assert (front.status, porch.status, porch.reason) == ("live", "ended", "consent_off")
    assert me.registered == [cameras]
    assert rig.parts.policy.state.pushed_at == rig.clock.now  # the lease starts again
    assert not rig.parts.policy.stale_announced
    assert await load_owner(rig.store) == rig.parts.policy.state
    (updated,) = await rig.details("policy_updated")
    assert updated["cameras_with_consent"] == ["front_door"]
    assert rig.restreamer.streams[front.token or ""].source == "rtsp://127.0.0.1/renewed"
    assert rig.wakes == 1


async def test_a_pause_ends_live_shares_and_a_resume_starts_none(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "approve"))).shares
    me = Owner(rig)
    until = NOW + timedelta(hours=2)
    await me.side.set_paused(paused=True, until=until)
    assert (share.status, share.reason) == (ShareStatus.ENDED, "paused")
    assert rig.cuts == [share.token]
    assert rig.parts.policy.state.policy.paused_until == until
    await me.side.set_paused(paused=False, until=None)
    assert not rig.parts.policy.state.policy.paused
    saved = await load_owner(rig.store)
    assert saved is not None
    assert not saved.policy.paused
    assert [k for k in await rig.kinds() if k in ("paused", "resumed")] == ["paused", "resumed"]
    assert (await rig.details("paused"))[0]["until"] == "2026-11-25T16:00:00Z"


async def test_an_approval_opens_a_window_and_goes_live_on_the_record(rig: Rig) -> None:
    state = await rig.request(("front_door", "ask"), ("porch", "ask"))
    front, porch = state.shares
    rig.clock.now = NOW + timedelta(seconds=30)
    await Owner(rig).side.approve("req_1", ["front_door"])
    assert (front.status, porch.status) == (ShareStatus.LIVE, ShareStatus.PENDING)
    assert front.starts_at == rig.clock.now
    assert rig.parts.book.live_share(front.token or "", rig.clock.now) is front
    assert await rig.kinds() == ["owner_approved", "share_started"]
    assert rig.event_types() == ["request_decided", "share_started"]
    found = await rig.store.get_request("req_1")
    assert found is not None
    assert [s.status for s in found[1]] == ["live", "pending"]


async def test_an_approval_asked_for_later_is_scheduled_not_started(rig: Rig) -> None:
    await rig.request(("front_door", "ask"), start=NOW + timedelta(hours=1))
    (share,) = (await Owner(rig).side.approve("req_1", None)).shares
    assert share.status == ShareStatus.SCHEDULED
    assert rig.restreamer.calls == []
    assert "share_started" not in await rig.kinds()


async def test_an_approval_the_policy_now_forbids_is_a_decline(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "ask"))).shares
    paused = replace(rig.parts.policy.state.policy, paused=True)
    rig.parts.policy.state = replace(rig.parts.policy.state, policy=paused)
    await Owner(rig).side.approve("req_1", None)
    assert (share.status, share.reason, share.token) == (ShareStatus.DECLINED, "paused", None)
    assert rig.restreamer.calls == []


async def test_nothing_pending_or_no_such_request_is_said_so(rig: Rig) -> None:
    await rig.request(("front_door", "ask"))
    me = Owner(rig)
    with pytest.raises(NothingPendingError):
        await me.side.approve("req_1", ["porch"])
    with pytest.raises(NotFoundError):
        await me.side.deny("req_nope", None)
    await me.side.deny("req_1", None)
    with pytest.raises(NothingPendingError):
        await me.side.approve("req_1", None)


async def test_no_approval_while_ends_cannot_be_recorded(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "ask"))).shares
    rig.parts.guard.enter_failed(OSError(28, "No space left on device"))
    with pytest.raises(StorageUnavailableError):
        await Owner(rig).side.approve("req_1", None)
    assert (share.status, share.token) == (ShareStatus.PENDING, None)


async def test_a_deny_declines_the_named_cameras_and_says_so(rig: Rig) -> None:
    state = await rig.request(("front_door", "ask"), ("porch", "ask"))
    await Owner(rig).side.deny("req_1", ["porch"])
    assert [(s.status, s.reason) for s in state.shares] == [
        ("pending", None),
        ("declined", "owner_denied"),
    ]
    assert rig.event_types() == ["request_decided"]
    (decided,) = await rig.details("request_decided")
    assert decided["camera_id"] == "porch"


async def test_a_revoke_ends_one_share_one_camera_or_all(rig: Rig) -> None:
    a, b = (await rig.request(("front_door", "approve"), ("front_door", "approve"))).shares
    (c,) = (await rig.request(("porch", "approve"), request_id="req_2")).shares
    me = Owner(rig)
    await me.side.revoke_share(a.id)
    assert (a.status, a.reason) == (ShareStatus.ENDED, "revoked")
    await me.side.revoke_share(a.id)  # once ended, again is nothing
    assert rig.cuts == [a.token]
    assert await me.side.revoke("porch") == 1
    assert (b.status, c.status) == (ShareStatus.LIVE, ShareStatus.ENDED)
    assert await me.side.revoke(None) == 1
    assert await me.side.revoke(None) == 0
    assert len(await rig.details("share_ended")) == 3


async def test_revoking_an_unknown_share_is_not_found_and_a_forgotten_one_is_nothing(
    rig: Rig,
) -> None:
    (share,) = (await rig.request(("front_door", "approve"))).shares
    me = Owner(rig)
    with pytest.raises(NotFoundError):
        await me.side.revoke_share("shr_nope")
    rig.parts.book.drop("req_1")  # out of memory, still in the database
    await me.side.revoke_share(share.id)
    assert rig.cuts == []
