"""RFC 9421 HTTP message signatures (Ed25519) for the city API, and the replay check.

The contract is CITY-API.md, "Authentication: signed requests": label `sig1`, `alg="ed25519"`,
`keyid` = the agency's id, covered components `"@method" "@target-uri"` plus `"content-digest"`
(RFC 9530, sha-256) when there is a body, and the parameters `created` and `nonce` required.

`verify_request` does the contract's checks in a fixed order so that the cheap, unauthenticated
ones come first and a nonce is only remembered for a request whose signature holds. The
cryptography itself (signature base, Ed25519) is the `http-message-signatures` package's; this
module adds the policy the package leaves to its caller: which label, components and parameters are
acceptable, freshness against an injected clock, the digest requirement, and replay detection.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, override

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from rtcc_gateway.config import Agency
from rtcc_gateway.nonces import (
    InMemoryNonceStore,
    NonceStore,
    SqliteNonceStore,
)
from rtcc_gateway.signature_rules import (
    ALGORITHM,
    ALLOWED_PARAMS,
    COMPONENTS,
    DIGEST_COMPONENT,
    DIGESTS,
    LABEL,
    NONCE_MAX_LENGTH,
    REQUIRED_PARAMS,
    WINDOW_S,
    KeyFileError,
    Message,
    Reason,
    SignatureError,
)

__all__ = [
    "ALGORITHM",
    "ALLOWED_PARAMS",
    "COMPONENTS",
    "DIGESTS",
    "DIGEST_COMPONENT",
    "LABEL",
    "NONCE_MAX_LENGTH",
    "REQUIRED_PARAMS",
    "WINDOW_S",
    "InMemoryNonceStore",
    "KeyFileError",
    "NonceStore",
    "Reason",
    "SignatureError",
    "SqliteNonceStore",
    "verify_request",
]


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SignatureInput:
    components: tuple[str, ...]
    key_id: str
    created: int
    nonce: str
    expires: int | None


class _Verifier(HTTPMessageVerifier):
    """The package's verifier without its own clock checks: ours use the caller's `now`."""

    @override
    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


def _fields(headers: Mapping[str, str]) -> dict[str, str]:
    """Header fields by lowercase name; repeated lines joined with ", " as RFC 9110 allows."""
    out: dict[str, str] = {}
    for name, raw in headers.items():
        key, value = name.lower(), raw.strip(" \t")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _reject_duplicate(key: str, context: str) -> None:
    if context == "dictionary":
        raise ValueError(f"duplicate key {key}")


def _dictionary(value: str, name: str) -> dict[str, Any]:
    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate
        )
    except (ValueError, UnicodeEncodeError):
        raise SignatureError("malformed", f"{name} is not a valid structured field") from None
    if not isinstance(parsed, dict):  # pragma: no cover - tltype="dictionary" guarantees it
        raise SignatureError("malformed", f"{name} is not a valid structured field")
    return parsed


def _parse_signature(fields: Mapping[str, str]) -> _SignatureInput:
    for name, title in (("signature-input", "Signature-Input"), ("signature", "Signature")):
        if name not in fields:
            raise SignatureError("missing", f"the request carries no {title} header")
    inputs = _dictionary(fields["signature-input"], "Signature-Input")
    signatures = _dictionary(fields["signature"], "Signature")
    if set(inputs) != {LABEL} or set(signatures) != {LABEL}:
        raise SignatureError("malformed", f"expected exactly one signature, labelled {LABEL}")
    # The package verifies the signature bytes; only their shape is checked here.
    signature, signature_params = _split(signatures[LABEL])
    if not isinstance(signature, bytes) or signature_params:
        raise SignatureError("malformed", "Signature sig1 is not a byte sequence")
    members, params = _split(inputs[LABEL])
    return _with_params(_components(members), params)


def _components(members: Any) -> tuple[str, ...]:
    if not isinstance(members, list):
        raise SignatureError("malformed", "Signature-Input sig1 is not a list of components")
    components: list[str] = []
    for member in members:
        value, item_params = _split(member)
        if not isinstance(value, str) or item_params:
            raise SignatureError("malformed", "Signature-Input lists an unexpected component")
        components.append(value)
    allowed = {*COMPONENTS, DIGEST_COMPONENT}
    if len(set(components)) != len(components) or not set(COMPONENTS) <= set(components) <= allowed:
        raise SignatureError(
            "malformed", 'the signature must cover "@method" "@target-uri" (and "content-digest")'
        )
    return tuple(components)


def _with_params(components: tuple[str, ...], params: dict[str, Any]) -> _SignatureInput:
    missing = REQUIRED_PARAMS - set(params)
    if missing:
        raise SignatureError(
            "malformed", f"Signature-Input lacks the parameter(s) {', '.join(sorted(missing))}"
        )
    if set(params) - ALLOWED_PARAMS:
        raise SignatureError("malformed", "Signature-Input has an unexpected parameter")
    alg, key_id, nonce = params["alg"], params["keyid"], params["nonce"]
    created, expires = params["created"], params.get("expires")
    # Strings only: http_sf's Token compares equal to a str, and a token is not a valid `alg`.
    if not isinstance(alg, str) or alg != ALGORITHM:
        raise SignatureError("malformed", f'the signature algorithm must be "{ALGORITHM}"')
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("malformed", "keyid must be a non-empty string")
    if not isinstance(nonce, str) or not 1 <= len(nonce) <= NONCE_MAX_LENGTH:
        raise SignatureError("malformed", f"nonce must be a string of 1-{NONCE_MAX_LENGTH} chars")
    # bool is an int in Python but `?1` is not an Integer in structured fields.
    if type(created) is not int or (expires is not None and type(expires) is not int):
        raise SignatureError("malformed", "created and expires must be integers (Unix time)")
    return _SignatureInput(components, key_id, created, nonce, expires)


def _split(member: Any) -> tuple[Any, dict[str, Any]]:
    """http_sf gives every member and item as (value, parameters)."""
    if isinstance(member, tuple) and len(member) == 2 and isinstance(member[1], dict):  # noqa: PLR2004
        return member[0], member[1]
    return member, {}


def _check_digest(fields: Mapping[str, str], body: bytes, sig: _SignatureInput) -> None:
    covered = DIGEST_COMPONENT in sig.components
    if not body and not covered:
        return
    if "content-digest" not in fields:
        raise SignatureError("missing_digest", "the request has a body but no Content-Digest")
    if not covered:
        raise SignatureError("missing_digest", "the signature does not cover Content-Digest")
    # The package's ContentDigest.verify raises one exception for both a malformed field and a
    # wrong digest; the contract tells them apart, so the few lines of RFC 9530 are done here.
    digests = _dictionary(fields["content-digest"], "Content-Digest")
    if "sha-256" not in digests:
        raise SignatureError("malformed", "Content-Digest has no sha-256 member")
    for algorithm, member in digests.items():
        value, _ = _split(member)
        hasher = DIGESTS.get(algorithm)
        if hasher is None or not isinstance(value, bytes):
            raise SignatureError("malformed", "Content-Digest has an unsupported member")
        if not hmac.compare_digest(value, hasher(body).digest()):
            raise SignatureError("digest_mismatch", "Content-Digest does not match the body")


@lru_cache(maxsize=256)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def _check_signature(
    method: str, target_uri: str, fields: dict[str, str], agency: Agency, key_id: str
) -> None:
    try:
        key = _public_key(agency.public_key)
        verifier = _Verifier(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys={key_id: key}, private_keys={}),
        )
        verifier.verify(
            Message(method, target_uri, fields), max_age=None, require_components=COMPONENTS
        )
    except (HTTPMessageSignaturesException, ValueError):
        raise SignatureError("bad_signature", "the signature does not verify") from None


async def verify_request(
    *,
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes,
    agencies: Mapping[str, Agency],
    nonces: NonceStore,
    now: datetime,
    max_skew_s: int = WINDOW_S,
) -> Agency:
    """Verify a signed city request and remember its nonce; return the agency that signed it.

    `target_uri` is the gateway's public base URL (no trailing slash) + the raw path and query as
    received. `now` must be timezone-aware. Raises SignatureError; on any failure the nonce is
    not remembered.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    fields = _fields(headers)
    sig = _parse_signature(fields)
    agency = agencies.get(sig.key_id)
    if agency is None:
        raise SignatureError("unknown_key", "the keyid names no agency known to this gateway")
    now_ts = now.timestamp()
    if abs(now_ts - sig.created) > max_skew_s:
        raise SignatureError(
            "stale", f"the signature was created more than {max_skew_s} s from the gateway's clock"
        )
    if sig.expires is not None and sig.expires < now_ts:
        raise SignatureError("stale", "the signature has expired")
    _check_digest(fields, body, sig)
    _check_signature(method, target_uri, fields, agency, sig.key_id)
    created = datetime.fromtimestamp(sig.created, tz=UTC)
    if not await nonces.check_and_remember(agency.id, sig.nonce, created, now):
        raise SignatureError("replayed", "this nonce was already used")
    return agency
