"""The door's own RTSP session with a share's upstream: the camera, or the restreamer on loopback.

Every request here is written by the door: its URI is built from the owner's registered source
(or the restreamer's loopback URL) and the upstream's own control attributes, with the host and
port always those of the registered source, and its headers are the door's. Nothing a viewer
sent is copied in. Failures become a `CameraError` naming the cause for the owner's log.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass
from typing import Final

from rtcc_gateway.door.rtsp.messages import Event, Parser, Request, Response, RtspError
from rtcc_gateway.door.rtsp.rules import (
    parse_session,
    small_number,
    transport_header,
    upstream_channels,
)
from rtcc_gateway.door.sdp import FilteredSdp, door_control, filter_sdp
from rtcc_gateway.door.upstream_auth import UpstreamAuth, UpstreamAuthError
from rtcc_gateway.restreamer.base import Upstream

CONNECT_TIMEOUT_S: Final = 5.0
REQUEST_TIMEOUT_S: Final = 10.0  # an upstream answer must arrive whole within this
MAX_BODY: Final = 64 * 1024
CHUNK: Final = 64 * 1024
USER_AGENT: Final = "rtcc_share"
DEFAULT_SESSION_TIMEOUT_S: Final = 60.0  # RFC 2326 §12.37
KEEPALIVE_MAX_S: Final = 30.0
KEEPALIVE_METHODS: Final = ("GET_PARAMETER", "OPTIONS")  # the second if the first is refused

_URL: Final = re.compile(r"(rtsps?)://([^/\s]*)(\S*)", re.IGNORECASE)
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


class CameraError(Exception):
    """The upstream could not serve the share: a cause for the owner's log, and words for it."""

    def __init__(self, cause: str, why: str) -> None:
        super().__init__(why)
        self.cause = cause
        self.why = why


UNREACHABLE: Final = "camera_unreachable"
CREDENTIALS_REFUSED: Final = "camera_refused_credentials"
AUTH_UNSUPPORTED: Final = "camera_auth_unsupported"
NOT_FOUND: Final = "camera_stream_not_found"
REFUSED: Final = "camera_refused_request"
GARBAGE: Final = "camera_answered_garbage"
NO_VIDEO: Final = "camera_offers_no_video"
NO_TCP: Final = "camera_refused_tcp"
RESTREAMER_FAILED: Final = "restreamer_failed"


def pin(url: str, source: str) -> str:
    """`url` with the scheme, host and port of `source` (credentials never kept)."""
    found, home = _URL.fullmatch(url), _URL.fullmatch(source)
    if found is None or home is None:
        raise CameraError(GARBAGE, "the upstream named a URL that is not rtsp://")
    authority = home.group(2).rsplit("@", 1)[-1]
    return f"{home.group(1).lower()}://{authority}{found.group(3)}"


def resolve(base: str, control: str) -> str:
    """A control attribute against a base URL, the way players do (appended after a slash)."""
    if not control or control == "*":
        return base
    if _SCHEME.match(control):
        return control
    return base.rstrip("/") + "/" + control


def _path(url: str) -> str:
    found = _URL.fullmatch(url)
    return (found.group(3) if found else url).rstrip("/")


def door_rtp_info(
    value: str, track_uris: tuple[str, ...], setup: dict[int, tuple[int, int]], door_base: str
) -> str:
    """The upstream's RTP-Info rewritten with the door's track URLs.

    Entries it cannot place, and numbers that are not numbers, are left out.
    """
    entries = []
    for item in value.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in item.split(";"))}
        url = params.get("url", "")
        track = next(
            (
                t
                for t in sorted(setup)
                if url and (_path(url) == _path(track_uris[t]) or track_uris[t].endswith("/" + url))
            ),
            None,
        )
        if track is None:
            continue
        parts = [f"url={door_base}{door_control(track)}"]
        parts += [
            f"{k}={params[k]}"
            for k in ("seq", "rtptime")
            if small_number(params.get(k, ""), 10) is not None
        ]
        entries.append(";".join(parts))
    return ",".join(entries)


