"""The audit chain's records: their canonical hash, the verifier, the head format, the rows.

Every record is hash-chained to the one before it: `hash` is the SHA-256 of the canonical JSON of
`{seq, ts, kind, detail, prev_hash}` and `prev_hash` is the previous record's `hash` (64 zeros for
the first). Altering, removing or reordering a record breaks the chain; cutting off the tail is only
visible against a head (`seq`, `hash`) kept elsewhere, which is why the integration stores the
latest head it has seen (OWNER-API.md). A head is written `SEQ:HASH` (`format_head`) everywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import aiosqlite

GENESIS_HASH: Final = "0" * 64
"""The `prev_hash` of the first record, and the head hash of an empty log."""

COLUMNS: Final = "seq, ts, kind, detail, prev_hash, hash"


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
    # ASCII digits only: str.isdecimal() (and int()) also take other scripts' digits.
    seq_ok = seq_text.isascii() and seq_text.isdecimal()
    if not sep or not seq_ok or not re.fullmatch(r"[0-9a-f]{64}", hash_):
        raise ValueError(f"head must be SEQ:HASH with a 64-digit hex hash, got {text!r}")
    seq = int(seq_text)
    if seq == 0 and hash_ != GENESIS_HASH:
        raise ValueError("head 0 is the empty log, whose hash is 64 zeros")
    return seq, hash_


def head_json(head: tuple[int, str] | None) -> dict[str, Any] | None:
    """A head as the owner API and the audit_head event carry it: `{"seq", "hash"}` or null."""
    return None if head is None else {"seq": head[0], "hash": head[1]}


def format_head(head: tuple[int, str] | None) -> str:
    """`SEQ:HASH`; the empty log's head is `0:` and 64 zeros."""
    seq, hash_ = head if head is not None else (0, GENESIS_HASH)
    return f"{seq}:{hash_}"


class BadRowError(Exception):
    """A stored row that is not a record at all (not text, not JSON, a mistyped field)."""

    def __init__(self, seq: int, why: str) -> None:
        super().__init__(f"audit record {seq} is unreadable: {why}")
        self.seq = seq


def row_to_record(row: Sequence[Any]) -> AuditRecord:
    """The record a row of the `audit` table holds; BadRowError when it holds none."""
    seq, ts, kind, detail_text, prev_hash, hash_ = row
    if not isinstance(detail_text, str):
        raise BadRowError(seq, "detail is not text")
    try:
        detail = json.loads(detail_text)
    except ValueError:
        raise BadRowError(seq, "detail is not JSON") from None
    data = {"seq": seq, "ts": ts, "kind": kind, "detail": detail}
    try:
        return AuditRecord.from_json({**data, "prev_hash": prev_hash, "hash": hash_})
    except BadRecordError as err:
        raise BadRowError(seq, str(err)) from None


async def iter_rows(conn: aiosqlite.Connection) -> AsyncGenerator[Sequence[Any]]:
    """Every row of the `audit` table, oldest first.

    A reader that may stop early closes it (`contextlib.aclosing`) while `conn` is still open:
    left to the garbage collector, its cursor would be closed after the connection, and fail.
    """
    async with conn.execute(f"SELECT {COLUMNS} FROM audit ORDER BY seq") as cursor:  # noqa: S608
        async for row in cursor:
            yield row


async def verify_rows(
    rows: AsyncGenerator[Sequence[Any]], head: tuple[int, str] | None
) -> VerifyResult:
    """Verify a chain read row by row (constant memory); an unreadable row breaks it.

    `rows` is closed before this returns, whether it was read to the end or not.
    """
    verifier = ChainVerifier(head)
    async with contextlib.aclosing(rows):
        async for row in rows:
            try:
                record = row_to_record(row)
            except BadRowError as err:
                verifier.mark_bad(err.seq)
                break
            if not verifier.feed(record):
                break
    return verifier.result()
