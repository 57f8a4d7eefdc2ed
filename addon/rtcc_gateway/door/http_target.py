"""The HTTP door's surface as pure rules, no I/O (the door itself is door/http.py).

Which request targets it takes, the headers it answers with, and what a relayed HLS playlist
may name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from rtcc_gateway.problems import problem


class PlaylistError(Exception):
    """The restreamer's playlist names something the door did not expect: do not relay it."""


METHODS: Final = ("GET", "HEAD")

TOKEN_PART: Final = r"(?P<token>[A-Za-z0-9_-]{1,128})"  # noqa: S105 - a pattern
PATH: Final = re.compile(
    rf"/s/{TOKEN_PART}/(?P<file>stream\.mp4|index\.m3u8|hls/playlist\.m3u8|hls/init\.mp4"
    r"|hls/segment\.m4s)"
)
SID: Final = r"[A-Za-z0-9_-]{1,64}"
QUERIES: Final = {  # the only query each file takes
    "stream.mp4": re.compile(r""),
    "index.m3u8": re.compile(r""),
    "hls/playlist.m3u8": re.compile(rf"id=(?P<id>{SID})"),
    "hls/init.mp4": re.compile(rf"id=(?P<id>{SID})"),
    "hls/segment.m4s": re.compile(rf"id=(?P<id>{SID})&n=(?P<n>[0-9]{{1,10}})"),
}
# What the door answers with, per file: its own names, never the upstream's headers.
TYPES: Final = {
    "stream.mp4": "video/mp4",
    "index.m3u8": "application/vnd.apple.mpegurl",
    "hls/playlist.m3u8": "application/vnd.apple.mpegurl",
    "hls/init.mp4": "video/mp4",
    "hls/segment.m4s": "video/iso.segment",
}
LIMITS: Final = {  # bytes of a whole upstream answer the door relays
    "index.m3u8": 16 * 1024,
    "hls/playlist.m3u8": 16 * 1024,
    "hls/init.mp4": 1024 * 1024,
    "hls/segment.m4s": 32 * 1024 * 1024,
}
MASTER_ENTRY: Final = re.compile(rf"hls/playlist\.m3u8\?id=({SID})")


@dataclass(frozen=True, slots=True)
class DoorRequest:
    """A request target the door accepts, parsed."""

    token: str = field(repr=False)
    file: str
    session_id: str = ""
    segment: str = ""


def parse_target(raw: str) -> DoorRequest | web.Response:
    """The request target (path and query, as sent) matched exactly, or the answer refusing it."""
    path, _, query = raw.partition("?")
    if "%" in raw:
        return problem(400, "Stream links are never percent-encoded.")
    if any(segment in (".", "..") for segment in path.split("/")):
        return problem(400, "Stream links have no dot segments.")
    match = PATH.fullmatch(path)
    if match is None:
        return problem(404, "No such stream.")
    file = match.group("file")
    args = QUERIES[file].fullmatch(query)
    if args is None or (not query and "?" in raw):
        if file in ("stream.mp4", "index.m3u8"):
            return problem(400, "This stream link takes no query.")
        return problem(400, "HLS requests take exactly the id (and n) their playlist names.")
    found = args.groupdict()
    return DoorRequest(match.group("token"), file, found.get("id", ""), found.get("n") or "")


def answer_headers(file: str) -> dict[str, str]:
    """The door's own headers for `file` (never the upstream's)."""
    return {
        "Content-Type": TYPES[file],
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _lines(body: bytes) -> list[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PlaylistError("not UTF-8") from None
    if not text.startswith("#EXTM3U"):
        raise PlaylistError("unexpected playlist")
    return [line.strip() for line in text.splitlines() if line.strip()]


def master_session(body: bytes) -> str:
    """The one session id of a master playlist that names nothing but its own relative entry."""
    entries = [line for line in _lines(body) if not line.startswith("#")]
    matches = [MASTER_ENTRY.fullmatch(line) for line in entries]
    if len(matches) != 1 or matches[0] is None or "URI=" in body.decode():
        raise PlaylistError("unexpected playlist")
    return matches[0].group(1)


def check_playlist(body: bytes, session_id: str) -> None:
    """A media playlist may name only this session's init segment and segments, relatively."""
    allowed = re.compile(rf"init\.mp4\?id={session_id}|segment\.m4s\?id={session_id}&n=[0-9]+")
    for line in _lines(body):
        uris = re.findall(r'URI="([^"]*)"', line) if line.startswith("#") else [line]
        if not all(allowed.fullmatch(uri) for uri in uris):
            raise PlaylistError("unexpected playlist")
