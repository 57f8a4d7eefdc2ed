"""Reading an audit database from outside the running gateway (the CLI): verify and export.

The file is opened read-only; a byte-edited file fails the hash check, never the reader.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Final

import aiosqlite

from rtcc_gateway.audit_chain import (
    AuditDatabaseError,
    AuditRecord,
    BadRowError,
    NoDatabaseError,
    VerifyResult,
    iter_rows,
    row_to_record,
    verify_rows,
)

DB_FILENAME: Final = "gateway.db"
"""The gateway's database file in the data folder."""


def _decode_text(raw: bytes) -> str:
    # A byte-edited file may hold invalid UTF-8; let it fail the hash check, not the reader.
    return raw.decode("utf-8", "replace")


def _database_path(data_dir: Path) -> Path:
    if not data_dir.is_dir():
        raise NoDatabaseError(f"no data folder at {data_dir}")
    path = data_dir / DB_FILENAME
    if not path.is_file():
        raise NoDatabaseError(f"no audit database at {path}")
    return path


@asynccontextmanager
async def _open_readonly(data_dir: Path) -> AsyncIterator[aiosqlite.Connection]:
    path = _database_path(data_dir)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = await aiosqlite.connect(uri, uri=True)
    except sqlite3.Error as err:
        raise AuditDatabaseError(f"cannot open {path}: {err}") from None
    try:
        conn.text_factory = _decode_text
        try:
            async with conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'"
            ) as cursor:
                found = await cursor.fetchone()
        except sqlite3.Error as err:
            raise AuditDatabaseError(f"{path} is not a readable SQLite database: {err}") from None
        if found is None:
            raise AuditDatabaseError(f"{path} has no audit table")
        yield conn
    finally:
        await conn.close()


async def verify_database(data_dir: Path, head: tuple[int, str] | None = None) -> VerifyResult:
    """Verify the chain in `data_dir`'s database, opened read-only.

    Raises NoDatabaseError when the folder or file is missing, AuditDatabaseError when the file is
    not a database with an audit table.
    """
    async with _open_readonly(data_dir) as conn:
        try:
            return await verify_rows(iter_rows(conn), head)
        except sqlite3.Error as err:
            raise AuditDatabaseError(f"cannot read the audit table: {err}") from None


async def export_database(data_dir: Path) -> AsyncGenerator[AuditRecord]:
    """Every record of `data_dir`'s database, oldest first, opened read-only.

    Use inside `contextlib.aclosing` when you may stop early, so the connection closes. Raises as
    `verify_database` does, and AuditDatabaseError at a record that cannot be read at all.
    """
    async with _open_readonly(data_dir) as conn:
        try:
            async with aclosing(iter_rows(conn)) as rows:
                async for row in rows:
                    try:
                        yield row_to_record(row)
                    except BadRowError as err:
                        raise AuditDatabaseError(str(err)) from None
        except sqlite3.Error as err:
            raise AuditDatabaseError(f"cannot read the audit table: {err}") from None
