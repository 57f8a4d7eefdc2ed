"""Signing a city request and handling Ed25519 keys (the city's side, the CLI and the tests)."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from http_message_signatures import (
    HTTPMessageSigner,
    MappingKeyResolver,
    algorithms,
)

from rtcc_gateway.clock import utc_now
from rtcc_gateway.signature_rules import (
    COMPONENTS,
    LABEL,
    KeyFileError,
    Message,
)


def new_nonce() -> str:
    """128 random bits, URL-safe base64 without padding (22 characters)."""
    return secrets.token_urlsafe(16)


def sign_request(
    *,
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key: Ed25519PrivateKey,
    created: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request the way the gateway verifies it; return the headers to add.

    `url` is exactly the URL the request goes to (it is the signed `@target-uri`). The answer
    holds Signature-Input and Signature, and Content-Digest when `body` is not empty.
    """
    message = Message(method.upper(), url)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created or utc_now(),
        nonce=new_nonce() if nonce is None else nonce,
        label=LABEL,
        covered_component_ids=COMPONENTS,
        # Given a body, the package adds Content-Digest (sha-256) and covers it.
        body=body or None,
    )
    return dict(message.headers)


def generate_private_key() -> Ed25519PrivateKey:
    """A new Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (protect the file by its mode)."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key in standard base64, as the gateway's `public_key` wants it."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read an unencrypted PEM Ed25519 private key, or raise KeyFileError naming the problem."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"key file {file} does not exist") from None
    except IsADirectoryError:
        raise KeyFileError(f"key file {file} is a directory") from None
    except OSError as err:
        raise KeyFileError(f"cannot read key file {file}: {err.strerror or err}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(f"key file {file} is encrypted; an unencrypted key is needed") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"key file {file} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"key file {file} holds a key that is not Ed25519")
    return key
