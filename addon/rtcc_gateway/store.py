"""Persistence: one SQLite database under data_dir.

It holds requests, shares, the owner's policy, the replay state, the viewers connected now and the
audit log: what survives a restart is exactly what failing closed needs. The database is checked
at every open; a damaged one is refused, by name, with what to do.
"""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite

from rtcc_gateway.audit_export import DB_FILENAME
from rtcc_gateway.state_dir import create_private
from rtcc_gateway.store_rows import (
    SHARE_COLUMNS,
    AgencyTotals,
    RequestRow,
    ShareRow,
    Statement,
    iso,
    parse_iso,
    request_from_row,
    share_from_row,
    share_values,
)

__all__ = [
    "AgencyTotals",
    "RequestRow",
    "ShareRow",
    "Statement",
    "Store",
    "StoreError",
    "describe",
    "iso",
    "parse_iso",
]

SCHEMA_VERSION: Final = 2
FULL_BELOW_BYTES: Final = 64 * 1024  # a disk with less free is full, for the error message

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
CREATE TABLE IF NOT EXISTS open_viewers (
    viewer_id TEXT PRIMARY KEY,
    connected_at TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

# Version 2: a request remembers when it ended (every share ended or declined), so a restart
# loads only what is open or recent, and the city can read an old request for a while.
_ENDED_AT: Final = """
UPDATE requests SET ended_at = COALESCE(
    (SELECT MAX(ended_at) FROM shares WHERE shares.request_id = requests.id), created_at)
WHERE ended_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM shares WHERE shares.request_id = requests.id
    AND status IN ('pending', 'live', 'scheduled'))
"""

_INSERT_REQUEST: Final = (
    "INSERT INTO requests(id, agency_id, created_at, body, ended_at) VALUES(?, ?, ?, ?, ?)"
)


class StoreError(Exception):
    """The database cannot be opened, read or written (one line naming the file, never a trace)."""


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW_BYTES
    except OSError:
        return False


def describe(path: Path, err: BaseException) -> str:
    """One line for the owner: which file, what is wrong with it, and what to do."""
    name = getattr(err, "sqlite_errorname", "") or ""
    # SQLite says "disk I/O error" when its shared-memory file cannot grow: ask the disk.
    full = name == "SQLITE_FULL" or (isinstance(err, OSError) and err.errno == errno.ENOSPC)
    if full or (name.startswith("SQLITE_IOERR") and _disk_full(path.parent)):
        return f"data_dir: {path}: the disk is full; free space in {path.parent}, then start again"
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT"):
        return (
            f"data_dir: {path} is not a usable rtcc_share database ({err}); move it aside to "
            "start afresh, or restore it from a backup"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return f"data_dir: {path} cannot be written ({err}); check the folder's owner and mount"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"data_dir: {path} is in use ({err}); is another gateway running on this folder?"
    if name.startswith("SQLITE_IOERR"):
        return f"data_dir: {path} cannot be read or written ({err}); check the disk"
    return f"data_dir: {path}: storage error ({err}); check the disk and the file"


def _daemon(conn: aiosqlite.Connection) -> aiosqlite.Connection:
    # aiosqlite's worker is not a daemon thread: one left running by a failed start would keep the
    # process alive for ever. The database is safe across an exit (like a kill), so let it go.
    worker = getattr(conn, "_thread", None)
    if isinstance(worker, threading.Thread) and not worker.is_alive():
        worker.daemon = True
    return conn


class Store:
    """The open database. Writes go through one connection, so they are serialized."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    async def open(cls, data_dir: Path) -> Store:
        """Open (creating if needed, mode 0600) `data_dir/gateway.db` and check its integrity."""
        path = data_dir / DB_FILENAME
        try:
            create_private(path)
            conn = await _daemon(aiosqlite.connect(path))
        except (sqlite3.Error, OSError) as err:
            raise StoreError(describe(path, err)) from None
        try:
            await cls._prepare(conn, path)
        except (sqlite3.Error, OSError) as err:
            await _close_quietly(conn)
            raise StoreError(describe(path, err)) from None
        except StoreError:
            await _close_quietly(conn)
            raise
        return cls(conn, path)

    @staticmethod
    async def _prepare(conn: aiosqlite.Connection, path: Path) -> None:
        # WAL keeps readers off the writer's back; FULL sync makes a committed audit record
        # survive a power cut, which is the point of the log.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute("PRAGMA foreign_keys=ON")
        # Every page, at every start: a damaged middle page is otherwise found only by the next
        # `audit verify`, long after the gateway has been answering from it.
        async with conn.execute("PRAGMA quick_check") as cur:
            problems = [str(r[0]) for r in await cur.fetchall()]
        if problems != ["ok"]:
            raise StoreError(
                f"data_dir: {path} is not a usable rtcc_share database (integrity check: "
                f"{problems[0][:200]}); move it aside to start afresh, or restore it from a backup"
            )
        await conn.executescript(_SCHEMA)
        async with conn.execute("SELECT value FROM meta WHERE key = 'schema_version'") as cur:
            row = await cur.fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"data_dir: {path} was written by a newer gateway (schema {version}); "
                "upgrade this gateway"
            )
        async with conn.execute("PRAGMA table_info(requests)") as cur:
            columns = {str(r[1]) for r in await cur.fetchall()}
        if "ended_at" not in columns:
            await conn.execute("ALTER TABLE requests ADD COLUMN ended_at TEXT")
            await conn.execute(_ENDED_AT)
        await conn.execute("CREATE INDEX IF NOT EXISTS requests_by_end ON requests(ended_at)")
        await conn.execute(
            "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
        await conn.commit()

    async def close(self) -> None:
        """Close the connection (and its worker thread), whatever state it is in."""
        await _close_quietly(self.conn)

    async def rollback(self) -> None:
        """Drop whatever a failed write left uncommitted."""
        with contextlib.suppress(sqlite3.Error, ValueError):
            await self.conn.rollback()

    async def _write(self, statements: Iterable[Statement]) -> None:
        """Run statements and commit as one transaction; nothing is left half-done on failure."""
        try:
            for sql, params in statements:
                await self.conn.execute(sql, params)
            await self.conn.commit()
        except BaseException:
            await self.rollback()
            raise

    async def get_meta(self, key: str) -> str | None:
        """A value of the meta table."""
        async with self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        """Set a meta value and commit."""
        await self._write(
            [
                (
                    (
                        "INSERT INTO meta(key, value) VALUES(?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                    ),
                    (key, value),
                )
            ]
        )

    async def add_request(self, row: RequestRow, shares: Iterable[ShareRow]) -> None:
        """Store a request and its shares in one transaction."""
        statements: list[Statement] = [
            (
                _INSERT_REQUEST,
                (
                    row.id,
                    row.agency_id,
                    iso(row.created_at),
                    json.dumps(row.body),
                    iso(row.ended_at),
                ),
            )
        ]
        statements += [
            (f"INSERT INTO shares({SHARE_COLUMNS}) VALUES({', '.join('?' * 12)})", share_values(s))
            for s in shares
        ]
        await self._write(statements)

    async def update_shares(self, shares: Iterable[ShareRow]) -> None:
        """Write back changed shares in one transaction."""
        statements: list[Statement] = [
            (
                (
                    "UPDATE shares SET status = ?, token = ?, duration_s = ?, cut = ?, "
                    "starts_at = ?, ends_at = ?, approve_by = ?, ended_at = ?, reason = ? "
                    "WHERE id = ?"
                ),
                (*share_values(s)[3:], s.id),
            )
            for s in shares
        ]
        await self._write(statements)

    async def set_request_ended(self, request_id: str, ended_at: datetime) -> None:
        """Remember when a request ended (before it leaves memory)."""
        await self._write(
            [("UPDATE requests SET ended_at = ? WHERE id = ?", (iso(ended_at), request_id))]
        )

    async def has_share(self, share_id: str) -> bool:
        """Whether a share of that id was ever stored."""
        async with self.conn.execute("SELECT 1 FROM shares WHERE id = ?", (share_id,)) as cur:
            return await cur.fetchone() is not None

    async def load_requests(self, ended_since: datetime) -> list[RequestRow]:
        """Requests still open, or that ended at or after `ended_since`."""
        async with self.conn.execute(
            "SELECT id, agency_id, created_at, body, ended_at FROM requests "
            "WHERE ended_at IS NULL OR ended_at >= ? ORDER BY created_at",
            (iso(ended_since),),
        ) as cur:
            rows = await cur.fetchall()
        return [request_from_row(r) for r in rows]

    async def load_shares(self, ended_since: datetime) -> list[ShareRow]:
        """The shares of the requests `load_requests` returns."""
        async with self.conn.execute(
            f"SELECT {SHARE_COLUMNS} FROM shares WHERE request_id IN "  # noqa: S608
            "(SELECT id FROM requests WHERE ended_at IS NULL OR ended_at >= ?) ORDER BY rowid",
            (iso(ended_since),),
        ) as cur:
            rows = await cur.fetchall()
        return [share_from_row(r) for r in rows]

    async def get_request(self, request_id: str) -> tuple[RequestRow, list[ShareRow]] | None:
        """One stored request and its shares, or None."""
        async with self.conn.execute(
            "SELECT id, agency_id, created_at, body, ended_at FROM requests WHERE id = ?",
            (request_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self.conn.execute(
            f"SELECT {SHARE_COLUMNS} FROM shares WHERE request_id = ? ORDER BY rowid",  # noqa: S608
            (request_id,),
        ) as cur:
            shares = [share_from_row(r) for r in await cur.fetchall()]
        return request_from_row(row), shares

    async def totals_before(self, ended_before: datetime) -> dict[str, AgencyTotals]:
        """Per agency, the transparency figures of requests that ended before `ended_before`."""
        totals: dict[str, AgencyTotals] = {}
        async with self.conn.execute(
            "SELECT agency_id, COUNT(*) FROM requests WHERE ended_at < ? GROUP BY agency_id",
            (iso(ended_before),),
        ) as cur:
            for agency, count in await cur.fetchall():
                totals.setdefault(str(agency), AgencyTotals()).requests = int(count)
        async with self.conn.execute(
            "SELECT r.agency_id, s.token IS NOT NULL, s.status, s.starts_at, s.ends_at, s.ended_at "
            "FROM shares s JOIN requests r ON r.id = s.request_id WHERE r.ended_at < ?",
            (iso(ended_before),),
        ) as cur:
            async for agency, approved, status, starts, ends, ended in cur:
                entry = totals.setdefault(str(agency), AgencyTotals())
                if not approved:
                    entry.declined += status == "declined"
                    continue
                entry.approved += 1
                start, end = parse_iso(starts), parse_iso(ended) or parse_iso(ends)
                if start is not None and end is not None:
                    stop = min(end, parse_iso(ends) or end)
                    entry.seconds_live += max(0.0, (stop - start).total_seconds())
        return totals

    async def open_viewers(self) -> list[tuple[str, datetime, dict[str, Any]]]:
        """Viewers recorded as connected and never as gone: (viewer id, connected at, detail)."""
        async with self.conn.execute(
            "SELECT viewer_id, connected_at, detail FROM open_viewers ORDER BY connected_at"
        ) as cur:
            rows = await cur.fetchall()
        out = []
        for viewer_id, connected_at, detail in rows:
            when = parse_iso(connected_at)
            assert when is not None  # noqa: S101 - the column is NOT NULL
            out.append((str(viewer_id), when, json.loads(detail)))
        return out


async def _close_quietly(conn: aiosqlite.Connection) -> None:
    # close() stops the worker thread even when closing the database fails.
    with contextlib.suppress(sqlite3.Error, ValueError, OSError):
        await conn.close()
