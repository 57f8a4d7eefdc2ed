"""What both doors are told of a share they may serve (the gateway's DoorGate answers with it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ShareAdmission:
    """A live, uncut share of a camera: what its viewers are counted and recorded under."""

    token: str = field(repr=False)
    share_id: str
    request_id: str
    camera_id: str
    share_audio: bool


class DoorCut:
    """How a door ends one viewer's stream, and whether the end was the door's own cut.

    The stream's end that follows a cut (the share ended) is the door's doing, not a lost camera.
    """

    __slots__ = ("by_door", "close")

    def __init__(self, close: Callable[[], None]) -> None:
        self.close = close
        self.by_door = False

    def cut(self) -> None:
        """The share ended: close the stream, and remember that its end is ours."""
        self.by_door = True
        self.close()
