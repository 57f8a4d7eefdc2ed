"""The timer's work: what is due happens (ends, starts, approval timeouts, forgetting), and the
policy in force ends the active shares it no longer allows, each once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from rtcc_gateway.shares.book import KEEP_ENDED
from rtcc_gateway.shares.enforce import Enforcer
from rtcc_gateway.shares.status import ShareStatus
from rtcc_gateway.store import iso

from .share_rig import NOW, Rig, owner, share_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with share_rig(tmp_path) as made:
        yield made


def enforcer(rig: Rig) -> Enforcer:
    return Enforcer(rig.parts, life=rig.life)


async def stored_status(rig: Rig, request_id: str = "req_1") -> list[str]:
    found = await rig.store.get_request(request_id)
    assert found is not None
    return [s.status for s in found[1]]


async def test_a_share_whose_window_is_over_is_cut_and_ends_on_the_record(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "approve"))).shares
    await enforcer(rig).enforce(NOW + timedelta(seconds=599))
    assert share.status == ShareStatus.LIVE
    rig.clock.now = NOW + timedelta(seconds=600)
    await enforcer(rig).enforce(rig.clock.now)
    assert (share.status, share.reason) == (ShareStatus.ENDED, "window_ended")
    assert rig.cuts == [share.token]
    assert ("remove", share.token) in rig.restreamer.calls
    assert await stored_status(rig) == ["ended"]
    assert [d["reason"] for d in await rig.details("share_ended")] == ["window_ended"]
    assert rig.event_types() == ["share_ended"]


async def test_a_scheduled_share_goes_live_when_its_start_comes(rig: Rig) -> None:
    later = NOW + timedelta(minutes=5)
    (share,) = (await rig.request(("front_door", "approve"), start=later)).shares
    assert share.status == ShareStatus.SCHEDULED
    await enforcer(rig).enforce(later - timedelta(seconds=1))
    assert rig.restreamer.calls == []
    await enforcer(rig).enforce(later)
    assert share.status == ShareStatus.LIVE
    assert [c for c, _ in rig.restreamer.calls] == ["add"]
    assert await stored_status(rig) == ["live"]
    assert await rig.kinds() == ["share_started"]


async def test_at_restore_a_start_is_stored_but_not_streamed_and_an_end_cuts_no_one(
    rig: Rig,
) -> None:
    """The restore reconciles the restreamer afterwards; no door has viewers yet."""
    later = NOW + timedelta(minutes=5)
    (ending,) = (await rig.request(("front_door", "approve"))).shares
    starting = (
        await rig.request(("front_door", "approve"), start=later, request_id="req_2")
    ).shares[0]
    await enforcer(rig).enforce(NOW + timedelta(seconds=600), restored=True)
    assert (ending.status, starting.status) == (ShareStatus.ENDED, ShareStatus.LIVE)
    assert await stored_status(rig, "req_2") == ["live"]
    assert rig.cuts == []
    assert rig.restreamer.calls == []
    (ended,) = await rig.details("share_ended")
    assert ended["note"] == "ended while the gateway was not running"
    assert "share_started" not in await rig.kinds()


async def test_a_share_the_owner_did_not_answer_in_time_is_declined(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "ask"))).shares
    await enforcer(rig).enforce(NOW + timedelta(seconds=299))
    assert share.status == ShareStatus.PENDING
    await enforcer(rig).enforce(NOW + timedelta(seconds=300))
    assert (share.status, share.reason, share.token) == (
        ShareStatus.DECLINED,
        "approval_timeout",
        None,
    )
    assert await stored_status(rig) == ["declined"]
    assert [d["reason"] for d in await rig.details("request_decided")] == ["approval_timeout"]


async def test_a_pause_ends_every_active_share_once_with_its_reason(rig: Rig) -> None:
    state = await rig.request(
        ("front_door", "approve"), ("front_door", "approve"), request_id="req_1"
    )
    ended_now, other = state.shares
    rig.parts.policy.state = replace(
        rig.parts.policy.state, policy=replace(rig.parts.policy.state.policy, paused=True)
    )
    await enforcer(rig).enforce(NOW + timedelta(seconds=600))  # both windows end too
    assert {s.reason for s in (ended_now, other)} == {"window_ended"}  # the deadline comes first
    assert len(await rig.details("share_ended")) == 2
    assert len(rig.cuts) == 2


async def test_a_paused_owner_ends_live_and_scheduled_shares_before_their_deadline(
    rig: Rig,
) -> None:
    live = (await rig.request(("front_door", "approve"))).shares[0]
    later = NOW + timedelta(hours=1)
    scheduled = (
        await rig.request(("front_door", "approve"), start=later, request_id="req_2")
    ).shares[0]
    paused = replace(rig.parts.policy.state.policy, paused=True)
    rig.parts.policy.state = replace(rig.parts.policy.state, policy=paused)
    await enforcer(rig).enforce(NOW + timedelta(seconds=1))
    assert (live.reason, scheduled.reason) == ("paused", "paused")
    assert rig.cuts == [live.token]  # a scheduled share has no viewers to cut
    assert not rig.parts.book.active


async def test_a_lapsed_owner_lease_is_announced_once_and_ends_the_shares(rig: Rig) -> None:
    rig.parts.policy.state = owner(owner_lease_s=300)
    (share,) = (await rig.request(("front_door", "approve"))).shares
    lapsed = NOW + timedelta(seconds=301)
    await enforcer(rig).enforce(lapsed)
    await enforcer(rig).enforce(lapsed + timedelta(seconds=1))
    assert share.reason == "stale_policy"
    since = iso(NOW + timedelta(seconds=300))
    assert await rig.details("policy_stale") == [{"since": since}]
    assert rig.event_types().count("policy_stale") == 1
    assert rig.parts.policy.stale_announced


async def test_an_ended_request_leaves_memory_an_hour_later_with_its_figures(rig: Rig) -> None:
    (share,) = (await rig.request(("front_door", "approve"))).shares
    assert share.token is not None
    asked: list[str] = []

    def figures(token: str) -> tuple[int, float]:
        asked.append(token)
        return (3, 42.0)

    work = enforcer(rig)
    work.forget_token = figures
    ended = NOW + timedelta(seconds=600)
    rig.clock.now = ended
    await work.enforce(ended)
    await work.enforce(ended + KEEP_ENDED - timedelta(seconds=1))
    assert "req_1" in rig.parts.book.requests
    rig.clock.now = ended + KEEP_ENDED
    await work.enforce(rig.clock.now)
    assert "req_1" not in rig.parts.book.requests
    assert asked == [share.token]
    figures_of_jpd = work.archive["jpd"]
    assert (figures_of_jpd.requests, figures_of_jpd.approved, figures_of_jpd.viewers) == (1, 1, 3)
    assert figures_of_jpd.seconds_viewed == 42.0
    found = await rig.store.get_request("req_1")
    assert found is not None
    assert found[0].ended_at == ended


async def test_a_request_that_cannot_be_marked_ended_stays_and_is_tried_again(rig: Rig) -> None:
    await rig.request(("front_door", "ask"))
    work = enforcer(rig)
    await work.enforce(NOW + timedelta(seconds=300))  # declined: final
    rig.store.full = True
    rig.clock.now = NOW + timedelta(seconds=300) + KEEP_ENDED
    await work.enforce(rig.clock.now)
    assert "req_1" in rig.parts.book.requests
    assert work.archive == {}
    rig.store.full = False
    await work.enforce(rig.clock.now + KEEP_ENDED - timedelta(seconds=1))
    assert "req_1" in rig.parts.book.requests  # the retry waits its own hour
    await work.enforce(rig.clock.now + KEEP_ENDED)
    assert "req_1" not in rig.parts.book.requests
    assert work.archive["jpd"].declined == 1
