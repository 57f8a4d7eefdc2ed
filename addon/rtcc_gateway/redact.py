"""Keeps secrets (the owner token, camera credentials) out of every log line the gateway writes."""

from __future__ import annotations

import logging
import re
from typing import Final

_CREDENTIALS_IN_URL: Final = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """The URL with any user:password part replaced by `***`, for logs and the owner's views.

    Works on the text, not a parsed URL, so IPv6 brackets survive and a password containing `/`
    or `@` is still hidden (everything before the authority's last `@` is user info).
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
    return f"{scheme}://***@{rest[at + 1 :]}"


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


# The process-wide filter: `rtcc-gateway serve` installs it on the log handler, and whatever learns
# a new secret at run time (a pushed camera URL) registers it here.
LOG_SECRETS = SecretFilter()