@dataclass(frozen=True, slots=True)
class Described:
    """What the door serves for a DESCRIBE, and where each track lives upstream."""

    sdp: FilteredSdp
    track_uris: tuple[str, ...]
    aggregate_uri: str


class UpstreamSession:
    """One RTSP connection from the door to the upstream, for one viewer."""

    def __init__(
        self,
        upstream: Upstream,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_head: int,
    ) -> None:
        self.upstream = upstream
        self.reader = reader
        self.writer = writer
        self.parser = Parser("client", max_head=max_head, max_body=MAX_BODY)
        self._cseq = 0
        self._auth = (
            UpstreamAuth(upstream.username, upstream.password or "") if upstream.username else None
        )
        self._session = ""
        self._timeout = DEFAULT_SESSION_TIMEOUT_S
        self._keepalive = 0
        self._keepalive_cseqs: set[int] = set()
        self.described: Described | None = None

    @classmethod
    async def open(cls, upstream: Upstream, max_head: int) -> UpstreamSession:
        """Connect; CameraError(UNREACHABLE) when nothing answers."""
        # Cameras on the owner's LAN nearly always have self-signed certificates; the link is
        # inside the home, so an rtsps:// camera gets encryption without certificate checks.
        context = None
        if upstream.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(
                    upstream.host, upstream.port, ssl=context, limit=CHUNK
                )
        except (OSError, TimeoutError, ssl.SSLError):
            raise CameraError(UNREACHABLE, "the camera did not answer the door") from None
        return cls(upstream, reader, writer, max_head)

    @property
    def keepalive_interval(self) -> float:
        """How often the door must speak to keep the upstream session alive."""
        return max(1.0, min(self._timeout / 2, KEEPALIVE_MAX_S))

    def _write(self, method: str, uri: str, headers: tuple[tuple[str, str], ...] = ()) -> int:
        self._cseq += 1
        own = [("CSeq", str(self._cseq)), ("User-Agent", USER_AGENT), *headers]
        if self._session:
            own.append(("Session", self._session))
        if self._auth is not None and (auth := self._auth.header(method, uri)):
            own.append(("Authorization", auth))
        self.writer.write(Request(method, uri, tuple(own)).encode())
        return self._cseq

    async def next_event(self) -> Event:
        """The upstream's next answer, request or frame; ConnectionError at its end."""
        while True:
            try:
                event = self.parser.next_event()
            except RtspError as err:
                raise CameraError(GARBAGE, f"the upstream sent garbage: {err.why}") from None
            if event is not None:
                return event
            data = await self.reader.read(CHUNK)
            if not data:
                raise ConnectionError("the upstream closed the connection")
            self.parser.feed(data)

    async def _answer(self) -> Response:
        while True:
            event = await self.next_event()
            if isinstance(event, Response):
                return event
            # Media or a server's own request ahead of the answer: not the viewer's business.

    async def _exchange(
        self, method: str, uri: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        """One request and its answer, authenticating once if challenged."""
        for attempt in range(2):
            self._write(method, uri, headers)
            await self.writer.drain()
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                answer = await self._answer()
            challenges = answer.values("WWW-Authenticate")
            if answer.status != 401 or not challenges or self._auth is None or attempt:  # noqa: PLR2004
                break
            try:
                self._auth.learn(challenges)
            except UpstreamAuthError as err:
                raise CameraError(AUTH_UNSUPPORTED, str(err)) from None
        if answer.status == 401:  # noqa: PLR2004
            raise CameraError(CREDENTIALS_REFUSED, "the camera refused the owner's credentials")
        return answer

    def _refused(self, method: str, answer: Response) -> CameraError:
        if answer.status == 404:  # noqa: PLR2004
            return CameraError(NOT_FOUND, f"the upstream has no stream there ({method} 404)")
        return CameraError(REFUSED, f"the upstream answered {method} with {answer.status}")

    async def describe(self, keep_audio: bool) -> Described:
        """DESCRIBE the registered source; the door's own description of it."""
        base_uri = self.upstream.base
        answer = await self._exchange("DESCRIBE", base_uri, (("Accept", "application/sdp"),))
        if answer.status != 200:  # noqa: PLR2004
            raise self._refused("DESCRIBE", answer)
        sdp = filter_sdp(answer.body.decode("utf-8", "replace"), keep_audio=keep_audio)
        if not sdp.tracks:
            raise CameraError(NO_VIDEO, "the upstream's stream has no video the door can serve")
        base = base_uri
        for name in ("Content-Base", "Content-Location"):
            value = answer.header(name)
            if value and _URL.fullmatch(value):
                base = value
                break
        self.described = Described(
            sdp,
            tuple(pin(resolve(base, t.upstream_control), base_uri) for t in sdp.tracks),
            pin(resolve(base, sdp.session_control), base_uri),
        )
        return self.described

    async def setup(self, track: int, channels: tuple[int, int]) -> tuple[int, int]:
        """SETUP one described track over TCP; the channels the upstream will send it on."""
        assert self.described is not None  # noqa: S101 - rules allow SETUP only after DESCRIBE
        uri = self.described.track_uris[track]
        answer = await self._exchange("SETUP", uri, (("Transport", transport_header(channels)),))
        if answer.status != 200:  # noqa: PLR2004
            raise self._refused("SETUP", answer)
        try:
            assigned = upstream_channels(answer.header("Transport") or "")
            if (session := answer.header("Session")) is not None:
                self._session, timeout = parse_session(session)
                self._timeout = timeout or DEFAULT_SESSION_TIMEOUT_S
        except ValueError as err:
            raise CameraError(NO_TCP, f"the upstream's SETUP answer: {err}") from None
        return assigned

    async def play(self) -> Response:
        """PLAY the whole stream; the upstream's answer (its headers stay with the door)."""
        assert self.described is not None  # noqa: S101
        answer = await self._exchange(
            "PLAY", self.described.aggregate_uri, (("Range", "npt=0.000-"),)
        )
        if answer.status != 200:  # noqa: PLR2004
            raise self._refused("PLAY", answer)
        return answer

    def keepalive(self) -> None:
        """Write one keep-alive request; its answer comes back through `note`."""
        assert self.described is not None  # noqa: S101
        method = KEEPALIVE_METHODS[self._keepalive]
        self._keepalive_cseqs.add(self._write(method, self.described.aggregate_uri))

    def note(self, answer: Response) -> None:
        """An answer read while relaying: learn a new challenge, or fall back to OPTIONS."""
        cseq = small_number(answer.header("CSeq") or "")
        if cseq is None or cseq not in self._keepalive_cseqs:
            return
        self._keepalive_cseqs.discard(cseq)
        challenges = answer.values("WWW-Authenticate")
        if answer.status == 401 and challenges and self._auth is not None:  # noqa: PLR2004
            try:
                self._auth.learn(challenges)
            except UpstreamAuthError:
                return
        elif answer.status >= 400 and self._keepalive + 1 < len(KEEPALIVE_METHODS):  # noqa: PLR2004
            self._keepalive += 1

    def teardown(self) -> None:
        """Write a TEARDOWN (not waited for: the connection closes next)."""
        if self.described is not None and self._session:
            self._write("TEARDOWN", self.described.aggregate_uri)

    def close(self) -> None:
        """Drop the connection now."""
        self.writer.transport.abort()


async def diagnose(source: Upstream, max_head: int) -> CameraError | None:
    """Ask the camera itself why a restreamer could not serve it; None if it answers fine."""
    try:
        session = await UpstreamSession.open(source, max_head)
    except CameraError as err:
        return err
    try:
        await session.describe(keep_audio=False)
    except CameraError as err:
        return err
    except (ConnectionError, TimeoutError, OSError):
        return CameraError(UNREACHABLE, "the camera closed the door's connection")
    finally:
        session.close()
    return None
