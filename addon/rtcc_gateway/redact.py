"""Keeps secrets out of every log line and audit record the gateway writes (one place for it).

The secrets: the owner token, camera credentials, share links.

`Secrets` is the one register of secret strings: the gateway makes one, registers the owner token
and every camera source in it (and each pushed camera), and both writers read it: `sanitize`
cleans an audit detail (secret keys, URL credentials and credential-like query parameters, the
registered strings), `SecretFilter` a log record. `redact_url` cleans a URL shown to the owner.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from rtcc_gateway.audit_chain import format_ts

_MAX_DEPTH: Final = 32
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
_CREDENTIALS_IN_URL: Final = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """The URL with any user:password part replaced by `***`, for logs and the owner's views.

    Works on the text, not a parsed URL, so IPv6 brackets survive and a password containing `/`
    or `@` is still hidden (everything before the last `@` ahead of the query is user info: a
    strict parser would not take it so, and over-redacting is the safe side).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for stop in "?#":
        if stop in rest:
            end = min(end, rest.index(stop))
    authority_and_path = rest[:end]
    at = authority_and_path.rfind("@")
    if at < 0:
        return url
    return f"{scheme}://{REDACTED}@{rest[at + 1 :]}"


def _is_secret_key(key: str, extra: frozenset[str] = frozenset()) -> bool:
    norm = key.strip().lower().replace("-", "_")
    if norm in SECRET_KEYS or norm in extra:
        return True
    return any(norm.endswith(f"_{name}") for name in SECRET_KEYS)


def _scrub_param(param: re.Match[str]) -> str:
    if _is_secret_key(param["name"], _SECRET_QUERY_KEYS):
        return f"{param['lead']}{REDACTED}"
    return param[0]


def _scrub_url(match: re.Match[str]) -> str:
    scheme, _, rest = redact_url(f"{match['scheme']}://{match['rest']}").partition("://")
    return f"{scheme}://{_QUERY_PARAM.sub(_scrub_param, rest)}"


class Secrets:
    """The strings that must never be written, wherever they appear (audit records, log lines)."""

    def __init__(self, *secrets: str) -> None:
        self._all: set[str] = set()
        self._ordered: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Register more (empty strings are ignored)."""
        new = {s for s in secrets if s} - self._all
        if new:
            self._all |= new
            # Longest first, so a secret holding another is replaced whole.
            self._ordered = tuple(sorted(self._all, key=len, reverse=True))

    def ordered(self) -> tuple[str, ...]:
        """Every registered string, longest first."""
        return self._ordered

    def __contains__(self, text: object) -> bool:
        return text in self._all

    def __len__(self) -> int:
        return len(self._all)


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


def sanitize(detail: Mapping[str, Any], secrets: Secrets | Iterable[str] = ()) -> dict[str, Any]:
    """A JSON-ready copy of `detail` with no secret in it.

    Values under secret keys (`SECRET_KEYS`, also as a suffix like `owner_token`) become `***`;
    credentials and credential-like query parameters in rtsp(s)/http(s) URLs anywhere in a string
    become `***`; so does every occurrence of the given secret strings. Tuples become lists,
    datetimes audit timestamps, enums their value. Raises TypeError for other objects and
    ValueError for NaN/infinity or cyclic/over-deep nesting.
    """
    known = secrets if isinstance(secrets, Secrets) else Secrets(*secrets)
    return _sanitize_mapping(detail, known.ordered(), 0)


class SecretFilter(logging.Filter):
    """Cleans every log record that passes as `sanitize` cleans a string.

    Registered secrets, URL credentials and credential-like query parameters become `***`.
    """

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self._secrets = secrets

    def scrub(self, text: str) -> str:
        """Text with every registered secret and URL credential replaced by `***`."""
        return _CREDENTIALS_IN_URL.sub(
            r"\g<scheme>***@", _scrub_text(text, self._secrets.ordered())
        )

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, scrubbed, so arguments cannot smuggle a secret through."""
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True
