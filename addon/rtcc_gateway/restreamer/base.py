"""The one small interface the gateway drives its restreamer through (ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What a share's stream is: named by the share's token, fed only from the owner's registry."""

    token: str = field(repr=False)
    source: str = field(repr=False)  # the registry camera's URL, never anything from the city
    share_audio: bool = False


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where a share's video comes from, as the door connects to it."""

    host: str
    port: int
    base: str = field(repr=False)  # the upstream URL without credentials
    tls: bool = False
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def upstream_from_url(url: str) -> Upstream:
    """An Upstream from an rtsp(s):// URL, credentials split off."""
    parts = urlsplit(url)
    tls = parts.scheme == "rtsps"
    port = parts.port or (322 if tls else 554)
    host = parts.hostname or ""
    # The base keeps the URL's own form (port written or not), minus the credentials.
    netloc = parts.netloc.rsplit("@", 1)[-1]
    base = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return Upstream(
        host=host,
        port=port,
        base=base.rstrip("/"),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class HttpUpstream(Protocol):
    """What the HTTP door needs from a restreamer that serves MP4 and HLS (go2rtc)."""

    def http_base(self) -> str:
        """The restreamer's loopback API base URL."""

    def http_authorization(self) -> str:
        """The `Authorization` header value for that API."""

    def mp4_query(self, token: str, share_audio: bool) -> str:
        """Query string for a share's MP4 (video only unless share_audio)."""

    def hls_query(self, token: str, share_audio: bool) -> str:
        """Query string for a share's HLS master playlist."""


class Restreamer(Protocol):
    """Adds and removes per-share streams.

    Cutting live viewers is the door's job, not this one's: go2rtc's DELETE leaves live sessions
    running (measured).
    """

    name: str

    async def start(self) -> None:
        """Get ready (start a child process, reconcile what it holds)."""

    async def add(self, spec: StreamSpec) -> None:
        """Make the stream for a live share available to the door."""

    async def remove(self, token: str) -> None:
        """Forget the stream of a share that ended (idempotent)."""

    async def reconcile(self, live: set[str]) -> None:
        """Remove every stream whose token is not in `live` (after a start or restart)."""

    async def stop(self) -> None:
        """Release everything."""

    def rtsp_upstream(self, token: str) -> Upstream | None:
        """Where the RTSP door connects a viewer of this live share (None: not live here)."""

    def http_upstream(self) -> HttpUpstream | None:
        """Where the HTTP door gets MP4 and HLS (None: this backend serves RTSP only)."""
