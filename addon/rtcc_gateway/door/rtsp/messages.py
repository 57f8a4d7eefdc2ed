"""RTSP/1.0 messages as bytes and back, with no I/O (h11's style: feed bytes, take events).

Strict where the peer is a city's viewer: every line ends in CRLF (a bare CR or LF is refused, so
nothing can smuggle a header into a line the door echoes), header names are tokens, values hold
no control characters, the framing header Content-Length is checked, and RTP/RTCP interleaved
in the same stream (`$`, channel, 16-bit length, payload; RFC 2326 §10.12) comes out as frames.
The same parser reads the upstream's side, where answers and frames interleave after PLAY.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Final, Literal

VERSION: Final = "RTSP/1.0"
MAX_FRAME: Final = 0xFFFF  # what the 16-bit length can say
_DOLLAR: Final = 0x24  # an interleaved frame starts with "$"

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_URI: Final = re.compile(r"[\x21-\x7e]+")  # visible ASCII, no spaces
_VALUE_BAD: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs other than HTAB
_VERSION: Final = re.compile(r"RTSP/(\d)\.(\d)")
_STATUS: Final = re.compile(r"RTSP/\d\.\d ([1-5]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?")
_DIGITS: Final = re.compile(r"\d{1,9}")


class RtspError(Exception):
    """What a peer sent is not RTSP the door accepts: the status to answer and why."""

    def __init__(self, status: int, reason: str, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.reason = reason
        self.why = why


def _bad(why: str) -> RtspError:
    return RtspError(400, "Bad Request", why)


type Headers = tuple[tuple[str, str], ...]


def _values(headers: Headers, name: str) -> list[str]:
    lower = name.lower()
    return [v for k, v in headers if k.lower() == lower]


class _Headed:
    """Header look-up shared by requests and responses (both keep `headers` as sent)."""

    __slots__ = ()
    headers: Headers

    def values(self, name: str) -> list[str]:
        """Every value of a header (names compared without case)."""
        return _values(self.headers, name)

    def header(self, name: str) -> str | None:
        """The last value of a header; None when absent. Callers that need one refuse duplicates."""
        found = self.values(name)
        return found[-1] if found else None


@dataclass(frozen=True, slots=True)
class Request(_Headed):
    """A request; Content-Length is framing, so it lives in the body's length, not in headers."""

    method: str
    uri: str
    headers: Headers = ()
    body: bytes = b""

    @property
    def cseq(self) -> str:
        """The sequence number, checked by the parser to be one run of digits."""
        return self.header("CSeq") or "0"

    def encode(self) -> bytes:
        """Wire form."""
        _check_token(self.method)
        if not _URI.fullmatch(self.uri):
            raise ValueError(f"not a request URI: {self.uri!r}")
        return _encode(f"{self.method} {self.uri} {VERSION}", self.headers, self.body)


@dataclass(frozen=True, slots=True)
class Response(_Headed):
    """An answer; Content-Length likewise lives in the body's length."""

    status: int
    reason: str
    headers: Headers = ()
    body: bytes = b""

    def encode(self) -> bytes:
        """Wire form."""
        if not 100 <= self.status <= 599 or _VALUE_BAD.search(self.reason):  # noqa: PLR2004
            raise ValueError(f"not a status line: {self.status} {self.reason!r}")
        return _encode(f"{VERSION} {self.status} {self.reason}", self.headers, self.body)


@dataclass(frozen=True, slots=True)
class Frame:
    """One interleaved packet: the channel it came on and its payload."""

    channel: int
    payload: bytes

    def encode(self) -> bytes:
        """Wire form."""
        return b"$" + bytes((self.channel,)) + len(self.payload).to_bytes(2) + self.payload


type Event = Request | Response | Frame


def _check_token(text: str) -> None:
    if not _TOKEN.fullmatch(text):
        raise ValueError(f"not a token: {text!r}")


def _encode(first: str, headers: Headers, body: bytes) -> bytes:
    lines = [first]
    for name, value in headers:
        _check_token(name)
        if name.lower() == "content-length" or _VALUE_BAD.search(value):
            raise ValueError(f"header {name} cannot be written as given")
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _split_lines(head: bytes) -> list[str]:
    """The head's lines; refuses a CR or LF that is not part of a CRLF pair."""
    if head.count(b"\r") != head.count(b"\n") or head.count(b"\r\n") != head.count(b"\n"):
        raise _bad("a line ends in a bare CR or LF")
    return head.decode("latin-1").split("\r\n")


def _parse_headers(lines: list[str]) -> Headers:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in {" ", "\t"}:
            raise _bad("folded header lines are not accepted")
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise _bad("a header line is not `Name: value`")
        value = value.strip(" \t")
        if _VALUE_BAD.search(value):
            raise _bad(f"header {name} holds a control character")
        headers.append((name, value))
    return tuple(headers)


