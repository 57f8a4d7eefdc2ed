"""What both doors are told of a share they may serve (the gateway's DoorGate answers with it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ShareAdmission:
    """A live, uncut share of a camera: what its viewers are counted and recorded under."""

    token: str = field(repr=False)
    share_id: str
    request_id: str
    camera_id: str
    share_audio: bool
