"""The tamper-evident audit log (ARCHITECTURE.md rule 5: everything is on the record).

Every record is hash-chained to the one before it: `hash` is the SHA-256 of the canonical JSON of
`{seq, ts, kind, detail, prev_hash}` and `prev_hash` is the previous record's `hash` (64 zeros for
the first). Altering, removing or reordering a record breaks the chain; cutting off the tail is only
visible against a head (`seq`, `hash`) kept elsewhere, which is why the integration stores the
latest head it has seen (OWNER-API.md).

The log lives in the table `audit` of the gateway's SQLite database. The connection belongs to the
caller (the store); this module only creates its table and appends to it. Details pass through
`sanitize` first, so the owner token, camera passwords and share links never reach the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite

_LOGGER = logging.getLogger(__name__)

DB_FILENAME: Final = "gateway.db"
"""The gateway's database file in the data folder (to move to `store.py` once it exists)."""

GENESIS_HASH: Final = "0" * 64
"""The `prev_hash` of the first record, and the head hash of an empty log."""

REDACTED: Final = "***"

# Keys whose values are secrets wherever they appear in a detail (also as a `_suffix`, e.g.
# `owner_token`, `camera_source`, `share_links`): replaced, so the record still shows one was there.
SECRET_KEYS: Final = frozenset(
    {
        "token",
        "links",
        "password",
        "passwd",
        "source",
        "authorization",
        "secret",
        "api_key",
        "cookie",
        "credentials",
    }
)
# Query parameters that cameras commonly use for credentials (`?user=admin&pwd=…`).
_SECRET_QUERY_KEYS: Final = frozenset(
    {"user", "username", "pwd", "pass", "auth", "key", "sig", "signature"}
)
_URL: Final = re.compile(r"(?i)\b(?P<scheme>rtsps?|https?)://(?P<rest>\S*)")
_QUERY_PARAM: Final = re.compile(r"(?P<lead>[?&;](?P<name>[^=&;#\s]*)=)(?P<value>[^&;#\s]*)")
_KIND: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
_MAX_DEPTH: Final = 32

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
_COLUMNS: Final = "seq, ts, kind, detail, prev_hash, hash"


class AuditError(Exception):
    """Base of the audit log's errors; the message is one line fit for the owner."""


class NoDatabaseError(AuditError):
    """The data folder or its database file does not exist."""


class AuditDatabaseError(AuditError):
    """The database cannot be read: not SQLite, no audit table, or an unreadable record."""


class BadRecordError(AuditError, ValueError):
    """A record in the export format has a missing or mistyped field."""