def _request_line(line: str) -> tuple[str, str]:
    parts = line.split(" ")
    if len(parts) != 3:  # noqa: PLR2004
        raise _bad("the request line is not `METHOD URI RTSP/1.0`")
    method, uri, version = parts
    if not _TOKEN.fullmatch(method) or not _URI.fullmatch(uri):
        raise _bad("the request line is not `METHOD URI RTSP/1.0`")
    if not _VERSION.fullmatch(version):
        raise _bad("the request line is not `METHOD URI RTSP/1.0`")
    if version != VERSION:
        raise _bad(f"only {VERSION} is spoken here")
    return method, uri


@dataclass(eq=False, slots=True)
class Parser:
    """Incremental parser for one direction of one connection.

    `role="server"` reads what a viewer sends (requests and frames, strictly); `role="client"`
    reads what an upstream sends (answers, the odd server request, and frames).
    """

    role: Literal["server", "client"]
    _: KW_ONLY
    max_head: int
    max_body: int
    max_frame: int = MAX_FRAME
    _buf: bytearray = field(default_factory=bytearray, init=False, repr=False)  # may hold a token
    _pos: int = field(default=0, init=False)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as an event."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def next_event(self) -> Event | None:
        """The next whole message or frame; None until enough bytes arrived. Raises RtspError."""
        buf, pos = self._buf, self._pos
        while buf.startswith(b"\r\n", pos):  # empty lines between messages are allowed
            pos += 2
        self._pos = pos
        if pos >= len(buf):
            return None
        if buf[pos] == _DOLLAR:
            return self._frame(pos)
        end = buf.find(b"\r\n\r\n", pos, pos + self.max_head + 4)
        if end < 0:
            if len(buf) - pos > self.max_head:
                raise RtspError(431, "Request Header Fields Too Large", "the head is too long")
            if buf.find(b"\n", pos) >= 0 and buf.find(b"\r\n", pos) != buf.find(b"\n", pos) - 1:
                raise _bad("a line ends in a bare CR or LF")
            return None
        lines = _split_lines(bytes(buf[pos:end]))
        headers = _parse_headers(lines[1:])
        length = self._content_length(headers)
        start = end + 4
        if len(buf) < start + length:
            return None
        body = bytes(buf[start : start + length])
        self._pos = start + length
        kept = tuple((k, v) for k, v in headers if k.lower() != "content-length")
        return self._message(lines[0], kept, body)

    def _message(self, first: str, headers: Headers, body: bytes) -> Request | Response:
        if first.startswith("RTSP/"):
            if self.role == "server":
                raise _bad("a viewer sent an answer; the door asked nothing")
            match = _STATUS.fullmatch(first)
            if match is None:
                raise _bad("the status line is not `RTSP/1.0 NNN reason`")
            return Response(int(match.group(1)), match.group(2) or "", headers, body)
        method, uri = _request_line(first)
        request = Request(method, uri, headers, body)
        if self.role == "server":
            cseq = request.values("CSeq")
            if len(cseq) != 1 or not _DIGITS.fullmatch(cseq[0]):
                raise _bad("a request needs exactly one CSeq, a number")
        return request

    def take_frames(self, channels: Mapping[int, int]) -> bytes:
        """Take the whole frames at the front of what arrived, in wire form, on `channels` only.

        Frames are renumbered to the channel `channels` maps theirs to, and the rest dropped;
        it stops at a message or a partial frame. The relay's hot path: runs of frames that
        keep their channel are sliced, not rebuilt.
        """
        buf, pos, end = self._buf, self._pos, len(self._buf)
        out = bytearray()
        run = pos  # start of the current run of frames passed as they are
        while pos + 4 <= end and buf[pos] == _DOLLAR:
            stop = pos + 4 + ((buf[pos + 2] << 8) | buf[pos + 3])
            if stop > end:
                break
            channel = buf[pos + 1]
            to = channels.get(channel)
            if to != channel:
                out += buf[run:pos]
                if to is not None:
                    out += bytes((_DOLLAR, to)) + buf[pos + 2 : stop]
                run = stop
            pos = stop
        out += buf[run:pos]
        self._pos = pos
        return bytes(out)

    def _frame(self, pos: int) -> Frame | None:
        buf = self._buf
        if len(buf) - pos < 4:  # noqa: PLR2004
            return None
        length = int.from_bytes(buf[pos + 2 : pos + 4])
        if length > self.max_frame:
            raise _bad(f"an interleaved frame of {length} bytes is larger than allowed")
        if len(buf) - pos < 4 + length:
            return None
        self._pos = pos + 4 + length
        return Frame(buf[pos + 1], bytes(buf[pos + 4 : pos + 4 + length]))

    def _content_length(self, headers: Headers) -> int:
        lengths = _values(headers, "Content-Length")
        if not lengths:
            return 0
        if len(lengths) != 1 or not _DIGITS.fullmatch(lengths[0]):
            raise _bad("Content-Length must be given once, as a number")
        length = int(lengths[0])
        if length > self.max_body:
            raise RtspError(413, "Request Entity Too Large", f"a body of {length} bytes")
        return length
