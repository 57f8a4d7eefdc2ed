"""The chain's head has one written form and one JSON form, read back by `parse_head`; a chain is
verified row by row, and the rows are closed when the verification stops."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest
from rtcc_gateway.audit_chain import (
    GENESIS_HASH,
    format_head,
    head_json,
    parse_head,
    verify_rows,
)

HASH = "ab" * 32


def test_a_head_is_written_seq_colon_hash_and_parsed_back() -> None:
    assert format_head((7, HASH)) == f"7:{HASH}"
    assert parse_head(format_head((7, HASH))) == (7, HASH)
    assert parse_head(f" 7:{HASH.upper()} ") == (7, HASH)


def test_the_empty_logs_head_is_zero_and_64_zeros() -> None:
    assert format_head(None) == f"0:{GENESIS_HASH}"
    assert parse_head(format_head(None)) == (0, GENESIS_HASH)
    with pytest.raises(ValueError, match="head 0 is the empty log"):
        parse_head(f"0:{HASH}")


@pytest.mark.parametrize("text", ["", "7", f"-1:{HASH}", "7:abc", f"\u0667:{HASH}", f"7:{HASH}0"])
def test_a_malformed_head_is_refused(text: str) -> None:
    # "\u0667" is ARABIC-INDIC DIGIT SEVEN: Python's int() takes it, the contract does not.
    with pytest.raises(ValueError, match="SEQ:HASH"):
        parse_head(text)


def test_the_owner_api_and_the_event_carry_the_same_json_head() -> None:
    assert head_json((7, HASH)) == {"seq": 7, "hash": HASH}
    assert head_json(None) is None


async def test_rows_a_verification_stops_reading_are_closed_before_it_returns() -> None:
    # Left open, the database cursor behind them was closed later, after its connection, and
    # failed ("Cannot operate on a closed database", seen once in five full runs).
    closed: list[bool] = []

    async def rows() -> AsyncGenerator[Sequence[Any]]:
        try:
            yield (1, "2026-12-01T00:00:00Z", "event", None, GENESIS_HASH, HASH)  # detail not text
            yield (2, "2026-12-01T00:00:01Z", "event", "{}", HASH, HASH)
        finally:
            closed.append(True)

    result = await verify_rows(rows(), None)
    assert (result.ok, result.first_bad) == (False, 1)
    assert closed == [True]
