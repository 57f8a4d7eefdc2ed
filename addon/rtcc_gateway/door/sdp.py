"""Session descriptions through the door.

Audio is taken out unless the owner allows it, and control URLs point at the door instead of the
camera.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FilteredSdp:
    """The SDP the viewer gets, and the track controls it must not set up."""

    text: str
    removed_controls: tuple[str, ...]
    video_tracks: int


def filter_sdp(sdp: str, *, keep_audio: bool, to_door: Callable[[str], str]) -> FilteredSdp:
    """Drop every non-video media section (unless `keep_audio`, then keep audio too).

    Absolute control URLs go through `to_door`, which points them at the door.
    """
    newline = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(newline)
    session: list[str] = []
    sections: list[list[str]] = []
    for line in lines:
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            session.append(line)
    kept: list[str] = []
    removed: list[str] = []
    video = 0
    for section in sections:
        kind = section[0][2:].split(" ", 1)[0]
        allowed = kind == "video" or (keep_audio and kind == "audio")
        controls = [
            ln[len("a=control:") :].strip() for ln in section if ln.startswith("a=control:")
        ]
        if allowed:
            video += kind == "video"
            kept.extend(section)
        else:
            removed.extend(controls)
    out = [to_door(ln) if ln.startswith("a=control:") else ln for ln in session + kept]
    text = newline.join(out)
    if not text.endswith(newline):
        text += newline
    return FilteredSdp(text=text, removed_controls=tuple(removed), video_tracks=video)
