"""The contract's signature rules (CITY-API.md): label, algorithm, components, window, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256, sha512
from typing import Any, Final, Literal

LABEL: Final = "sig1"
ALGORITHM: Final = "ed25519"
COMPONENTS: Final = ("@method", "@target-uri")
DIGEST_COMPONENT: Final = "content-digest"
WINDOW_S: Final = 300
NONCE_MAX_LENGTH: Final = 256
REQUIRED_PARAMS: Final = frozenset({"alg", "created", "keyid", "nonce"})
# `expires` is optional in RFC 9421; a client that sends it gets it honoured, nothing else is known.
ALLOWED_PARAMS: Final = REQUIRED_PARAMS | {"expires"}
DIGESTS: Final[dict[str, Callable[[bytes], Any]]] = {"sha-256": sha256, "sha-512": sha512}

type Reason = Literal[
    "missing",
    "malformed",
    "unknown_key",
    "bad_signature",
    "stale",
    "replayed",
    "digest_mismatch",
    "missing_digest",
]


class SignatureError(Exception):
    """A request's signature or digest was refused.

    `reason` is for machines (audit log, metrics); `detail` is safe to show the caller: it names
    the problem but never echoes keys, key ids or internal state.
    """

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail

    def __repr__(self) -> str:
        return f"SignatureError({self.reason!r}, {self.detail!r})"


class KeyFileError(Exception):
    """A private key file is missing, unreadable or not an Ed25519 PEM key."""


@dataclass(slots=True)
class Message:
    """The request as http-message-signatures reads it (method, absolute URL, headers)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
