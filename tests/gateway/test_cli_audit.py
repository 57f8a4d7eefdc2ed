"""`rtcc-gateway audit verify|export`, run as the real console script (GATEWAY.md)."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from rtcc_gateway.audit import DB_FILENAME, GENESIS_HASH, AuditLog, AuditRecord, verify_records

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


@dataclass
class Run:
    code: int
    out: str
    err: str


async def cli(*args: str | Path) -> Run:
    proc = await asyncio.create_subprocess_exec(
        "rtcc-gateway",
        *map(str, args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return Run(await proc.wait(), out.decode("utf-8"), err.decode("utf-8"))


async def make_log(data_dir: Path, n: int) -> list[AuditRecord]:
    async with aiosqlite.connect(data_dir / DB_FILENAME) as conn:
        log = AuditLog(conn)
        await log.setup()
        return [
            await log.append(
                "viewer_connected",
                {"i": i, "camera_id": "front_door", "note": "café"},
                ts=T0 + timedelta(seconds=i),
            )
            for i in range(1, n + 1)
        ]


def tamper(data_dir: Path, statement: str) -> None:
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


async def test_verify_ok(tmp_path: Path) -> None:
    records = await make_log(tmp_path, 3)
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (run.code, run.out, run.err) == (0, f"ok: 3 records, head 3:{records[-1].hash}\n", "")
    with_head = await cli(
        "audit", "verify", "--data-dir", tmp_path, "--head", f"2:{records[1].hash}"
    )
    assert with_head.code == 0
    assert with_head.out == run.out


async def test_verify_empty_log(tmp_path: Path) -> None:
    await make_log(tmp_path, 0)
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (run.code, run.out) == (0, f"ok: 0 records, head 0:{GENESIS_HASH}\n")
    # The printed head of an empty log is accepted back, and a later head is missing.
    assert (
        await cli("audit", "verify", "--data-dir", tmp_path, "--head", run.out.split()[-1])
    ).code == 0
    missing = await cli("audit", "verify", "--data-dir", tmp_path, "--head", f"1:{'a' * 64}")
    assert (missing.code, missing.out) == (1, "first bad record: 1\n")


async def test_verify_altered_record(tmp_path: Path) -> None:
    await make_log(tmp_path, 5)
    tamper(tmp_path, """UPDATE audit SET detail = '{"i":2,"camera_id":"back"}' WHERE seq = 2""")
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (run.code, run.out) == (1, "first bad record: 2\n")


async def test_verify_removed_middle_record(tmp_path: Path) -> None:
    await make_log(tmp_path, 5)
    tamper(tmp_path, "DELETE FROM audit WHERE seq = 3")
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (run.code, run.out) == (1, "first bad record: 4\n")


async def test_verify_reordered_records(tmp_path: Path) -> None:
    await make_log(tmp_path, 5)
    # Swap rows 3 and 4 wholesale: move 4 out of the way, renumber 3 -> 4, then 4 -> 3.
    tamper(tmp_path, "UPDATE audit SET seq = 100 WHERE seq = 4")
    tamper(tmp_path, "UPDATE audit SET seq = 4 WHERE seq = 3")
    tamper(tmp_path, "UPDATE audit SET seq = 3 WHERE seq = 100")
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (run.code, run.out) == (1, "first bad record: 3\n")


async def test_verify_cut_off_tail_needs_the_head(tmp_path: Path) -> None:
    records = await make_log(tmp_path, 5)
    tamper(tmp_path, "DELETE FROM audit WHERE seq > 3")
    plain = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (plain.code, plain.out) == (0, f"ok: 3 records, head 3:{records[2].hash}\n")
    run = await cli("audit", "verify", "--data-dir", tmp_path, "--head", f"5:{records[4].hash}")
    assert (run.code, run.out) == (1, "first bad record: 5\n")


@pytest.mark.parametrize("head", ["5", "abc:def", f"x:{'a' * 64}", "3:xyz", f"0:{'a' * 64}"])
async def test_verify_malformed_head(tmp_path: Path, head: str) -> None:
    await make_log(tmp_path, 1)
    run = await cli("audit", "verify", "--data-dir", tmp_path, "--head", head)
    assert run.code == 2
    assert one_line(run.err).startswith("--head: ")
    assert run.out == ""


async def test_verify_no_database(tmp_path: Path) -> None:
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert (run.code, run.out) == (2, "")
    assert one_line(run.err) == f"no audit database at {tmp_path / DB_FILENAME}"
    missing = await cli("audit", "verify", "--data-dir", tmp_path / "nope")
    assert missing.code == 2
    assert one_line(missing.err) == f"no data folder at {tmp_path / 'nope'}"


async def test_verify_not_a_database(tmp_path: Path) -> None:
    (tmp_path / DB_FILENAME).write_bytes(b"garbage, not SQLite " * 100)
    run = await cli("audit", "verify", "--data-dir", tmp_path)
    assert run.code == 2
    assert "not a readable SQLite database" in one_line(run.err)
    assert "Traceback" not in run.err


async def test_export_json_lines(tmp_path: Path) -> None:
    records = await make_log(tmp_path, 3)
    run = await cli("audit", "export", "--data-dir", tmp_path)
    assert (run.code, run.err) == (0, "")
    lines = run.out.splitlines()
    assert len(lines) == 3
    parsed = [json.loads(line) for line in lines]
    for obj in parsed:
        assert list(obj) == ["seq", "ts", "kind", "detail", "prev_hash", "hash"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["ts"])
    assert parsed == [r.to_json() for r in records]
    assert parsed[0]["detail"] == {"i": 1, "camera_id": "front_door", "note": "café"}
    # The export alone is enough to verify the chain offline.
    assert verify_records(AuditRecord.from_json(obj) for obj in parsed).ok


async def test_export_empty_and_missing(tmp_path: Path) -> None:
    missing = await cli("audit", "export", "--data-dir", tmp_path)
    assert (missing.code, missing.out) == (2, "")
    assert one_line(missing.err) == f"no audit database at {tmp_path / DB_FILENAME}"
    await make_log(tmp_path, 0)
    empty = await cli("audit", "export", "--data-dir", tmp_path)
    assert (empty.code, empty.out, empty.err) == (0, "", "")


async def test_audit_needs_a_subcommand() -> None:
    run = await cli("audit")
    assert run.code == 2
    assert "verify" in run.err
