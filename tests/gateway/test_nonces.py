"""Replay protection: a nonce is accepted once per agency within the signature window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from rtcc_gateway.nonces import InMemoryNonceStore, NonceStore, SqliteNonceStore
from rtcc_gateway.signature_rules import WINDOW_S

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NonceStore]:
    if request.param == "memory":
        yield InMemoryNonceStore()
        return
    conn = await aiosqlite.connect(tmp_path / "nonces.db")
    try:
        await SqliteNonceStore.create_schema(conn)
        yield SqliteNonceStore(conn)
    finally:
        await conn.close()


async def test_a_nonce_is_good_once(store: NonceStore) -> None:
    assert await store.check_and_remember("cpd", "n1", NOW, NOW)
    assert not await store.check_and_remember("cpd", "n1", NOW, NOW + timedelta(seconds=1))


async def test_each_agency_has_its_own_nonces(store: NonceStore) -> None:
    assert await store.check_and_remember("cpd", "n1", NOW, NOW)
    assert await store.check_and_remember("hcso", "n1", NOW, NOW)


async def test_a_nonce_is_forgotten_only_once_its_signature_would_be_stale(
    store: NonceStore,
) -> None:
    assert await store.check_and_remember("cpd", "n1", NOW, NOW)
    almost = NOW + timedelta(seconds=WINDOW_S - 1)
    assert not await store.check_and_remember("cpd", "n1", almost, almost)
    later = NOW + timedelta(seconds=WINDOW_S + 2)
    assert await store.check_and_remember("cpd", "n1", later, later)
