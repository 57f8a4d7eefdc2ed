"""Each viewer on the record: a connect is audited, streamed to the owner and kept as open, its
disconnect closes it; after a crash every viewer still open gets its end first; a record that
cannot be written goes to the storage-failure handling and the owner still hears of it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.audit import AuditLog, AuditRecord
from rtcc_gateway.events import EventBus
from rtcc_gateway.store import Store
from rtcc_gateway.viewer_records import ViewerRecords

CONNECTED = datetime(2026, 11, 25, 14, 0, 5, tzinfo=UTC)
VIEWER = {"viewer_id": "vwr_1", "share_id": "shr_1", "camera_id": "front_door", "kind": "rtsp"}


class FullAudit(AuditLog):
    """The real log, whose appends fail while `full` (the disk-full fault on demand)."""

    full = False

    async def append(
        self, kind: str, detail: Mapping[str, Any], ts: datetime | None = None, **kw: Any
    ) -> AuditRecord:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        return await super().append(kind, detail, ts, **kw)


@dataclass
class Records:
    store: Store
    audit: FullAudit
    events: EventBus
    failures: list[BaseException] = field(default_factory=list)

    def made(self) -> ViewerRecords:
        async def storage_error(err: BaseException) -> None:
            self.failures.append(err)

        return ViewerRecords(
            audit=lambda: self.audit,
            events=self.events,
            clock=lambda: CONNECTED,
            storage_error=storage_error,
        )

    async def kinds(self) -> list[str]:
        return [r.kind for r in await self.audit.records()]


@pytest.fixture
async def records(tmp_path: Path) -> AsyncIterator[Records]:
    store = await Store.open(tmp_path)
    audit = FullAudit(store.conn)
    await audit.setup()
    yield Records(store, audit, EventBus())
    await store.close()


async def test_a_connect_is_audited_streamed_and_kept_open_until_its_disconnect(
    records: Records,
) -> None:
    queue = records.events.subscribe()
    made = records.made()
    await made.record("viewer_connected", VIEWER)
    ((viewer_id, connected_at, detail),) = await records.store.open_viewers()
    assert (viewer_id, connected_at, detail) == ("vwr_1", CONNECTED, VIEWER)
    await made.record("viewer_disconnected", {**VIEWER, "end_reason": "viewer_left"})
    assert await records.store.open_viewers() == []
    assert await records.kinds() == ["viewer_connected", "viewer_disconnected"]
    connected, disconnected = queue.get_nowait(), queue.get_nowait()
    assert connected is not None
    assert disconnected is not None
    assert (connected["type"], connected["share_id"]) == ("viewer_connected", "shr_1")
    assert disconnected["end_reason"] == "viewer_left"


async def test_after_a_crash_every_open_viewer_is_ended_first(records: Records) -> None:
    await records.made().record("viewer_connected", VIEWER)
    await records.made().record("viewer_connected", {**VIEWER, "viewer_id": "vwr_2"})
    restarted = records.made()  # a new run: only the database remembers them
    assert await restarted.close_open(records.store) == 2
    assert await records.store.open_viewers() == []
    ended = [r.detail for r in await records.audit.records() if r.kind == "viewer_disconnected"]
    assert [e["viewer_id"] for e in ended] == ["vwr_1", "vwr_2"]
    first = ended[0]
    assert (first["end_reason"], first["duration_s"], first["bytes"]) == (
        "gateway_restart",
        None,
        None,
    )
    assert first["connected_at"] == CONNECTED.isoformat()
    assert first["share_id"] == "shr_1"
    assert await restarted.close_open(records.store) == 0


async def test_a_record_that_cannot_be_written_is_a_storage_error_and_still_streamed(
    records: Records,
) -> None:
    queue = records.events.subscribe()
    records.audit.full = True
    await records.made().record("viewer_connected", VIEWER)
    (failure,) = records.failures
    assert isinstance(failure, sqlite3.OperationalError)
    assert await records.store.open_viewers() == []  # kept only with its record
    event = queue.get_nowait()
    assert event is not None
    assert event["type"] == "viewer_connected"
    records.audit.full = False
    assert await records.kinds() == []