def canonical_json(value: Any) -> bytes:
    """The one canonical encoding the chain hashes: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def record_hash(seq: int, ts: str, kind: str, detail: Mapping[str, Any], prev_hash: str) -> str:
    """The hex SHA-256 that chains a record to its predecessor."""
    body = {"seq": seq, "ts": ts, "kind": kind, "detail": detail, "prev_hash": prev_hash}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def format_ts(when: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a `Z`, e.g. `2025-01-02T03:04:05.678Z`."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditRecord:
    """One link of the chain. `detail` is JSON data; treat it as read-only."""

    seq: int
    ts: str
    kind: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """The hash this record's content should carry."""
        return record_hash(self.seq, self.ts, self.kind, self.detail, self.prev_hash)

    def to_json(self) -> dict[str, Any]:
        """The export format (GATEWAY.md): keys seq, ts, kind, detail, prev_hash, hash."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditRecord:
        """A record from the export format; BadRecordError when a field is missing or mistyped."""
        seq, detail = data.get("seq"), data.get("detail")
        texts = {k: data.get(k) for k in ("ts", "kind", "prev_hash", "hash")}
        # bool is an int subclass; `true` is no sequence number.
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise BadRecordError(f"audit record: seq must be an integer, got {seq!r}")
        if not isinstance(detail, dict):
            raise BadRecordError(f"audit record {seq}: detail must be an object")
        for key, text in texts.items():
            if not isinstance(text, str):
                raise BadRecordError(f"audit record {seq}: {key} must be a string")
        return cls(
            seq=seq,
            ts=texts["ts"],  # type: ignore[arg-type]  # checked just above
            kind=texts["kind"],  # type: ignore[arg-type]
            detail=detail,
            prev_hash=texts["prev_hash"],  # type: ignore[arg-type]
            hash=texts["hash"],  # type: ignore[arg-type]
        )


# --- keeping secrets out ------------------------------------------------------------------------


def _is_secret_key(key: str, extra: frozenset[str] = frozenset()) -> bool:
    norm = key.strip().lower().replace("-", "_")
    if norm in SECRET_KEYS or norm in extra:
        return True
    return any(norm.endswith(f"_{name}") for name in SECRET_KEYS)


def _scrub_url(match: re.Match[str]) -> str:
    rest = match["rest"]
    # The user:password part ends at the last `@` before the query: a password may hold a raw `/`
    # or `@` that a strict URL parser would not take as userinfo (over-redacting is the safe side).
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, cut)
    if at >= 0:
        rest = f"{REDACTED}@{rest[at + 1 :]}"

    def scrub_param(param: re.Match[str]) -> str:
        if _is_secret_key(param["name"], _SECRET_QUERY_KEYS):
            return f"{param['lead']}{REDACTED}"
        return param[0]

    return f"{match['scheme']}://{_QUERY_PARAM.sub(scrub_param, rest)}"


def _scrub_text(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _URL.sub(_scrub_url, text)
    # City input may carry lone surrogates (`"\ud800"` in JSON); they cannot be stored or hashed
    # as UTF-8, and an unstorable detail must not cost a record.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _sanitize_value(value: Any, secrets: Sequence[str], depth: int) -> Any:  # noqa: PLR0911
    if depth > _MAX_DEPTH:
        raise ValueError("audit detail is nested too deeply")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if value != value or value in {float("inf"), float("-inf")}:  # noqa: PLR0124  # NaN
            raise ValueError("audit detail holds a non-finite number")
        return value
    if isinstance(value, enum.Enum):
        return _sanitize_value(value.value, secrets, depth + 1)
    if isinstance(value, str):
        return _scrub_text(str(value), secrets)
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, Mapping):
        return _sanitize_mapping(value, secrets, depth + 1)
    if isinstance(value, list | tuple):
        return [_sanitize_value(item, secrets, depth + 1) for item in value]
    # repr() of an unknown object could carry anything (a config's token): refuse instead.
    raise TypeError(f"audit detail cannot hold a {type(value).__name__}")


def _sanitize_mapping(
    detail: Mapping[Any, Any], secrets: Sequence[str], depth: int
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for raw_key, value in detail.items():
        if isinstance(raw_key, bool) or not isinstance(raw_key, str | int):
            raise TypeError(f"audit detail keys must be strings, got {type(raw_key).__name__}")
        key = _scrub_text(str(raw_key), secrets)
        clean[key] = REDACTED if _is_secret_key(key) else _sanitize_value(value, secrets, depth)
    return clean


def sanitize(detail: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON-ready copy of `detail` with no secret in it.

    Values under secret keys (`SECRET_KEYS`, also as a suffix like `owner_token`) become `***`;
    credentials and credential-like query parameters in rtsp(s)/http(s) URLs anywhere in a string
    become `***`; so does every occurrence of the given secret strings. Tuples become lists,
    datetimes audit timestamps, enums their value. Raises TypeError for other objects and
    ValueError for NaN/infinity or cyclic/over-deep nesting.
    """
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
    return _sanitize_mapping(detail, ordered, 0)


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking a chain.

    `count` and `head` describe the intact prefix (all of it when `ok`); `head` is None when that
    prefix is empty. `first_bad` is the seq of the first record that does not belong, or the seq of
    the expected head that the chain does not contain.
    """

    ok: bool
    count: int
    head: tuple[int, str] | None
    first_bad: int | None


class ChainVerifier:
    """Checks records one at a time, so a large log verifies in constant memory."""

    def __init__(self, expected_head: tuple[int, str] | None = None) -> None:
        """`expected_head`: a (seq, hash) the chain must contain, e.g. the integration's copy."""
        self.expected_head = expected_head
        self.count = 0
        self.head: tuple[int, str] | None = None
        self.first_bad: int | None = None
        self._hash_at_expected: str | None = None

    def feed(self, record: AuditRecord) -> bool:
        """Take the next record; False (and stop taking more) once the chain is broken."""
        if self.first_bad is not None:
            return False
        prev_seq, prev_hash = self.head if self.head is not None else (0, GENESIS_HASH)
        if (
            record.seq != prev_seq + 1
            or record.prev_hash != prev_hash
            or record.computed_hash() != record.hash
        ):
            self.first_bad = record.seq
            return False
        self.count += 1
        self.head = (record.seq, record.hash)
        if self.expected_head is not None and record.seq == self.expected_head[0]:
            self._hash_at_expected = record.hash
        return True

    def mark_bad(self, seq: int) -> None:
        """Record `seq` as broken (e.g. a row that cannot even be read)."""
        if self.first_bad is None:
            self.first_bad = seq

    def result(self) -> VerifyResult:
        """The verdict so far."""
        if self.first_bad is not None:
            return VerifyResult(
                ok=False, count=self.count, head=self.head, first_bad=self.first_bad
            )
        if self.expected_head is not None:
            seq, hash_ = self.expected_head
            found = GENESIS_HASH if seq == 0 else self._hash_at_expected
            if found != hash_:
                return VerifyResult(ok=False, count=self.count, head=self.head, first_bad=seq)
        return VerifyResult(ok=True, count=self.count, head=self.head, first_bad=None)


