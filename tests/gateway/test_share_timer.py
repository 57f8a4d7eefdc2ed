"""When the share timer looks again: the next deadline, and while shares are live the next privacy
window and the end of the owner's lease, never later than 30 s, and every 5 s while the records
cannot be written."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from rtcc_gateway.config import Policy, PrivacyWindow
from rtcc_gateway.deadlines import DeadlineHeap
from rtcc_gateway.policy import OwnerState
from rtcc_gateway.shares.timer import MAX_SLEEP_S, RETRY_S, next_wake
from rtcc_gateway.storage_guard import StorageGuard

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # a Monday, 07:00 in Chicago


@pytest.fixture
async def guard(tmp_path: Path) -> StorageGuard:
    ready = StorageGuard(tmp_path, lambda *_a, **_k: None, clock=lambda: 0.0, reserve_bytes=4096)
    assert await ready.ensure_reserve()
    return ready


def owner(policy: Policy | None = None, pushed_at: datetime | None = None) -> OwnerState:
    return OwnerState(
        policy=policy or Policy(timezone="America/Chicago"), cameras=(), pushed_at=pushed_at
    )


def wake(guard: StorageGuard, deadlines: DeadlineHeap[str] | None = None, **kw: object) -> datetime:
    return next_wake(
        NOW,
        guard=guard,
        deadlines=deadlines or DeadlineHeap(),
        any_active=bool(kw.get("any_active", False)),
        owner=kw.get("owner", owner()),  # type: ignore[arg-type]
    )


def test_with_nothing_due_the_timer_looks_again_in_thirty_seconds(guard: StorageGuard) -> None:
    assert wake(guard) == NOW + timedelta(seconds=MAX_SLEEP_S)


def test_the_next_deadline_wakes_it(guard: StorageGuard) -> None:
    deadlines: DeadlineHeap[str] = DeadlineHeap()
    deadlines.set("end", NOW + timedelta(seconds=7))
    deadlines.set("later", NOW + timedelta(seconds=20))
    assert wake(guard, deadlines) == NOW + timedelta(seconds=7)


def test_while_shares_are_live_a_privacy_window_start_wakes_it(guard: StorageGuard) -> None:
    window = PrivacyWindow(days=("mon",), start=time(7, 0, 10), end=time(8, 0))
    policy = Policy(timezone="America/Chicago", privacy_windows=(window,))
    assert wake(guard, owner=owner(policy)) == NOW + timedelta(seconds=MAX_SLEEP_S)
    assert wake(guard, any_active=True, owner=owner(policy)) == NOW + timedelta(seconds=10)


def test_while_shares_are_live_the_end_of_the_owner_lease_wakes_it(guard: StorageGuard) -> None:
    policy = Policy(timezone="America/Chicago", owner_lease_s=60)
    pushed = NOW - timedelta(seconds=55)
    assert wake(guard, any_active=True, owner=owner(policy, pushed)) == NOW + timedelta(seconds=5)


def test_without_the_reserve_or_in_failure_mode_it_retries_every_five_seconds(
    guard: StorageGuard,
) -> None:
    deadlines: DeadlineHeap[str] = DeadlineHeap()
    deadlines.set("end", NOW + timedelta(seconds=1))
    guard.enter_failed(OSError(28, "No space left on device"))
    assert wake(guard, deadlines) == NOW + timedelta(seconds=RETRY_S)
