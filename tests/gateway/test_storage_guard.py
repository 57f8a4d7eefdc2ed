"""The storage guard: a reserve of real blocks that pays for recording the end of shares, and the
failure mode that stops new shares until the records are written (told once, then logged once a
minute)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.storage_guard import LOG_EVERY_S, RESERVE_FILE, StorageGuard

SIZE = 64 * 1024


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, **fields: Any) -> None:
        self.seen.append((kind, fields))


class Steady:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(
    tmp_path: Path, events: Events | None = None, clock: Steady | None = None
) -> StorageGuard:
    return StorageGuard(tmp_path, events or Events(), clock=clock or Steady(), reserve_bytes=SIZE)


async def test_the_reserve_is_made_of_real_blocks_and_lets_shares_start(tmp_path: Path) -> None:
    g = guard(tmp_path)
    assert not g.can_start_shares(), "no reserve yet"
    assert await g.ensure_reserve()
    reserve = tmp_path / RESERVE_FILE
    assert reserve.stat().st_size == SIZE
    assert reserve.stat().st_blocks * 512 >= SIZE, "not a sparse file"
    assert g.reserved
    assert g.can_start_shares()


async def test_releasing_the_reserve_gives_its_space_back_and_stops_new_shares(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    g = guard(tmp_path)
    await g.ensure_reserve()
    assert await g.release_reserve()
    assert not (tmp_path / RESERVE_FILE).exists()
    assert not g.can_start_shares()
    assert "used its space reserve" in caplog.text
    assert not await g.release_reserve(), "nothing left to give"


async def test_failing_is_told_once_and_recovering_once(tmp_path: Path) -> None:
    events = Events()
    g = guard(tmp_path, events)
    await g.ensure_reserve()
    g.enter_failed(sqlite3.OperationalError("disk I/O error"))
    g.enter_failed(sqlite3.OperationalError("disk I/O error"))
    assert not g.can_start_shares()
    g.leave_failed(3)
    g.leave_failed(3)
    assert events.seen == [
        ("storage_failed", {"reason": "disk I/O error"}),
        ("storage_recovered", {"records_written": 3}),
    ]
    assert g.can_start_shares()


def test_storage_errors_are_logged_once_a_minute_with_the_count_held_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Steady()
    g = guard(tmp_path, clock=clock)
    with caplog.at_level(logging.ERROR, logger="rtcc_gateway.storage_guard"):
        for _ in range(5):
            g.note("cannot use the database", OSError(28, "No space left on device"))
        clock.now += LOG_EVERY_S
        g.note("cannot use the database", OSError(28, "No space left on device"))
    assert len(caplog.messages) == 2
    assert caplog.messages[0].endswith("No space left on device")
    assert caplog.messages[1].endswith("No space left on device (4 more since the last such line)")
