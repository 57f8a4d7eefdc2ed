"""Persistence: one SQLite database under data_dir.

It holds requests, shares, the owner's policy, the replay state and the audit log: what survives
a restart is exactly what failing closed needs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite

from rtcc_gateway.audit import DB_FILENAME

SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    camera_id TEXT NOT NULL,
    status TEXT NOT NULL,
    token TEXT,
    duration_s INTEGER NOT NULL,
    cut INTEGER NOT NULL,
    starts_at TEXT,
    ends_at TEXT,
    approve_by TEXT,
    ended_at TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS shares_by_request ON shares(request_id);
CREATE INDEX IF NOT EXISTS shares_by_status ON shares(status);
"""


class StoreError(Exception):
    """The database cannot be opened or is not one of ours (named, never a traceback)."""


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z (whole seconds: every time the gateway sets is whole seconds)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """The inverse of `iso`."""
    return None if text is None else datetime.fromisoformat(text)


@dataclass(slots=True)
class ShareRow:
    """One share as stored."""

    id: str
    request_id: str
    camera_id: str
    status: str
    token: str | None
    duration_s: int
    cut: bool
    starts_at: datetime | None
    ends_at: datetime | None
    approve_by: datetime | None
    ended_at: datetime | None
    reason: str | None


@dataclass(slots=True)
class RequestRow:
    """One city request as stored (the validated body, as JSON)."""

    id: str
    agency_id: str
    created_at: datetime
    body: dict[str, Any]


class Store:
    """The open database. Writes go through one connection, so they are serialized."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    async def open(cls, data_dir: Path) -> Store:
        """Open (creating if needed) `data_dir/gateway.db`."""
        path = data_dir / DB_FILENAME
        try:
            conn = await aiosqlite.connect(path)
        except sqlite3.Error as err:
            raise StoreError(f"data_dir: cannot open {path}: {err}") from None
        try:
            # WAL keeps readers off the writer's back; FULL sync makes a committed audit record
            # survive a power cut, which is the point of the log.
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.executescript(_SCHEMA)
            await conn.commit()
        except sqlite3.DatabaseError as err:
            await conn.close()
            raise StoreError(
                f"data_dir: {path} is not a usable rtcc_share database ({err}); move it aside "
                "to start afresh, or restore it from a backup"
            ) from None
        store = cls(conn, path)
        version = await store.get_meta("schema_version")
        if version is None:
            await store.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) > SCHEMA_VERSION:
            await conn.close()
            raise StoreError(
                f"data_dir: {path} was written by a newer gateway (schema {version}); "
                "upgrade this gateway"
            )
        return store

    async def close(self) -> None:
        """Close the connection (and its worker thread)."""
        await self.conn.close()

    async def get_meta(self, key: str) -> str | None:
        """A value of the meta table."""
        async with self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        """Set a meta value and commit."""
        await self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        await self.conn.commit()

    async def add_request(self, row: RequestRow, shares: Iterable[ShareRow]) -> None:
        """Store a request and its shares in one transaction."""
        await self.conn.execute(
            "INSERT INTO requests(id, agency_id, created_at, body) VALUES(?, ?, ?, ?)",
            (row.id, row.agency_id, iso(row.created_at), json.dumps(row.body)),
        )
        await self.conn.executemany(
            "INSERT INTO shares(id, request_id, camera_id, status, token, duration_s, cut, "
            "starts_at, ends_at, approve_by, ended_at, reason) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_share_values(s) for s in shares],
        )
        await self.conn.commit()

    async def update_shares(self, shares: Iterable[ShareRow]) -> None:
        """Write back changed shares in one transaction."""
        await self.conn.executemany(
            "UPDATE shares SET status = ?, token = ?, duration_s = ?, cut = ?, starts_at = ?, "
            "ends_at = ?, approve_by = ?, ended_at = ?, reason = ? WHERE id = ?",
            [(*_share_values(s)[3:], s.id) for s in shares],
        )
        await self.conn.commit()

    async def load_requests(self) -> list[RequestRow]:
        """Every stored request."""
        async with self.conn.execute(
            "SELECT id, agency_id, created_at, body FROM requests ORDER BY created_at"
        ) as cur:
            rows = await cur.fetchall()
        return [
            RequestRow(id=r[0], agency_id=r[1], created_at=_dt(r[2]), body=json.loads(r[3]))
            for r in rows
        ]

    async def load_shares(self) -> list[ShareRow]:
        """Every stored share."""
        async with self.conn.execute(
            "SELECT id, request_id, camera_id, status, token, duration_s, cut, starts_at, "
            "ends_at, approve_by, ended_at, reason FROM shares ORDER BY rowid"
        ) as cur:
            rows = await cur.fetchall()
        return [
            ShareRow(
                id=r[0],
                request_id=r[1],
                camera_id=r[2],
                status=r[3],
                token=r[4],
                duration_s=int(r[5]),
                cut=bool(r[6]),
                starts_at=parse_iso(r[7]),
                ends_at=parse_iso(r[8]),
                approve_by=parse_iso(r[9]),
                ended_at=parse_iso(r[10]),
                reason=r[11],
            )
            for r in rows
        ]


def _dt(text: str) -> datetime:
    parsed = parse_iso(text)
    assert parsed is not None  # noqa: S101 - the column is NOT NULL
    return parsed


def _share_values(s: ShareRow) -> tuple[Any, ...]:
    return (
        s.id,
        s.request_id,
        s.camera_id,
        s.status,
        s.token,
        s.duration_s,
        int(s.cut),
        iso(s.starts_at),
        iso(s.ends_at),
        iso(s.approve_by),
        iso(s.ended_at),
        s.reason,
    )
