"""The city's side of signing: the headers `sign_request` adds, and Ed25519 key files."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from rtcc_gateway.signature_rules import KeyFileError
from rtcc_gateway.signing import (
    generate_private_key,
    load_private_key,
    new_nonce,
    private_key_pem,
    public_key_b64,
    sign_request,
)

KEY = generate_private_key()
CREATED = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC)


def test_a_body_is_covered_by_its_digest_and_a_bodiless_request_has_none() -> None:
    with_body = sign_request(
        method="post",
        url="https://gw.example/api/v1/requests",
        body=b"{}",
        key_id="jpd",
        private_key=KEY,
        created=CREATED,
        nonce="n-1",
    )
    assert with_body["Content-Digest"] == "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:"
    assert with_body["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest");created=1795723200;keyid="jpd";'
        'alg="ed25519";nonce="n-1"'
    )
    assert with_body["Signature"].startswith("sig1=:")
    bodiless = sign_request(
        method="GET",
        url="https://gw.example/api/v1/cameras",
        body=None,
        key_id="jpd",
        private_key=KEY,
        created=CREATED,
    )
    assert "Content-Digest" not in bodiless
    assert '("@method" "@target-uri");' in bodiless["Signature-Input"]


def test_nonces_are_128_random_bits_url_safe() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", n) for n in nonces)


def test_private_key_pem_round_trip(tmp_path: Path) -> None:
    key = generate_private_key()
    pem = private_key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    path = tmp_path / "city.pem"
    path.write_bytes(pem)
    loaded = load_private_key(path)
    assert public_key_b64(loaded) == public_key_b64(key) == public_key_b64(key.public_key())
    raw = base64.b64decode(public_key_b64(key), validate=True)
    assert raw == key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_load_private_key_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_private_key(tmp_path / "missing.pem")
    with pytest.raises(KeyFileError, match="is a directory"):
        load_private_key(tmp_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_private_key(garbage)
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    with pytest.raises(KeyFileError, match="not Ed25519"):
        load_private_key(ec_key)
