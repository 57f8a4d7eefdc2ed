"""Authenticating the door to a camera (Basic and Digest, RFC 7617 / RFC 7616 as RTSP uses them).

Small and written here because the door speaks RTSP itself; HTTP client libraries only do this
for HTTP requests they send themselves.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Final

_PARAM: Final = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES: Final = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class UpstreamAuthError(Exception):
    """The camera wants a scheme we cannot answer, or refused the credentials."""


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Digest realm="x", nonce="y"` -> ("digest", {"realm": "x", "nonce": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return scheme.lower(), params


@dataclass(slots=True)
class UpstreamAuth:
    """Credentials of one camera and the challenge it last sent."""

    username: str
    password: str = field(repr=False)
    scheme: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    _nc: int = 0

    def learn(self, challenges: list[str]) -> None:
        """Pick the strongest challenge we can answer (Digest SHA-256 > Digest MD5 > Basic)."""
        parsed = [parse_challenge(c) for c in challenges]
        digests = [p for s, p in parsed if s == "digest"]
        digests.sort(key=lambda p: p.get("algorithm", "MD5").upper() != "SHA-256")
        usable = [p for p in digests if p.get("algorithm", "MD5").upper() in _HASHES]
        if usable:
            self.scheme, self.params, self._nc = "digest", usable[0], 0
        elif any(s == "basic" for s, _ in parsed):
            self.scheme, self.params = "basic", {}
        else:
            raise UpstreamAuthError("the camera asks for an authentication scheme the door lacks")

    def header(self, method: str, uri: str) -> str | None:
        """The Authorization header for a request, once a challenge was learned."""
        if self.scheme == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if self.scheme != "digest":
            return None
        algorithm = self.params.get("algorithm", "MD5").upper()
        digest = _HASHES[algorithm]

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        realm, nonce = self.params.get("realm", ""), self.params.get("nonce", "")
        ha1 = h(f"{self.username}:{realm}:{self.password}")
        ha2 = h(f"{method}:{uri}")
        parts = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
        ]
        qops = [q.strip() for q in self.params.get("qop", "").split(",") if q.strip()]
        if "auth" in qops:
            self._nc += 1
            nc = f"{self._nc:08x}"
            cnonce = secrets.token_hex(8)
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = h(f"{ha1}:{nonce}:{ha2}")
        parts.append(f'response="{response}"')
        if "opaque" in self.params:
            parts.append(f'opaque="{self.params["opaque"]}"')
        if "algorithm" in self.params:
            parts.append(f"algorithm={self.params['algorithm']}")
        return "Digest " + ", ".join(parts)
