"""What a city's viewer may ask of the RTSP door: pure functions and a small state machine.

Nothing here does I/O. `decide` turns one parsed request into what the door does about it: answer
it itself, or write its own DESCRIBE, SETUP or PLAY upstream. The request's URI only selects the
share (by token) and, for SETUP, one of the controls the door published on this connection; it
is never forwarded. URIs are compared exactly after parsing: no query, fragment, percent-encoding
(door URLs need none, so `%2e%2e` and `%2f` cannot hide a dot segment or a slash), dot segments or
empty segments. Transport is read by its grammar (RFC 2326 §12.39): one spec, RTP/AVP/TCP,
interleaved, and nothing that could send media anywhere but through the door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from rtcc_gateway.door.rtsp.messages import Headers, Request

ALLOWED_METHODS: Final = ("OPTIONS", "DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER", "TEARDOWN")
PUBLIC: Final = ", ".join(ALLOWED_METHODS)
SESSION_TIMEOUT_S: Final = 60  # what the door asks viewers to keep alive within

_ABSOLUTE: Final = re.compile(r"(rtsps?)://([^/]*)(/.*)?", re.IGNORECASE)
_AUTHORITY: Final = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_SEGMENT: Final = re.compile(r"[A-Za-z0-9\-_~!$&'()*+,;=:@.]+")  # pchar without pct-encoded
_CHANNELS: Final = re.compile(r"(\d{1,3})-(\d{1,3})")
_SSRC: Final = re.compile(r"[0-9A-Fa-f]{1,8}")
_SESSION_ID: Final = re.compile(r"[A-Za-z0-9$\-_.+]{1,128}")


class RefusedError(Exception):
    """The door refuses a request: the status, and why (said in the answer's body)."""

    def __init__(self, status: int, reason: str, why: str, headers: Headers = ()) -> None:
        super().__init__(why)
        self.status = status
        self.reason = reason
        self.why = why
        self.headers = headers


def _not_found(why: str) -> RefusedError:
    return RefusedError(404, "Not Found", why)


def _bad_uri(why: str) -> RefusedError:
    return RefusedError(400, "Bad Request", why)


def _bad_transport(why: str) -> RefusedError:
    return RefusedError(461, "Unsupported Transport", why)


@dataclass(frozen=True, slots=True)
class DoorUri:
    """A request URI, parsed: who it says it reaches, which share, and what below the share."""

    origin: str  # "rtsp://host:port" as the viewer wrote it; "" for an absolute path or "*"
    token: str  # "" for "*"
    rest: tuple[str, ...]  # the segments after the token; () for the share itself


def parse_uri(uri: str) -> DoorUri:
    """Parse a door URI; raises RefusedError(400) for anything a camera might read differently."""
    if uri == "*":
        return DoorUri("", "", ())
    if "?" in uri or "#" in uri:
        raise _bad_uri("door URLs take no query or fragment")
    if "%" in uri:
        raise _bad_uri("door URLs take no percent-encoding")
    origin, path = "", uri
    if match := _ABSOLUTE.fullmatch(uri):
        scheme, authority, path = match.group(1).lower(), match.group(2), match.group(3) or "/"
        if not _AUTHORITY.fullmatch(authority):
            raise _bad_uri("the URL's host is not a plain host[:port]")
        origin = f"{scheme}://{authority}"
    elif not uri.startswith("/"):
        raise _bad_uri("not an rtsp:// URL or an absolute path")
    segments = _segments(path)
    return DoorUri(origin, segments[0], tuple(segments[1:]))


def _segments(path: str) -> list[str]:
    segments = path[1:].split("/")
    if len(segments) > 1 and not segments[-1]:
        segments.pop()  # one trailing slash names the same thing (a Content-Base ends in one)
    for segment in segments:
        if not segment and len(segments) > 1:
            raise _bad_uri("the path has an empty segment")
        if segment and not segment.strip("."):
            raise _bad_uri("the path has a dot segment")
        if segment and not _SEGMENT.fullmatch(segment):
            raise _bad_uri("the path has a character door URLs do not use")
    return segments


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def check_transport(values: list[str]) -> None:
    """Accept only one `RTP/AVP/TCP;unicast;interleaved=a-b` spec; raises RefusedError(461).

    Channels are the door's to assign, so what the viewer asked for matters only as grammar.
    """
    specs = [s for v in values for s in _split_outside_quotes(v, ",")]
    if len(specs) != 1:
        raise _bad_transport("give exactly one transport: RTP/AVP/TCP;unicast;interleaved=a-b")
    protocol, *params = (p.strip() for p in _split_outside_quotes(specs[0], ";"))
    if protocol.upper() != "RTP/AVP/TCP":
        raise _bad_transport("only RTP/AVP/TCP (interleaved in this connection) is served")
    seen: set[str] = set()
    for param in params:
        name, has_value, value = param.partition("=")
        name = name.strip().lower()
        if name in seen:
            raise _bad_transport(f"transport parameter {name or '(empty)'} is repeated")
        seen.add(name)
        if not _served_parameter(name, value.strip() if has_value else None):
            raise _bad_transport(f"transport parameter {name or '(empty)'} is not served")
    if "interleaved" not in seen:
        raise _bad_transport("interleaved=a-b is required: media stays in this connection")


def _served_parameter(name: str, value: str | None) -> bool:
    """Whether a transport parameter keeps media in this connection.

    client_port, destination, multicast, ttl and the rest would not; unknown ones are not guessed.
    """
    if name == "unicast":
        return value is None
    if name == "interleaved" and value and (channels := _CHANNELS.fullmatch(value)):
        low, high = int(channels.group(1)), int(channels.group(2))
        return high == low + 1 <= 255  # noqa: PLR2004
    if name == "mode":
        return value is not None and value.strip('"').upper() == "PLAY"
    return name == "ssrc" and value is not None and bool(_SSRC.fullmatch(value))


def transport_header(channels: tuple[int, int]) -> str:
    """The Transport the door writes (to the viewer, and to the upstream)."""
    return f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]}"


