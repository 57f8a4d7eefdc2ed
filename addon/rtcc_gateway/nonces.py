"""Replay protection: a nonce is good once within the signature window (CITY-API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import aiosqlite

from rtcc_gateway.signature_rules import WINDOW_S


class NonceStore(Protocol):
    """Remembers the nonces of accepted requests for the freshness window.

    A store's window must be at least verify_request's `max_skew_s`, or a replay could arrive
    after its nonce was forgotten while its `created` still looks fresh.
    """

    async def check_and_remember(
        self, agency_id: str, nonce: str, created: datetime, now: datetime
    ) -> bool:
        """Remember the nonce; False when it was already accepted within the window (a replay)."""
        ...


class InMemoryNonceStore:
    """A NonceStore in a dict, for unit tests and benchmarks (forgets on restart)."""

    def __init__(self, *, window_s: int = WINDOW_S) -> None:
        self.window_s = window_s
        self._seen: dict[tuple[str, str], float] = {}

    def __len__(self) -> int:
        return len(self._seen)

    async def check_and_remember(
        self, agency_id: str, nonce: str, created: datetime, now: datetime
    ) -> bool:
        """See NonceStore."""
        cutoff = now.timestamp() - self.window_s
        # A nonce created before the cutoff can only come with a stale signature, so forgetting
        # it loses nothing.
        self._seen = {k: v for k, v in self._seen.items() if v >= cutoff}
        key = (agency_id, nonce)
        if key in self._seen:
            return False
        self._seen[key] = float(int(created.timestamp()))
        return True


class SqliteNonceStore:
    """A NonceStore in the gateway's SQLite database, so a nonce survives a restart.

    The connection belongs to the caller. Each accepted nonce is committed before the check
    returns (which also commits anything else pending on that connection).
    """

    def __init__(
        self, conn: aiosqlite.Connection, *, window_s: int = WINDOW_S, purge_every_s: int = 60
    ) -> None:
        self._conn = conn
        self.window_s = window_s
        self.purge_every_s = purge_every_s
        self._last_purge: float | None = None

    @staticmethod
    async def create_schema(conn: aiosqlite.Connection) -> None:
        """Create the `nonces` table (idempotent)."""
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS nonces ("
            " agency_id TEXT NOT NULL,"
            " nonce TEXT NOT NULL,"
            " created_at INTEGER NOT NULL,"
            " PRIMARY KEY (agency_id, nonce))"
        )
        await conn.execute("CREATE INDEX IF NOT EXISTS nonces_created_at ON nonces (created_at)")
        await conn.commit()

    async def check_and_remember(
        self, agency_id: str, nonce: str, created: datetime, now: datetime
    ) -> bool:
        """See NonceStore."""
        now_ts = now.timestamp()
        cutoff = now_ts - self.window_s
        if self._last_purge is None or abs(now_ts - self._last_purge) >= self.purge_every_s:
            # Opportunistic: a DELETE per request would be wasted work under load.
            await self._conn.execute("DELETE FROM nonces WHERE created_at < ?", (cutoff,))
            self._last_purge = now_ts
        # One statement decides atomically: a new nonce is inserted; a known one is only taken
        # over when its row is older than the window (not purged yet, but no longer a replay).
        cursor = await self._conn.execute(
            "INSERT INTO nonces (agency_id, nonce, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (agency_id, nonce) DO UPDATE SET created_at = excluded.created_at "
            "WHERE nonces.created_at < ?",
            (agency_id, nonce, int(created.timestamp()), cutoff),
        )
        accepted = cursor.rowcount == 1
        await cursor.close()
        await self._conn.commit()
        return accepted
