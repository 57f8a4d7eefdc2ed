"""The database: a version-1 file is upgraded in place, and what a restart needs comes back."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path

from rtcc_gateway.store import SCHEMA_VERSION, Store

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE requests (id TEXT PRIMARY KEY, agency_id TEXT NOT NULL, created_at TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE TABLE shares (id TEXT PRIMARY KEY, request_id TEXT NOT NULL REFERENCES requests(id),
    camera_id TEXT NOT NULL, status TEXT NOT NULL, token TEXT, duration_s INTEGER NOT NULL,
    cut INTEGER NOT NULL, starts_at TEXT, ends_at TEXT, approve_by TEXT, ended_at TEXT,
    reason TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO requests VALUES ('req_done', 'jpd', '2026-11-26T20:00:00Z', '{}');
INSERT INTO requests VALUES ('req_declined', 'jpd', '2026-11-26T21:00:00Z', '{}');
INSERT INTO requests VALUES ('req_live', 'jpd', '2026-11-26T22:00:00Z', '{}');
INSERT INTO shares VALUES ('shr_1', 'req_done', 'cam', 'ended', 't1', 600, 0,
    '2026-11-26T20:00:00Z', '2026-11-26T20:10:00Z', NULL, '2026-11-26T20:05:00Z', 'revoked');
INSERT INTO shares VALUES ('shr_2', 'req_declined', 'cam', 'declined', NULL, 600, 0,
    NULL, NULL, NULL, NULL, 'consent_off');
INSERT INTO shares VALUES ('shr_3', 'req_live', 'cam', 'live', 't3', 600, 0,
    '2026-11-26T22:00:00Z', '2026-11-26T22:10:00Z', NULL, NULL, NULL);
"""


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_version_1_database_learns_when_its_requests_ended(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "gateway.db")) as conn:
        conn.executescript(V1_SCHEMA)
    store = await Store.open(tmp_path)
    try:
        assert await store.get_meta("schema_version") == str(SCHEMA_VERSION)
        ended = {}
        for request_id in ("req_done", "req_declined", "req_live"):
            found = await store.get_request(request_id)
            assert found is not None
            ended[request_id] = found[0].ended_at
        assert ended == {
            "req_done": moment("2026-11-26T20:05:00Z"),  # its last share's end
            "req_declined": moment("2026-11-26T21:00:00Z"),  # declined at once
            "req_live": None,
        }
        # A restart after 21:30 loads the live one only.
        since = moment("2026-11-26T21:30:00Z")
        assert [r.id for r in await store.load_requests(since)] == ["req_live"]
        assert [s.id for s in await store.load_shares(since)] == ["shr_3"]
        totals = await store.totals_before(since)
        assert (totals["jpd"].requests, totals["jpd"].approved, totals["jpd"].declined) == (
            2,
            1,
            1,
        )
        assert totals["jpd"].seconds_live == 300
    finally:
        await store.close()
