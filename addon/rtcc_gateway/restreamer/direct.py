"""The `direct` backend: no restreamer process.

The RTSP door connects each viewer straight to the camera's own URL; this class only keeps the
token -> source map the door reads.
"""

from __future__ import annotations

from rtcc_gateway.restreamer.base import HttpUpstream, StreamSpec, Upstream, upstream_from_url


class DirectRestreamer:
    """Keeps which tokens are live and where their video comes from."""

    name = "direct"

    def __init__(self) -> None:
        self._streams: dict[str, StreamSpec] = {}

    async def start(self) -> None:
        """Nothing to start."""

    async def add(self, spec: StreamSpec) -> None:
        """Remember the live share's source."""
        self._streams[spec.token] = spec

    async def remove(self, token: str) -> None:
        """Forget it."""
        self._streams.pop(token, None)

    async def reconcile(self, live: set[str]) -> None:
        """Drop anything not live."""
        for token in set(self._streams) - live:
            del self._streams[token]

    async def stop(self) -> None:
        """Forget everything."""
        self._streams.clear()

    def http_upstream(self) -> HttpUpstream | None:
        """No MP4 or HLS without a restreamer process."""
        return None

    def rtsp_upstream(self, token: str) -> Upstream | None:
        """The camera itself: the door connects and authenticates to it."""
        spec = self._streams.get(token)
        return None if spec is None else upstream_from_url(spec.source)