def small_number(text: str, digits: int = 9) -> int | None:
    """A count or id written in at most `digits` ASCII digits, else None.

    (str.isdigit() takes "²" and other scripts' digits, which int() then refuses or reads.)
    """
    text = text.strip()
    if 0 < len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def upstream_channels(value: str) -> tuple[int, int]:
    """The interleaved channels an upstream's SETUP answer assigned; ValueError if not TCP."""
    protocol, *params = (p.strip() for p in value.split(",", maxsplit=1)[0].split(";"))
    if protocol.upper() != "RTP/AVP/TCP":
        raise ValueError("the upstream did not answer with TCP interleaved")
    for param in params:
        name, _, text = param.partition("=")
        if name.strip().lower() == "interleaved":
            low, _, high = text.strip().partition("-")
            rtp = small_number(low, 3)
            rtcp = small_number(high, 3) if high else (None if rtp is None else rtp + 1)
            if rtp is not None and rtcp is not None and rtp <= 255 and rtcp <= 255:  # noqa: PLR2004
                return rtp, rtcp
    raise ValueError("the upstream's transport names no interleaved channels")


def parse_session(value: str) -> tuple[str, float | None]:
    """`id[;timeout=N]` -> (id, N); ValueError if it is not that."""
    ident, *params = (p.strip() for p in value.split(";"))
    if not _SESSION_ID.fullmatch(ident):
        raise ValueError("not a session id")
    timeout = None
    for param in params:
        name, _, text = param.partition("=")
        seconds = small_number(text, 6)
        if name.strip().lower() == "timeout" and seconds is not None:
            timeout = float(seconds)
    return ident, timeout


@dataclass(frozen=True, slots=True)
class Answer:
    """The door answers the request itself (status 200 with these headers)."""

    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class Describe:
    """The door describes the share's stream to the viewer (from its own upstream DESCRIBE)."""

    token: str
    origin: str


