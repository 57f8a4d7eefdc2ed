"""Reading an audit database from outside the running gateway (the CLI): opened read-only, a
missing or foreign file named, every record exported in order, a WAL database read beside a
running gateway."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import aiosqlite
import pytest
from rtcc_gateway.audit import AuditLog
from rtcc_gateway.audit_chain import (
    AuditDatabaseError,
    AuditRecord,
    NoDatabaseError,
    verify_records,
)
from rtcc_gateway.audit_export import DB_FILENAME, export_database, verify_database

from .conftest import fill


async def collect(source: AsyncGenerator[AuditRecord]) -> list[AuditRecord]:
    async with aclosing(source) as records:
        return [r async for r in records]


async def test_export_matches_records_and_round_trips(log: AuditLog, tmp_path: Path) -> None:
    records = await fill(log, 4)
    exported = await collect(export_database(tmp_path))
    assert exported == records
    lines = [json.dumps(r.to_json()) for r in exported]
    loaded = [AuditRecord.from_json(json.loads(line)) for line in lines]
    assert set(json.loads(lines[0])) == {"seq", "ts", "kind", "detail", "prev_hash", "hash"}
    assert verify_records(loaded).ok


async def test_export_stopped_early_closes_its_connection(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 3)
    async with aclosing(export_database(tmp_path)) as records:
        async for record in records:
            assert record.seq == 1
            break


async def test_missing_database(tmp_path: Path) -> None:
    with pytest.raises(NoDatabaseError, match="no audit database"):
        await verify_database(tmp_path)
    with pytest.raises(NoDatabaseError, match="no data folder"):
        await verify_database(tmp_path / "nope")
    with pytest.raises(NoDatabaseError):
        await collect(export_database(tmp_path))


async def test_not_a_database_or_no_audit_table(tmp_path: Path) -> None:
    (tmp_path / DB_FILENAME).write_bytes(b"this is not sqlite at all, just some text" * 50)
    with pytest.raises(AuditDatabaseError, match="not a readable SQLite database"):
        await verify_database(tmp_path)
    (tmp_path / DB_FILENAME).unlink()
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    conn.execute("CREATE TABLE other (x)")
    conn.close()
    with pytest.raises(AuditDatabaseError, match="no audit table"):
        await verify_database(tmp_path)


async def test_readonly_open_does_not_write(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 2)
    db = tmp_path / DB_FILENAME
    before = db.read_bytes()
    assert (await verify_database(tmp_path)).ok
    assert db.read_bytes() == before


async def test_reads_a_wal_database_while_open_and_after_close(tmp_path: Path) -> None:
    # store.py runs the database in WAL mode; the CLI reads it next to a running gateway.
    async with aiosqlite.connect(tmp_path / DB_FILENAME) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        log = AuditLog(conn)
        await log.setup()
        records = await fill(log, 3)
        assert (await verify_database(tmp_path, head=(3, records[-1].hash))).ok
        await log.append("event", {"n": 4})
        assert (await verify_database(tmp_path)).count == 4
    result = await verify_database(tmp_path)
    assert result.ok
    assert result.count == 4
