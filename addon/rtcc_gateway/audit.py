"""The tamper-evident audit log (ARCHITECTURE.md rule 5: everything is on the record).

The log lives in the table `audit` of the gateway's SQLite database. The connection belongs to the
caller (the store); this module only creates its table and appends to it. Details pass through
`redact.sanitize` first, so the owner token, camera passwords and share links never reach the log.
The chain's records and heads are in audit_chain.py; reading a file from outside in
audit_export.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import aiosqlite

from rtcc_gateway.audit_chain import (
    COLUMNS,
    GENESIS_HASH,
    AuditDatabaseError,
    AuditError,
    AuditRecord,
    BadRecordError,
    BadRowError,
    NoDatabaseError,
    VerifyResult,
    canonical_json,
    format_head,
    format_ts,
    iter_rows,
    parse_head,
    record_hash,
    row_to_record,
    verify_records,
    verify_rows,
)
from rtcc_gateway.audit_export import DB_FILENAME, export_database, verify_database
from rtcc_gateway.clock import WallClock, utc_now
from rtcc_gateway.redact import Secrets, sanitize

__all__ = [
    "DB_FILENAME",
    "GENESIS_HASH",
    "AuditDatabaseError",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "BadRecordError",
    "NoDatabaseError",
    "VerifyResult",
    "canonical_json",
    "create_schema",
    "export_database",
    "format_head",
    "format_ts",
    "parse_head",
    "sanitize",
    "verify_database",
    "verify_records",
]

_LOGGER = logging.getLogger(__name__)

_KIND: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
_SCHEMA: Final = (
    """
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )
    """,
    # Defence in depth: the code never rewrites the log, and neither may a stray statement.
    """
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
)


async def create_schema(conn: aiosqlite.Connection) -> None:
    """Create the `audit` table and its append-only triggers if missing, and commit."""
    for statement in _SCHEMA:
        await conn.execute(statement)
    await conn.commit()


class AuditLog:
    """Appends to and reads the chain in the `audit` table of a connection owned by the caller.

    `append` commits: a record is durable once it returns. The caller must therefore not keep
    uncommitted changes of its own open across an `await` of `append`, or they get committed too.
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        secrets: Secrets | Iterable[str] = (),
        clock: WallClock = utc_now,
    ) -> None:
        """`secrets`: strings (the owner token, camera URLs) replaced wherever they appear.

        Given the gateway's register (redact.Secrets), what it learns later is replaced too.
        """
        self._conn = conn
        self._clock = clock
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[AuditRecord], None]] = []
        self._secrets = secrets if isinstance(secrets, Secrets) else Secrets(*secrets)

    async def setup(self) -> None:
        """Create the table if needed (see `create_schema`)."""
        await create_schema(self._conn)

    def add_listener(self, callback: Callable[[AuditRecord], None]) -> Callable[[], None]:
        """Call `callback` with every record after it is committed; returns an unsubscribe."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    async def append(
        self,
        kind: str,
        detail: Mapping[str, Any],
        ts: datetime | None = None,
        *,
        also: Sequence[tuple[str, tuple[Any, ...]]] = (),
    ) -> AuditRecord:
        """Sanitize `detail`, chain it after the current head, commit, notify listeners.

        `also`: statements committed in the same transaction as the record (e.g. the list of
        connected viewers), so the two can never disagree after a crash.
        """
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise ValueError(f"audit kind must match {_KIND.pattern}, got {kind!r}")
        when = format_ts(ts if ts is not None else self._clock())
        # Round-trip through the canonical encoding so the returned record equals the stored one
        # (tuples are lists, keys strings) and hashes the same after a reload.
        detail_text = canonical_json(sanitize(detail, self._secrets)).decode("utf-8")
        clean: dict[str, Any] = json.loads(detail_text)
        async with self._lock:
            # Read from the database, not a cache, so a restart continues the chain and a failed
            # commit leaves nothing behind to diverge from.
            prev_seq, prev_hash = await self._head() or (0, GENESIS_HASH)
            seq = prev_seq + 1
            record = AuditRecord(
                seq, when, kind, clean, prev_hash, record_hash(seq, when, kind, clean, prev_hash)
            )
            try:
                for sql, params in also:
                    await self._conn.execute(sql, params)
                await self._conn.execute(
                    f"INSERT INTO audit ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                    (seq, when, kind, detail_text, prev_hash, record.hash),
                )
                await self._conn.commit()
            except BaseException:
                # Keep the original error: a rollback on a closed connection fails too.
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await self._conn.rollback()
                raise
            # Inside the lock so listeners see records in chain order.
            for listener in list(self._listeners):
                try:
                    listener(record)
                except Exception:
                    _LOGGER.exception("audit listener failed for record %d", seq)
        return record

    async def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the latest record; None for an empty log."""
        return await self._head()

    async def _head(self) -> tuple[int, str] | None:
        async with self._conn.execute(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    async def latest(self) -> AuditRecord | None:
        """The last record, or None for an empty log."""
        async with self._conn.execute(
            f"SELECT {COLUMNS} FROM audit ORDER BY seq DESC LIMIT 1"  # noqa: S608
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        try:
            return row_to_record(row)
        except BadRowError as err:
            raise AuditDatabaseError(str(err)) from None

    async def records(self, after: int = 0, limit: int = 1000) -> list[AuditRecord]:
        """Up to `limit` records with seq > `after`, oldest first."""
        if after < 0 or limit < 1:
            raise ValueError("after must be >= 0 and limit >= 1")
        async with self._conn.execute(
            f"SELECT {COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (after, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        try:
            return [row_to_record(row) for row in rows]
        except BadRowError as err:
            raise AuditDatabaseError(str(err)) from None

    async def verify(self, head: tuple[int, str] | None = None) -> VerifyResult:
        """Check the whole chain in this database (OWNER-API.md `GET /api/v1/audit/verify`)."""
        return await verify_rows(iter_rows(self._conn), head)