@dataclass(frozen=True, slots=True)
class Setup:
    """The door sets up one published track, on channels it chose."""

    token: str
    track: int
    channels: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Play:
    """The door starts the upstream and begins relaying."""

    token: str
    origin: str


@dataclass(frozen=True, slots=True)
class Teardown:
    """The door answers and closes the connection."""


type Decision = Answer | Describe | Setup | Play | Teardown


@dataclass(slots=True)
class Viewing:
    """What one connection has been served so far; `decide` reads it, the caller updates it."""

    session_id: str
    token: str = ""  # the share this connection views, once it asked for one
    controls: tuple[str, ...] = ()  # the track controls the door published (served DESCRIBE)
    setup: dict[int, tuple[int, int]] = field(default_factory=dict)  # track -> door channels
    playing: bool = False

    @property
    def session_header(self) -> str:
        """The door's own Session header (never the upstream's id)."""
        return f"{self.session_id};timeout={SESSION_TIMEOUT_S}"

    def described(self, token: str, controls: tuple[str, ...]) -> None:
        """A DESCRIBE was served: these controls (and only these) may be set up."""
        self.token, self.controls = token, controls

    def set_up(self, track: int, channels: tuple[int, int]) -> None:
        """A track was set up on these channels."""
        self.setup[track] = channels


def _check_session(request: Request, viewing: Viewing, *, required: bool) -> None:
    values = request.values("Session")
    if not values and not required:
        return
    if not viewing.setup:
        raise RefusedError(454, "Session Not Found", "nothing was set up on this connection")
    if len(values) != 1 or values[0].split(";")[0].strip() != viewing.session_id:
        raise RefusedError(454, "Session Not Found", "not this connection's session")


def decide(viewing: Viewing, request: Request) -> Decision:  # noqa: C901, PLR0911, PLR0912
    """What the door does with one request; raises RefusedError with the answer to give."""
    method = request.method
    if method not in ALLOWED_METHODS:
        raise RefusedError(
            405, "Method Not Allowed", f"{PUBLIC} only", headers=(("Allow", PUBLIC),)
        )
    if request.values("Require") or request.values("Proxy-Require"):
        raise RefusedError(551, "Option not supported", "the door supports no option tags")
    uri = parse_uri(request.uri)
    if method == "OPTIONS":
        return Answer((("Public", PUBLIC),))
    if not uri.token and method != "GET_PARAMETER":
        raise _not_found("no share named")
    if viewing.token and uri.token and uri.token != viewing.token:
        raise _not_found("this connection views another share")
    track = viewing.controls.index(uri.rest[0]) if _names_control(uri, viewing) else None
    if method == "DESCRIBE":
        if uri.rest:
            raise _not_found("only the share itself can be described")
        if viewing.setup:
            raise RefusedError(455, "Method Not Valid in This State", "already set up")
        return Describe(uri.token, uri.origin)
    if method == "SETUP":
        if not viewing.controls:
            raise _not_found("set up only what a DESCRIBE on this connection published")
        if track is None:
            raise _not_found("not a track this door published")
        if viewing.playing or track in viewing.setup:
            raise RefusedError(455, "Method Not Valid in This State", "already set up")
        check_transport(request.values("Transport"))
        _check_session(request, viewing, required=False)
        n = len(viewing.setup)
        return Setup(uri.token, track, (2 * n, 2 * n + 1))
    if method == "PLAY":
        if uri.rest and (track is None or track not in viewing.setup):
            raise _not_found("play the share, or a track set up on this connection")
        if not viewing.setup:
            raise RefusedError(455, "Method Not Valid in This State", "set up a track first")
        _check_session(request, viewing, required=True)
        if viewing.playing:
            return Answer((("Session", viewing.session_header),))
        return Play(uri.token, uri.origin)
    if method == "GET_PARAMETER":
        _check_session(request, viewing, required=True)
        return Answer((("Session", viewing.session_header),))
    return Teardown()


def _names_control(uri: DoorUri, viewing: Viewing) -> bool:
    return len(uri.rest) == 1 and uri.rest[0] in viewing.controls
