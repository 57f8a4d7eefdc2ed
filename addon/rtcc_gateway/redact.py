"""Keeps secrets (the owner token, camera credentials) out of every log line the gateway writes."""

from __future__ import annotations

import logging
import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

_CREDENTIALS_IN_URL: Final = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """The URL with any user:password part replaced, for logs and the owner's views."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class SecretFilter(logging.Filter):
    """Replaces known secret strings and URL credentials in every record that passes."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        """Register more strings that must never be logged."""
        self._secrets.update(s for s in secrets if s)

    def scrub(self, text: str) -> str:
        """Text with every registered secret and URL credential replaced by `***`."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return _CREDENTIALS_IN_URL.sub(r"\g<scheme>***@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, scrubbed, so arguments cannot smuggle a secret through."""
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True