def verify_records(
    records: Iterable[AuditRecord], head: tuple[int, str] | None = None
) -> VerifyResult:
    """Check that `records` form one whole chain from seq 1, and contain `head` when given.

    A head of `(0, GENESIS_HASH)` is contained by every chain (it is the empty log's head).
    """
    verifier = ChainVerifier(head)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.result()


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as printed by `audit verify`; ValueError when malformed."""
    seq_text, sep, hash_ = text.strip().partition(":")
    hash_ = hash_.lower()
    if not sep or not seq_text.isdecimal() or not re.fullmatch(r"[0-9a-f]{64}", hash_):
        raise ValueError(f"head must be SEQ:HASH with a 64-digit hex hash, got {text!r}")
    seq = int(seq_text)
    if seq == 0 and hash_ != GENESIS_HASH:
        raise ValueError("head 0 is the empty log, whose hash is 64 zeros")
    return seq, hash_


def format_head(head: tuple[int, str] | None) -> str:
    """`SEQ:HASH`; the empty log's head is `0:` and 64 zeros."""
    seq, hash_ = head if head is not None else (0, GENESIS_HASH)
    return f"{seq}:{hash_}"


# --- the log --------------------------------------------------------------------------------------


async def create_schema(conn: aiosqlite.Connection) -> None:
    """Create the `audit` table and its append-only triggers if missing, and commit."""
    for statement in _SCHEMA:
        await conn.execute(statement)
    await conn.commit()


class _BadRowError(Exception):
    def __init__(self, seq: int, why: str) -> None:
        super().__init__(f"audit record {seq} is unreadable: {why}")
        self.seq = seq


def _row_to_record(row: Sequence[Any]) -> AuditRecord:
    seq, ts, kind, detail_text, prev_hash, hash_ = row
    if not isinstance(detail_text, str):
        raise _BadRowError(seq, "detail is not text")
    try:
        detail = json.loads(detail_text)
    except ValueError:
        raise _BadRowError(seq, "detail is not JSON") from None
    data = {"seq": seq, "ts": ts, "kind": kind, "detail": detail}
    try:
        return AuditRecord.from_json({**data, "prev_hash": prev_hash, "hash": hash_})
    except BadRecordError as err:
        raise _BadRowError(seq, str(err)) from None


class AuditLog:
    """Appends to and reads the chain in the `audit` table of a connection owned by the caller.

    `append` commits: a record is durable once it returns. The caller must therefore not keep
    uncommitted changes of its own open across an `await` of `append`, or they get committed too.
    """

    def __init__(self, conn: aiosqlite.Connection, secrets: Iterable[str] = ()) -> None:
        """`secrets`: strings (the owner token, camera URLs) replaced wherever they appear."""
        self._conn = conn
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[AuditRecord], None]] = []
        self._secrets: set[str] = {s for s in secrets if s}

    async def setup(self) -> None:
        """Create the table if needed (see `create_schema`)."""
        await create_schema(self._conn)

    def add_secrets(self, *secrets: str) -> None:
        """More strings that must never be written to the log."""
        self._secrets.update(s for s in secrets if s)

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
        when = format_ts(ts if ts is not None else datetime.now(UTC))
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
                    f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
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
            f"SELECT {_COLUMNS} FROM audit ORDER BY seq DESC LIMIT 1"  # noqa: S608
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        try:
            return _row_to_record(row)
        except _BadRowError as err:
            raise AuditDatabaseError(str(err)) from None

    async def records(self, after: int = 0, limit: int = 1000) -> list[AuditRecord]:
        """Up to `limit` records with seq > `after`, oldest first."""
        if after < 0 or limit < 1:
            raise ValueError("after must be >= 0 and limit >= 1")
        async with self._conn.execute(
            f"SELECT {_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (after, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        try:
            return [_row_to_record(row) for row in rows]
        except _BadRowError as err:
            raise AuditDatabaseError(str(err)) from None

    async def verify(self, head: tuple[int, str] | None = None) -> VerifyResult:
        """Check the whole chain in this database (OWNER-API.md `GET /api/v1/audit/verify`)."""
        return await _verify_rows(_iter_rows(self._conn), head)


# --- reading a database file from outside (the CLI) ---------------------------------------------


async def _iter_rows(conn: aiosqlite.Connection) -> AsyncIterator[Sequence[Any]]:
    async with conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq") as cursor:  # noqa: S608
        async for row in cursor:
            yield row


async def _verify_rows(
    rows: AsyncIterator[Sequence[Any]], head: tuple[int, str] | None
) -> VerifyResult:
    verifier = ChainVerifier(head)
    async for row in rows:
        try:
            record = _row_to_record(row)
        except _BadRowError as err:
            verifier.mark_bad(err.seq)
            break
        if not verifier.feed(record):
            break
    return verifier.result()


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
            return await _verify_rows(_iter_rows(conn), head)
        except sqlite3.Error as err:
            raise AuditDatabaseError(f"cannot read the audit table: {err}") from None


async def export_database(data_dir: Path) -> AsyncGenerator[AuditRecord]:
    """Every record of `data_dir`'s database, oldest first, opened read-only.

    Use inside `contextlib.aclosing` when you may stop early, so the connection closes. Raises as
    `verify_database` does, and AuditDatabaseError at a record that cannot be read at all.
    """
    async with _open_readonly(data_dir) as conn:
        try:
            async for row in _iter_rows(conn):
                try:
                    yield _row_to_record(row)
                except _BadRowError as err:
                    raise AuditDatabaseError(str(err)) from None
        except sqlite3.Error as err:
            raise AuditDatabaseError(f"cannot read the audit table: {err}") from None
