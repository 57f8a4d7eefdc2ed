"""RFC 9421 request signatures: what verify_request accepts, what it refuses and why."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
)
from multidict import CIMultiDict
from rtcc_gateway.config import Agency
from rtcc_gateway.signatures import (
    InMemoryNonceStore,
    NonceStore,
    SignatureError,
    SqliteNonceStore,
    verify_request,
)
from rtcc_gateway.signing import sign_request

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
AGENCY = Agency(
    id="jpd",
    name="Jackson Police Department",
    public_key=KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    rate_limit_per_minute=30,
)
AGENCIES = {AGENCY.id: AGENCY}
BASE = "https://home.example.net:8443"
PATH = "/api/v1/requests"
URL = BASE + PATH
BODY = b'{"incident_id":"JPD-2026-001234","offense":"burglary"}'
NOW = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC)


def sign(
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    key: Ed25519PrivateKey = KEY,
    key_id: str = "jpd",
    created: datetime = NOW,
    nonce: str | None = None,
) -> dict[str, str]:
    return sign_request(
        method=method,
        url=url,
        body=body,
        key_id=key_id,
        private_key=key,
        created=created,
        nonce=nonce,
    )


async def verify(
    headers: Any,
    *,
    method: str = "POST",
    target_uri: str = URL,
    body: bytes = BODY,
    nonces: NonceStore | None = None,
    now: datetime = NOW,
) -> Agency:
    return await verify_request(
        method=method,
        target_uri=target_uri,
        headers=headers,
        body=body,
        agencies=AGENCIES,
        nonces=nonces if nonces is not None else InMemoryNonceStore(),
        now=now,
    )


async def refused(headers: Any, **kwargs: Any) -> SignatureError:
    with pytest.raises(SignatureError) as info:
        await verify(headers, **kwargs)
    return info.value


# --- accepted --------------------------------------------------------------------------------


async def test_a_signed_request_with_a_body_verifies() -> None:
    headers = sign()
    assert set(headers) == {"Signature-Input", "Signature", "Content-Digest"}
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri" "content-digest")')
    assert 'alg="ed25519"' in headers["Signature-Input"]
    assert 'keyid="jpd"' in headers["Signature-Input"]
    assert f";created={int(NOW.timestamp())}" in headers["Signature-Input"]
    assert await verify(headers) is AGENCY


async def test_a_signed_request_without_a_body_verifies() -> None:
    url = f"{BASE}/api/v1/requests/req_1?wait=5"
    for body in (None, b""):
        headers = sign(method="GET", url=url, body=body)
        assert set(headers) == {"Signature-Input", "Signature"}
        assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri");')
        assert await verify(headers, method="GET", target_uri=url, body=b"") is AGENCY


def test_nonces_are_128_bit_url_safe_and_fresh() -> None:
    nonces = {
        re.search(r'nonce="([^"]*)"', sign()["Signature-Input"]).group(1)  # type: ignore[union-attr]
        for _ in range(50)
    }
    assert len(nonces) == 50
    for nonce in nonces:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", nonce)
        assert len(base64.urlsafe_b64decode(nonce + "==")) == 16


async def test_header_names_are_case_insensitive() -> None:
    headers = sign()
    lower = {name.lower(): value for name, value in headers.items()}
    upper = {name.upper(): value for name, value in headers.items()}
    assert await verify(lower) is AGENCY
    assert await verify(upper) is AGENCY
    assert await verify(CIMultiDict(sign())) is AGENCY


async def test_created_exactly_at_the_edge_of_the_window_is_fresh() -> None:
    for skew in (-300, 300):
        assert await verify(sign(), now=NOW + timedelta(seconds=skew)) is AGENCY


# --- refused -----------------------------------------------------------------------------------


async def test_missing_signature_headers() -> None:
    assert (await refused({})).reason == "missing"
    headers = sign()
    for name in ("Signature-Input", "Signature"):
        partial = {k: v for k, v in headers.items() if k != name}
        error = await refused(partial)
        assert error.reason == "missing"
        assert name in error.detail


def _edit_input(old: str, new: str) -> dict[str, str]:
    headers = sign()
    assert old in headers["Signature-Input"]
    headers["Signature-Input"] = headers["Signature-Input"].replace(old, new)
    return headers


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("sig1=(", "sig1=(("),  # not a structured field
        ("sig1=", "sig2="),  # wrong label
        ('alg="ed25519"', 'alg="rsa-pss-sha512"'),
        ('alg="ed25519"', "alg=ed25519"),  # a token, not a string
        (';alg="ed25519"', ""),
        (";created=", ";x="),  # created missing (and an unknown parameter)
        (";nonce=", ";tag="),
        (";created=", ";created=?1;y="),  # created a boolean
        ('keyid="jpd"', "keyid=jpd"),
        ('"@target-uri" ', ""),  # @target-uri not covered
        ('"@method" ', '"@method" "@authority" '),  # an extra component
        ('"@method" ', '"@method";req '),  # component with parameters
        ('"@method" ', '"@method" "@method" '),  # duplicate component
    ],
)
async def test_malformed_signature_input(old: str, new: str) -> None:
    error = await refused(_edit_input(old, new))
    assert error.reason == "malformed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Signature", "sig1=not-bytes"),
        ("Signature", "sig1=:AAAA:, sig2=:AAAA:"),
        ("Content-Digest", "sha-256=nope"),
        ("Content-Digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:"),  # a foreign digest
    ],
)
async def test_a_malformed_signature_or_digest_field(field: str, value: str) -> None:
    headers = sign()
    headers[field] = value
    assert (await refused(headers)).reason == "malformed"


async def test_unknown_key_id() -> None:
    error = await refused(sign(key_id="nowhere-pd"))
    assert error.reason == "unknown_key"
    assert "nowhere-pd" not in error.detail  # the caller's input is not echoed


async def test_signed_with_another_key_under_the_right_key_id() -> None:
    assert (await refused(sign(key=OTHER_KEY))).reason == "bad_signature"


async def test_a_corrupted_signature_value() -> None:
    headers = sign()
    headers["Signature"] = "sig1=:" + base64.b64encode(b"\0" * 64).decode() + ":"
    assert (await refused(headers)).reason == "bad_signature"


async def test_a_tampered_body_does_not_match_the_digest() -> None:
    error = await refused(sign(), body=BODY.replace(b"burglary", b"robbery!"))
    assert error.reason == "digest_mismatch"


async def test_a_replaced_digest_breaks_the_signature() -> None:
    other = b'{"incident_id":"X"}'
    headers = sign()
    headers["Content-Digest"] = sign(body=other)["Content-Digest"]
    assert (await refused(headers, body=other)).reason == "bad_signature"


async def test_a_body_without_a_digest() -> None:
    error = await refused(sign(body=None))
    assert error.reason == "missing_digest"


async def test_a_body_whose_digest_is_not_covered() -> None:
    headers = sign(body=None)
    headers["Content-Digest"] = sign()["Content-Digest"]  # right digest, but not signed
    error = await refused(headers)
    assert error.reason == "missing_digest"


@pytest.mark.parametrize(
    ("method", "target_uri"),
    [
        ("PUT", URL),  # method
        ("POST", BASE + "/api/v1/cameras"),  # path
        ("POST", URL + "?wait=60"),  # query added
        ("POST", "https://other.example.net:8443" + PATH),  # host
    ],
)
async def test_tampered_method_or_target(method: str, target_uri: str) -> None:
    error = await refused(sign(), method=method, target_uri=target_uri)
    assert error.reason == "bad_signature"


async def test_tampered_query() -> None:
    headers = sign(method="GET", url=URL + "/req_1?wait=5", body=None)
    error = await refused(headers, method="GET", target_uri=URL + "/req_1?wait=50", body=b"")
    assert error.reason == "bad_signature"


@pytest.mark.parametrize("skew_s", [-301, 301, 3600, -86400])
async def test_stale_or_future_created(skew_s: int) -> None:
    # created = NOW; the gateway's clock is NOW + skew (so -301 is a signature from the future).
    error = await refused(sign(), now=NOW + timedelta(seconds=skew_s))
    assert error.reason == "stale"


async def test_an_expired_signature() -> None:
    headers = _edit_input(";nonce=", f";expires={int(NOW.timestamp()) - 1};nonce=")
    assert (await refused(headers)).reason == "stale"


async def test_a_replayed_nonce() -> None:
    store = InMemoryNonceStore()
    headers = sign()
    assert await verify(headers, nonces=store) is AGENCY
    error = await refused(headers, nonces=store, now=NOW + timedelta(seconds=10))
    assert error.reason == "replayed"
    # A fresh signature reusing the nonce is a replay too.
    again = sign(nonce=_nonce_of(headers), created=NOW + timedelta(seconds=5))
    assert (await refused(again, nonces=store)).reason == "replayed"


async def test_a_refused_request_does_not_spend_its_nonce() -> None:
    store = InMemoryNonceStore()
    bad = sign(key=OTHER_KEY, nonce="shared-nonce-0001")
    assert (await refused(bad, nonces=store)).reason == "bad_signature"
    assert len(store) == 0
    assert await verify(sign(nonce="shared-nonce-0001"), nonces=store) is AGENCY


async def test_nonces_are_per_agency() -> None:
    store = InMemoryNonceStore()
    created = NOW
    assert await store.check_and_remember("jpd", "n-1", created, NOW)
    assert await store.check_and_remember("hpd", "n-1", created, NOW)
    assert not await store.check_and_remember("jpd", "n-1", created, NOW)


def _nonce_of(headers: dict[str, str]) -> str:
    match = re.search(r'nonce="([^"]*)"', headers["Signature-Input"])
    assert match is not None
    return match.group(1)


# --- the SQLite nonce store ----------------------------------------------------------------------


async def test_a_replay_after_a_gateway_restart(tmp_path: Path) -> None:
    db = tmp_path / "gateway.sqlite"
    headers = sign()
    async with aiosqlite.connect(db) as conn:
        await SqliteNonceStore.create_schema(conn)
        assert await verify(headers, nonces=SqliteNonceStore(conn)) is AGENCY
    # "Restart": a new connection and a new store on the same file.
    async with aiosqlite.connect(db) as conn:
        await SqliteNonceStore.create_schema(conn)
        store = SqliteNonceStore(conn)
        error = await refused(headers, nonces=store, now=NOW + timedelta(seconds=60))
        assert error.reason == "replayed"


async def test_sqlite_store_purges_nonces_older_than_the_window(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "gateway.sqlite") as conn:
        await SqliteNonceStore.create_schema(conn)
        store = SqliteNonceStore(conn)
        assert await store.check_and_remember("jpd", "old", NOW, NOW)
        assert await store.check_and_remember("jpd", "recent", NOW + timedelta(seconds=200), NOW)
        assert not await store.check_and_remember("jpd", "old", NOW, NOW + timedelta(seconds=300))
        # Purges run at most once a minute (purge_every_s); the next one is due here.
        later = NOW + timedelta(seconds=400)
        assert await store.check_and_remember("jpd", "new", later, later)
        async with conn.execute("SELECT nonce FROM nonces ORDER BY nonce") as cursor:
            rows = [row[0] for row in await cursor.fetchall()]
        assert rows == ["new", "recent"]


async def test_sqlite_store_takes_over_an_expired_unpurged_nonce(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "gateway.sqlite") as conn:
        await SqliteNonceStore.create_schema(conn)
        store = SqliteNonceStore(conn, purge_every_s=10_000)
        assert await store.check_and_remember("jpd", "n", NOW, NOW)
        later = NOW + timedelta(seconds=400)
        # Not purged yet (purge_every_s), but older than the window: no longer a replay.
        assert await store.check_and_remember("jpd", "n", later, later)
        assert not await store.check_and_remember("jpd", "n", later, later)


async def test_in_memory_store_purges_nonces_older_than_the_window() -> None:
    store = InMemoryNonceStore()
    assert await store.check_and_remember("jpd", "old", NOW, NOW)
    later = NOW + timedelta(seconds=301)
    assert await store.check_and_remember("jpd", "new", later, later)
    assert len(store) == 1


async def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await verify(sign(), now=NOW.replace(tzinfo=None))
