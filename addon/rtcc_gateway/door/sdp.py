"""Session descriptions through the door, written by the door.

The viewer gets a description built from an allow-list: the door's own origin, session name and
connection lines (so the camera's address and name never appear), only video sections (and
audio ones when the owner shares audio), only the attributes a decoder needs, and the door's own
control names (`track0`, `track1`, ...). What each of those names means upstream stays here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

SESSION_LINES: Final = (
    "v=0",
    "o=- 0 0 IN IP4 0.0.0.0",
    "s=rtcc_share",
    "c=IN IP4 0.0.0.0",
    "t=0 0",
)
MEDIA_PROTOCOLS: Final = frozenset({"RTP/AVP", "RTP/AVPF"})
# What a player needs to decode a track; anything else (tool, ssrc cname, clocks, key management,
# URIs, e-mail, phone, connection lines) stays home.
MEDIA_ATTRIBUTES: Final = frozenset(
    {"rtpmap", "fmtp", "framerate", "framesize", "x-dimensions", "x-framerate", "rtcp-fb"}
)
DIRECTIONS: Final = frozenset({"recvonly", "sendonly", "sendrecv", "inactive"})

_MEDIA: Final = re.compile(r"m=([a-z]+) \d+(?:/\d+)? (\S+)((?: \d{1,3})+)")
_BANDWIDTH: Final = re.compile(r"b=[A-Za-z\-]+:\d{1,9}")
_RANGE: Final = re.compile(r"a=range:npt=[0-9.:]*(?:now)?-[0-9.:]*")
_PRINTABLE: Final = re.compile(r"[\x20-\x7e]*")
_CONTROL: Final = re.compile(r"[\x21-\x7e]+")


def door_control(index: int) -> str:
    """The control name the door publishes for its `index`-th track."""
    return f"track{index}"


@dataclass(frozen=True, slots=True)
class Track:
    """A track the viewer may set up: its kind and the upstream's control attribute for it."""

    kind: str
    upstream_control: str  # "" when the upstream gave the section none (the aggregate URL)


@dataclass(frozen=True, slots=True)
class FilteredSdp:
    """The description the viewer gets, and what its track names mean upstream."""

    text: str
    tracks: tuple[Track, ...]
    session_control: str  # the upstream's session-level control ("" for none or "*")

    @property
    def controls(self) -> tuple[str, ...]:
        """The door's control names, in track order."""
        return tuple(door_control(i) for i in range(len(self.tracks)))


def _sections(sdp: str) -> tuple[list[str], list[list[str]]]:
    session: list[str] = []
    sections: list[list[str]] = []
    for raw in sdp.split("\n"):
        line = raw.removesuffix("\r")
        if not _PRINTABLE.fullmatch(line) or len(line) < 2 or line[1] != "=":  # noqa: PLR2004
            continue
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            session.append(line)
    return session, sections


def _attribute(line: str) -> tuple[str, str]:
    name, _, value = line[2:].partition(":")
    return name, value.strip()


def _media(section: list[str], index: int) -> tuple[list[str], Track] | None:
    """The lines the door writes for one media section, or None if it cannot be served."""
    match = _MEDIA.fullmatch(section[0])
    if match is None or match.group(2) not in MEDIA_PROTOCOLS:
        return None
    kind = match.group(1)
    lines = [f"m={kind} 0 {match.group(2)}{match.group(3)}"]
    control = ""
    for line in section[1:]:
        name, value = _attribute(line) if line.startswith("a=") else ("", "")
        if _BANDWIDTH.fullmatch(line):
            lines.append(line)
        elif name == "control":
            if not _CONTROL.fullmatch(value):
                return None  # the door could not address it upstream
            control = "" if value == "*" else value
        elif name in MEDIA_ATTRIBUTES or (name in DIRECTIONS and line == f"a={name}"):
            lines.append(line)
    lines.append(f"a=control:{door_control(index)}")
    return lines, Track(kind, control)


def filter_sdp(sdp: str, *, keep_audio: bool) -> FilteredSdp:
    """The door's description of an upstream's: video only unless `keep_audio`, then audio too."""
    session, sections = _sections(sdp)
    out = list(SESSION_LINES)
    session_control = ""
    for line in session:
        name, value = _attribute(line) if line.startswith("a=") else ("", "")
        if _BANDWIDTH.fullmatch(line) or _RANGE.fullmatch(line):
            out.append(line)
        elif name == "control" and _CONTROL.fullmatch(value) and value != "*":
            session_control = value
    out.append("a=control:*")
    tracks: list[Track] = []
    for section in sections:
        kind = _MEDIA.fullmatch(section[0])
        if kind is None or not (
            kind.group(1) == "video" or (keep_audio and kind.group(1) == "audio")
        ):
            continue
        served = _media(section, len(tracks))
        if served is not None:
            out.extend(served[0])
            tracks.append(served[1])
    return FilteredSdp("\r\n".join(out) + "\r\n", tuple(tracks), session_control)
