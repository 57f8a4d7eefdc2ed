"""The share machinery's parts on a real database, audit log and event bus, without a gateway.

A `Rig` holds `ShareParts` (what enforce.py, lifecycle.py and owner_side.py work on), a clock the
test sets, and what the parts did: restreamer calls, cut tokens, wakes, events and records.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.config import Camera, Location, Policy
from rtcc_gateway.events import EventBus
from rtcc_gateway.policy import CameraDecision, OwnerState
from rtcc_gateway.shares.book import RequestState, ShareBook
from rtcc_gateway.shares.lifecycle import ShareLifecycle
from rtcc_gateway.shares.owner_policy import PolicyInForce
from rtcc_gateway.shares.parts import ShareParts
from rtcc_gateway.shares.status import new_share
from rtcc_gateway.storage_guard import StorageGuard
from rtcc_gateway.store import RequestRow, Statement, Store

from ..conftest import RecordingRestreamer

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # a Wednesday, 08:00 in Chicago
HOME = Location(32.2990, -90.1850)
INCIDENT = {"incident_id": "JPD-1", "offense": "burglary", "reason": "break-in next door"}


def camera(camera_id: str = "front_door", *, consent: bool = True) -> Camera:
    return Camera(
        id=camera_id,
        label=camera_id,
        source=f"rtsp://user:pass@127.0.0.1:554/{camera_id}",
        location=HOME,
        consent=consent,
        approval="auto",
    )


def owner(*cameras: Camera, **policy: Any) -> OwnerState:
    """The policy in force, pushed at NOW unless `pushed_at` says otherwise."""
    pushed_at = policy.pop("pushed_at", NOW)
    return OwnerState(
        policy=Policy(timezone="America/Chicago", **policy),
        cameras=cameras or (camera(),),
        pushed_at=pushed_at,
    )


class FailingStore(Store):
    """The real store, whose writes fail while `full` (the disk-full fault on demand)."""

    full = False

    async def _write(self, statements: Iterable[Statement]) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        await super()._write(statements)


class SetClock:
    """The share parts' clock: it says `now`, which the test sets."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    """ShareParts on a real store, with the lifecycle over them and what they did."""

    parts: ShareParts
    store: FailingStore
    restreamer: RecordingRestreamer
    clock: SetClock
    queue: asyncio.Queue[dict[str, Any] | None]
    life: ShareLifecycle = field(init=False)
    cuts: list[str] = field(default_factory=list)
    wakes: int = 0
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.life = ShareLifecycle(self.parts, camera=self.camera, wake=self.wake)
        self.life.on_cut(self.cut)

    def camera(self, camera_id: str) -> Camera | None:
        return next((c for c in self.parts.policy.state.cameras if c.id == camera_id), None)

    async def cut(self, token: str) -> None:
        self.cuts.append(token)

    def wake(self) -> None:
        self.wakes += 1

    def event_types(self) -> list[str]:
        """Every event type published so far, oldest first."""
        while not self.queue.empty():
            event = self.queue.get_nowait()
            assert event is not None
            self.seen.append(event["type"])
        return self.seen

    async def kinds(self) -> list[str]:
        """The audit log's record kinds, oldest first."""
        return [r.kind for r in await self.parts.audit.records()]

    async def details(self, kind: str) -> list[dict[str, Any]]:
        """The details of the records of one kind, oldest first."""
        return [r.detail for r in await self.parts.audit.records() if r.kind == kind]

    async def request(
        self, *outcomes: tuple[str, str], start: datetime | None = None, request_id: str = "req_1"
    ) -> RequestState:
        """A stored request in memory with one share per (camera id, outcome) decision."""
        now = self.clock.now
        start = start or now
        decisions = [
            CameraDecision(camera_id=c, outcome=o, reason=None, duration_s=600, cut=False)  # type: ignore[arg-type]
            for c, o in outcomes
        ]
        body = {**INCIDENT, "start": start.isoformat()}
        row = RequestRow(id=request_id, agency_id="jpd", created_at=now, body=body)
        shares = [new_share(request_id, d, start, now, 300) for d in decisions]
        await self.parts.store.add_request(row, shares)
        state = RequestState(row=row, agency_name="JPD", shares=shares)
        self.parts.book.add(state, now=now)
        return state


@contextlib.asynccontextmanager
async def share_rig(data_dir: Path, state: OwnerState | None = None) -> AsyncIterator[Rig]:
    """A rig whose store and audit log live in `data_dir`; the reserve is in place."""
    store = await FailingStore.open(data_dir)
    try:
        assert isinstance(store, FailingStore)  # open() builds the class it is called on
        audit = AuditLog(store.conn)
        await audit.setup()
        events = EventBus()
        guard = StorageGuard(data_dir, events.publish, clock=lambda: 0.0, reserve_bytes=4096)
        assert await guard.ensure_reserve()
        restreamer = RecordingRestreamer()
        policy = PolicyInForce(state or owner())
        clock = SetClock()
        parts = ShareParts(ShareBook(), policy, store, audit, events, restreamer, guard, clock)
        yield Rig(parts, store, restreamer, clock, events.subscribe())
    finally:
        await store.close()
