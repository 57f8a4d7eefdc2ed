"""The hash-chained audit log: append, chain, verify, tamper detection, sanitizing, restart."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import sqlite3
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import aiosqlite
import pytest
from rtcc_gateway.audit import (
    DB_FILENAME,
    GENESIS_HASH,
    AuditDatabaseError,
    AuditLog,
    AuditRecord,
    BadRecordError,
    canonical_json,
    export_database,
    format_head,
    format_ts,
    parse_head,
    sanitize,
    verify_database,
    verify_records,
)
from rtcc_gateway.redact import Secrets

from .conftest import T0, fill


def raw(tmp_path: Path, *statements: str) -> None:
    """Tamper with the file the way an attacker with file access would: triggers off, then edit."""
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


# --- the chain ----------------------------------------------------------------------------------


async def test_chain_builds_and_verifies(log: AuditLog) -> None:
    records = await fill(log, 5)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    assert await log.head() == (5, records[-1].hash)
    assert await log.records() == records
    result = verify_records(records)
    assert result.ok
    assert (result.count, result.head, result.first_bad) == (5, (5, records[-1].hash), None)
    assert (await log.verify()).ok


async def test_hash_is_sha256_of_canonical_json(log: AuditLog) -> None:
    record = await log.append("share_started", {"b": "é", "a": [1, 2.5, None, True]}, ts=T0)
    body = {
        "seq": 1,
        "ts": "2025-03-04T05:06:07.891Z",
        "kind": "share_started",
        "detail": {"a": [1, 2.5, None, True], "b": "é"},
        "prev_hash": GENESIS_HASH,
    }
    text = '{"detail":{"a":[1,2.5,null,true],"b":"é"},"kind":"share_started",'
    text += f'"prev_hash":"{GENESIS_HASH}","seq":1,"ts":"2025-03-04T05:06:07.891Z"}}'
    assert canonical_json(body) == text.encode("utf-8")
    assert record.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert record.ts == "2025-03-04T05:06:07.891Z"


def test_timestamps_are_utc_milliseconds_with_z() -> None:
    plus_two = datetime(2025, 1, 1, 2, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert format_ts(plus_two) == "2025-01-01T00:00:00.999Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_ts(datetime(2025, 1, 1))  # noqa: DTZ001


async def test_default_timestamp_is_now(log: AuditLog) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    record = await log.append("resumed", {})
    stamp = datetime.fromisoformat(record.ts)
    assert record.ts.endswith("Z")
    assert before <= stamp <= datetime.now(UTC) + timedelta(seconds=1)


async def test_returned_record_equals_stored_one(log: AuditLog) -> None:
    record = await log.append("x", {"t": (1, 2), "when": T0, 3: "int key"}, ts=T0)
    assert record.detail == {"t": [1, 2], "when": "2025-03-04T05:06:07.891Z", "3": "int key"}
    assert await log.records() == [record]


async def test_bad_kind_and_detail_are_refused_and_leave_no_record(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="kind"):
        await log.append("", {})
    with pytest.raises(ValueError, match="non-finite"):
        await log.append("x", {"v": float("nan")})
    with pytest.raises(TypeError, match="object"):
        await log.append("x", {"v": object()})
    assert await log.head() is None


async def test_fifty_concurrent_appends_make_one_chain(log: AuditLog) -> None:
    appended = await asyncio.gather(*(log.append("viewer_connected", {"i": i}) for i in range(50)))
    assert sorted(r.seq for r in appended) == list(range(1, 51))
    records = await log.records()
    assert [r.seq for r in records] == list(range(1, 51))
    assert sorted(r.detail["i"] for r in records) == list(range(50))
    result = verify_records(records)
    assert result.ok
    assert result.count == 50


async def test_records_paging(log: AuditLog) -> None:
    await fill(log, 10)
    assert [r.seq for r in await log.records(after=3, limit=4)] == [4, 5, 6, 7]
    assert await log.records(after=10) == []
    with pytest.raises(ValueError, match="limit"):
        await log.records(limit=0)


async def test_empty_log(log: AuditLog) -> None:
    assert await log.head() is None
    assert await log.records() == []
    result = verify_records([])
    assert result.ok
    assert (result.count, result.head, result.first_bad) == (0, None, None)
    assert verify_records([], head=(0, GENESIS_HASH)).ok
    assert verify_records([], head=(1, "a" * 64)).first_bad == 1


async def test_listeners_see_each_record_and_can_unsubscribe(log: AuditLog) -> None:
    seen: list[int] = []
    unsubscribe = log.add_listener(lambda r: seen.append(r.seq))

    def broken(_record: AuditRecord) -> None:
        raise RuntimeError("listener bug")

    log.add_listener(broken)  # a failing listener must not fail the append
    await fill(log, 2)
    unsubscribe()
    unsubscribe()  # idempotent
    await fill(log, 1)
    assert seen == [1, 2]


async def test_append_only_triggers(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 2)
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET kind = 'x' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit WHERE seq = 2")
    finally:
        conn.close()
    assert (await log.verify()).ok


async def test_restart_continues_the_chain(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / DB_FILENAME) as conn:
        first = AuditLog(conn)
        await first.setup()
        before = await fill(first, 3)
    async with aiosqlite.connect(tmp_path / DB_FILENAME) as conn:
        second = AuditLog(conn)
        await second.setup()  # idempotent on an existing table
        record = await second.append("gateway_started", {})
        assert (record.seq, record.prev_hash) == (4, before[-1].hash)
    result = await verify_database(tmp_path)
    assert result.ok
    assert result.head == (4, record.hash)


# --- tampering ----------------------------------------------------------------------------------


async def test_altered_record_is_caught(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 5)
    raw(tmp_path, """UPDATE audit SET detail = '{"n":99}' WHERE seq = 3""")
    result = await verify_database(tmp_path)
    assert not result.ok
    assert (result.first_bad, result.count) == (3, 2)
    assert result.head == (2, (await log.records(limit=2))[1].hash)


async def test_altered_record_with_recomputed_hash_is_caught_by_the_next(
    log: AuditLog, tmp_path: Path
) -> None:
    records = await fill(log, 5)
    forged = replace(records[2], detail={"n": 99})
    raw(
        tmp_path,
        f"""UPDATE audit SET detail = '{{"n":99}}', hash = '{forged.computed_hash()}'
        WHERE seq = 3""",  # noqa: S608
    )
    assert (await verify_database(tmp_path)).first_bad == 4


async def test_removed_middle_record_is_caught(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 5)
    raw(tmp_path, "DELETE FROM audit WHERE seq = 3")
    result = await verify_database(tmp_path)
    assert not result.ok
    assert result.first_bad == 4


async def test_removed_first_record_is_caught(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 3)
    raw(tmp_path, "DELETE FROM audit WHERE seq = 1")
    assert (await verify_database(tmp_path)).first_bad == 2


async def test_removed_tail_is_caught_only_with_the_head(log: AuditLog, tmp_path: Path) -> None:
    records = await fill(log, 5)
    head = (5, records[-1].hash)
    raw(tmp_path, "DELETE FROM audit WHERE seq >= 4")
    without = await verify_database(tmp_path)
    assert without.ok
    assert without.count == 3
    with_head = await verify_database(tmp_path, head=head)
    assert not with_head.ok
    assert with_head.first_bad == 5
    # An older head the chain still holds is fine.
    assert (await verify_database(tmp_path, head=(2, records[1].hash))).ok


async def test_rewritten_tail_is_caught_with_the_head(log: AuditLog, tmp_path: Path) -> None:
    records = await fill(log, 3)
    raw(tmp_path, "DELETE FROM audit WHERE seq = 3")
    async with aiosqlite.connect(tmp_path / DB_FILENAME) as conn:
        await AuditLog(conn).append("event", {"n": "forged"})
    assert (await verify_database(tmp_path)).ok
    result = await verify_database(tmp_path, head=(3, records[2].hash))
    assert not result.ok
    assert result.first_bad == 3


async def test_reordered_rows_are_caught(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 5)
    # Swap the whole content of rows 2 and 3, keeping their seq.
    raw(
        tmp_path,
        "CREATE TABLE t AS SELECT * FROM audit WHERE seq IN (2, 3)",
        "UPDATE audit SET (ts, kind, detail, prev_hash, hash) ="
        " (SELECT ts, kind, detail, prev_hash, hash FROM t WHERE t.seq = 5 - audit.seq)"
        " WHERE seq IN (2, 3)",
        "DROP TABLE t",
    )
    rows = await verify_database(tmp_path)
    assert not rows.ok
    assert rows.first_bad == 2


def test_verify_records_detects_reordering_and_duplicates() -> None:
    records = chain(5)
    swapped = [records[0], records[2], records[1], *records[3:]]
    assert verify_records(swapped).first_bad == 3
    assert verify_records([*records[:3], records[2], *records[3:]]).first_bad == 3
    assert verify_records(records[1:]).first_bad == 2
    assert verify_records(records, head=(5, records[4].hash)).ok
    assert verify_records(records, head=(5, "f" * 64)).first_bad == 5
    assert verify_records(records, head=(3, "f" * 64)).first_bad == 3
    assert verify_records(records, head=(6, "f" * 64)).first_bad == 6


def chain(n: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        ts = format_ts(T0 + timedelta(seconds=seq))
        record = AuditRecord(seq, ts, "event", {"n": seq}, prev, "")
        record = replace(record, hash=record.computed_hash())
        records.append(record)
        prev = record.hash
    return records


async def test_unreadable_detail_is_a_bad_record(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 3)
    raw(tmp_path, "UPDATE audit SET detail = 'not json' WHERE seq = 2")
    assert (await verify_database(tmp_path)).first_bad == 2
    with pytest.raises(AuditDatabaseError, match="record 2"):
        async with aclosing(export_database(tmp_path)) as records:
            _ = [r async for r in records]


async def test_invalid_utf8_is_a_bad_record_not_a_crash(log: AuditLog, tmp_path: Path) -> None:
    await fill(log, 3)
    raw(tmp_path, "UPDATE audit SET kind = CAST(X'6576ff6e74' AS TEXT) WHERE seq = 2")
    assert (await verify_database(tmp_path)).first_bad == 2


# --- records as JSON ---------------------------------------------------------------------------


def test_from_json_refuses_bad_fields() -> None:
    good = chain(1)[0].to_json()
    with pytest.raises(BadRecordError, match="seq"):
        AuditRecord.from_json({**good, "seq": True})
    with pytest.raises(BadRecordError, match="detail"):
        AuditRecord.from_json({**good, "detail": []})
    with pytest.raises(BadRecordError, match="hash"):
        AuditRecord.from_json({k: v for k, v in good.items() if k != "hash"})


def test_parse_and_format_head() -> None:
    assert parse_head(f"12:{'AB' * 32}") == (12, "ab" * 32)
    assert parse_head(format_head(None)) == (0, GENESIS_HASH)
    assert format_head((3, "c" * 64)) == f"3:{'c' * 64}"
    for bad in ("", "12", "x:" + "a" * 64, "-1:" + "a" * 64, "1:abc", "0:" + "a" * 64):
        with pytest.raises(ValueError, match="head"):
            parse_head(bad)


# --- secrets ------------------------------------------------------------------------------------


def test_sanitize_replaces_secret_keys() -> None:
    clean = sanitize(
        {
            "token": "tok",
            "Authorization": "Bearer abc",
            "links": {"rtsp": "rtsps://h/TOKEN"},
            "password": "pw",
            "source": "rtsp://u:p@cam/1",
            "owner_token": "x",
            "camera-source": "y",
            "nested": [{"password": "pw2", "ok": 1}],
            "source_ip": "10.0.0.9",
        }
    )
    assert clean == {
        "token": "***",
        "Authorization": "***",
        "links": "***",
        "password": "***",
        "source": "***",
        "owner_token": "***",
        "camera-source": "***",
        "nested": [{"password": "***", "ok": 1}],
        "source_ip": "10.0.0.9",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://admin:hunter2@192.168.1.20:554/stream1", "rtsp://***@192.168.1.20:554/stream1"),
        ("RTSPS://a:b@[::1]:8554/x", "RTSPS://***@[::1]:8554/x"),
        ("https://u:p@ss@host/x?y=1", "https://***@host/x?y=1"),
        ("rtsp://u:p/ss@cam/s", "rtsp://***@cam/s"),
        (
            "cannot reach http://u:pw@cam/snap.jpg?user=admin&pwd=secret&chan=1, retrying",
            "cannot reach http://***@cam/snap.jpg?user=***&pwd=***&chan=1, retrying",
        ),
        ("https://h/s/x?token=abc#f", "https://h/s/x?token=***#f"),
        ("http://cam.local/mail?to=a@b.c", "http://cam.local/mail?to=a@b.c"),
        ("plain words, user@example.com", "plain words, user@example.com"),
    ],
)
def test_sanitize_strips_url_credentials(text: str, expected: str) -> None:
    assert sanitize({"message": text}) == {"message": expected}


def test_sanitize_replaces_registered_secrets_and_bad_unicode() -> None:
    clean = sanitize({"reason": "owner said sekrit-token", "x": "\ud800"}, ["sekrit-token"])
    assert clean == {"reason": "owner said ***", "x": "\\ud800"}
    canonical_json(clean)  # storable as UTF-8


def test_sanitize_refuses_cycles() -> None:
    cyclic: dict[str, object] = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError, match="deeply"):
        sanitize(cyclic)


async def test_secrets_never_reach_the_database(tmp_path: Path) -> None:
    secret_values = ["hunter2", "owner-bearer-token", "s3cr3t-share-token"]
    async with aiosqlite.connect(tmp_path / DB_FILENAME) as conn:
        secrets = Secrets("owner-bearer-token")
        log = AuditLog(conn, secrets=secrets)
        await log.setup()
        secrets.add("s3cr3t-share-token")  # learnt later (a pushed camera): replaced from then on
        record = await log.append(
            "share_started",
            {
                "camera": {"source": "rtsp://admin:hunter2@cam/1", "label": "Front"},
                "links": ["rtsps://gw/s3cr3t-share-token"],
                "note": "token owner-bearer-token and rtsp://admin:hunter2@cam/1 and s3cr3t-share-token",
                "url": "https://gw/s/s3cr3t-share-token/stream.mp4",
            },
        )
        assert record.detail["camera"] == {"source": "***", "label": "Front"}
    data = (tmp_path / DB_FILENAME).read_bytes()
    for secret in secret_values:
        assert secret.encode() not in data
        assert secret not in json.dumps(record.to_json())
