"""The one small interface the gateway drives its restreamer through (ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What a share's stream is: named by the share's token, fed only from the owner's registry."""

    token: str = field(repr=False)
    source: str = field(repr=False)  # the registry camera's URL, never anything from the city
    share_audio: bool = False


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
