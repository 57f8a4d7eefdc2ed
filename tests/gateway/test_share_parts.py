"""What the share machinery shares is handed over as one, fixed: every part works on the same
memory and policy in force, and no part can swap them for its own."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from rtcc_gateway.shares.book import ShareBook
from rtcc_gateway.shares.enforce import Enforcer
from rtcc_gateway.shares.parts import ShareParts

from .share_rig import NOW, Rig, owner, share_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with share_rig(tmp_path) as made:
        yield made


def test_the_parts_are_what_every_share_module_reads_and_writes() -> None:
    names = [f.name for f in dataclasses.fields(ShareParts)]
    assert names == ["book", "policy", "store", "audit", "events", "restreamer", "guard", "clock"]


async def test_no_part_can_be_swapped_once_handed_over(rig: Rig) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rig.parts.book = ShareBook()  # type: ignore[misc]
    assert not hasattr(rig.parts, "__dict__")  # slots: nothing can be added either


async def test_a_policy_pushed_through_one_holder_is_in_force_for_every_other(rig: Rig) -> None:
    """The lifecycle and the enforcer hold the same parts: what one changes, the other sees."""
    (share,) = (await rig.request(("front_door", "approve"))).shares
    rig.parts.policy.state = owner(pushed_at=NOW, owner_lease_s=60)
    await Enforcer(rig.parts, life=rig.life).enforce(NOW + timedelta(seconds=61))
    assert share.reason == "stale_policy"
    assert rig.parts.book.active == {}
    assert rig.cuts == [share.token]  # the lifecycle's listener, on the same book's share
