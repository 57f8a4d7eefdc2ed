"""The owner's policy in force: saved with every push (camera sources included), restored at
start, dropped when it no longer validates, and its lease."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.config import parse_config
from rtcc_gateway.policy import OwnerState
from rtcc_gateway.shares.owner_policy import POLICY_META_KEY, lease_end, load_owner, save_owner
from rtcc_gateway.store import Store

PUSHED = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path)
    yield opened
    await opened.close()


def owner(config_dict: dict[str, Any], pushed_at: datetime | None = PUSHED) -> OwnerState:
    config = parse_config(config_dict)
    return OwnerState(policy=config.policy, cameras=config.cameras, pushed_at=pushed_at)


async def test_nothing_saved_is_none(store: Store) -> None:
    assert await load_owner(store) is None


async def test_a_saved_push_comes_back_whole(store: Store, config_dict: dict[str, Any]) -> None:
    config_dict["cameras"][0]["consent"] = True
    config_dict["policy"]["paused"] = True
    saved = owner(config_dict)
    await save_owner(store, saved)
    assert await load_owner(store) == saved
    raw = json.loads(await store.get_meta(POLICY_META_KEY) or "")
    assert raw["cameras"][0]["source"] == config_dict["cameras"][0]["source"], (
        "the camera source is kept: the next start streams from it"
    )


async def test_a_saved_policy_that_no_longer_validates_is_dropped(
    store: Store, config_dict: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    await save_owner(store, owner(config_dict))
    raw = json.loads(await store.get_meta(POLICY_META_KEY) or "")
    raw["policy"]["timezone"] = "Mars/Olympus_Mons"
    await store.set_meta(POLICY_META_KEY, json.dumps(raw))
    assert await load_owner(store) is None
    (line,) = [r.getMessage() for r in caplog.records if r.name.startswith("rtcc_gateway")]
    assert line == "ignoring the saved owner policy: MultipleInvalid"


async def test_an_unreadable_saved_policy_is_dropped(store: Store) -> None:
    await store.set_meta(POLICY_META_KEY, "{not json")
    assert await load_owner(store) is None


def test_the_lease_runs_from_the_last_push(config_dict: dict[str, Any]) -> None:
    config_dict["policy"]["owner_lease_s"] = 900
    assert lease_end(owner(config_dict)) == PUSHED + timedelta(seconds=900)
    assert lease_end(owner(config_dict, pushed_at=None)) is None, "no push yet: the file holds"
    config_dict["policy"]["owner_lease_s"] = 0
    assert lease_end(owner(config_dict)) is None, "0: a push never goes stale"
