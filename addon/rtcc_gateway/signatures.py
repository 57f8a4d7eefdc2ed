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

import base64
import hmac
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256, sha512
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, override

import http_sf
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
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import aiosqlite

    from .config import Agency

LABEL: Final = "sig1"
ALGORITHM: Final = "ed25519"
COMPONENTS: Final = ("@method", "@target-uri")
DIGEST_COMPONENT: Final = "content-digest"
WINDOW_S: Final = 300
NONCE_MAX_LENGTH: Final = 256
_REQUIRED_PARAMS: Final = frozenset({"alg", "created", "keyid", "nonce"})
# `expires` is optional in RFC 9421; a client that sends it gets it honoured, nothing else is known.
_ALLOWED_PARAMS: Final = _REQUIRED_PARAMS | {"expires"}
_DIGESTS: Final[dict[str, Callable[[bytes], Any]]] = {"sha-256": sha256, "sha-512": sha512}

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


# --- replay protection -------------------------------------------------------------------------


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


# --- verification ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Message:
    """The request as http-message-signatures reads it (method, absolute URL, headers)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


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
    missing = _REQUIRED_PARAMS - set(params)
    if missing:
        raise SignatureError(
            "malformed", f"Signature-Input lacks the parameter(s) {', '.join(sorted(missing))}"
        )
    if set(params) - _ALLOWED_PARAMS:
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
        hasher = _DIGESTS.get(algorithm)
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
            _Message(method, target_uri, fields), max_age=None, require_components=COMPONENTS
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


# --- signing and keys --------------------------------------------------------------------------


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
    message = _Message(method.upper(), url)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created or datetime.now(UTC),
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
