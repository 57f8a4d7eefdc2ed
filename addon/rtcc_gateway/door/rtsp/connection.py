"""One viewer's connection to the RTSP door, from its first request to its end.

Every request is parsed and put to the rules; what the door then sends upstream it writes
itself, and every answer the viewer gets is written by the door too (only the headers named
here: CSeq, Server, Public/Allow, Session, Transport, Content-Base/Type, RTP-Info). Unknown and
expired tokens get the same 404. A camera that cannot serve gets the viewer a 503 and the owner
a `camera_unavailable` record naming the cause; a viewer breaking the rules while playing gets a
`door_violation` record. A camera lost while playing ends the viewer with `end_reason:
camera_lost` on its `viewer_disconnected` record.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from rtcc_gateway.door.rtsp.messages import Parser, Request, Response, RtspError
from rtcc_gateway.door.rtsp.relay import Relay
from rtcc_gateway.door.rtsp.reports import Reports
from rtcc_gateway.door.rtsp.rules import (
    Answer,
    Decision,
    Describe,
    Play,
    RefusedError,
    Setup,
    Teardown,
    Viewing,
    decide,
    transport_header,
)
from rtcc_gateway.door.rtsp.upstream import (
    GARBAGE,
    RESTREAMER_FAILED,
    CameraError,
    UpstreamSession,
    diagnose,
    door_rtp_info,
)
from rtcc_gateway.door.share_admission import DoorCut, ShareAdmission
from rtcc_gateway.door.viewers import NO_MEDIA_S, Viewer, ViewerRegistry
from rtcc_gateway.restreamer.base import Upstream

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT_S: Final = 10.0  # before PLAY, each request must arrive whole within this
MAX_REQUESTS_BEFORE_PLAY: Final = 32
MAX_VIEWER_BODY: Final = 4096  # viewers have nothing to send in bodies; GET_PARAMETER's is dropped
MAX_VIEWER_FRAME: Final = 2048  # a viewer's interleaved packets are RTCP reports, a few dozen bytes
CHUNK: Final = 64 * 1024
SERVER_NAME: Final = "rtcc_share"
NO_SHARE: Final = "no live share has this link"
CAMERA_REPORTS_PER_MINUTE: Final = 6  # each may cost the camera a DESCRIBE of the door's own


@dataclass(frozen=True, slots=True)
class Admission(ShareAdmission):
    """A live share the door may serve, and where from."""

    upstream: Upstream
    # The owner's registered camera, when `upstream` is a restreamer: asked why it failed.
    source: Upstream | None = None


# Given a token, the door asks whether it names a live share (None: unknown or expired).
type Admit = Callable[[str], Awaitable[Admission | None]]


def door_answer(
    status: int,
    reason: str,
    cseq: str,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    content_type: str = "text/plain",
) -> bytes:
    """An answer written by the door: its own headers only."""
    own = [("CSeq", cseq), ("Server", SERVER_NAME), *headers]
    if body:
        own.append(("Content-Type", content_type))
    return Response(status, reason, tuple(own), body).encode()


class Connection:
    """Serves one viewer connection."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        max_head: int,
        admit: Admit,
        viewers: ViewerRegistry | None,
        reports: Reports,
        no_media_s: float = NO_MEDIA_S,
    ) -> None:
        self.reader = reader
        self._no_media_s = no_media_s
        self.writer = writer
        self._max_head = max_head
        self._admit = admit
        self._viewers = viewers
        self._reports = reports
        self.parser = Parser(
            "server", max_head=max_head, max_body=MAX_VIEWER_BODY, max_frame=MAX_VIEWER_FRAME
        )
        self.viewing = Viewing(session_id=secrets.token_hex(8))
        self.admission: Admission | None = None
        self.upstream: UpstreamSession | None = None
        self.channels: dict[int, int] = {}  # upstream channel -> the viewer's
        self.remote = str((writer.get_extra_info("peername") or ("unknown",))[0])

    def reply(
        self,
        status: int,
        reason: str,
        cseq: str,
        headers: tuple[tuple[str, str], ...] = (),
        why: str = "",
    ) -> None:
        """Write one of the door's answers; a refusal says why in a plain-text body."""
        body = (why + "\r\n").encode() if why else b""
        self.writer.write(door_answer(status, reason, cseq, headers=headers, body=body))

    async def run(self) -> None:
        """Serve requests until PLAY, then relay; always closes both sides at the end."""
        try:
            for _ in range(MAX_REQUESTS_BEFORE_PLAY):
                request = await self._next_request()
                if request is None:
                    return
                try:
                    ended = await self._act(request, decide(self.viewing, request))
                except RefusedError as err:
                    self.reply(err.status, err.reason, request.cseq, err.headers, err.why)
                    ended = False
                await self.writer.drain()
                if ended:
                    return
                if self.viewing.playing:
                    await self._relay()
                    return
        finally:
            if self.upstream is not None:
                self.upstream.close()
            self.writer.transport.abort()

    async def _next_request(self) -> Request | None:
        """The next request (frames before PLAY are dropped too); None at the end or on junk."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                while True:
                    event = self.parser.next_event()
                    if isinstance(event, Request):
                        return event
                    if event is None:
                        data = await self.reader.read(CHUNK)
                        if not data:
                            return None
                        self.parser.feed(data)
        except RtspError as err:
            self.reply(err.status, err.reason, "0", (), err.why)
            await self.writer.drain()
            return None

    async def _admitted(self, token: str) -> Admission:
        admission = await self._admit(token)
        if admission is None or (
            self.admission is not None and admission.share_id != self.admission.share_id
        ):
            raise RefusedError(404, "Not Found", NO_SHARE)
        self.admission = admission
        return admission

    async def _act(self, request: Request, decision: Decision) -> bool:
        """Carry out a decision; True when the connection ends after it."""
        cseq = request.cseq
        if isinstance(decision, Answer):
            self.reply(200, "OK", cseq, decision.headers)
            return False
        if isinstance(decision, Teardown):
            self.reply(200, "OK", cseq)
            if self.upstream is not None:
                self.upstream.teardown()
            return True
        admission = await self._admitted(decision.token)
        try:
            return await self._upstream_step(request, decision, admission)
        except CameraError as err:
            await self._camera_failed(admission, err)
        except (ConnectionError, TimeoutError, OSError) as err:
            await self._camera_failed(admission, CameraError("camera_unreachable", str(err)))
        self.reply(503, "Service Unavailable", cseq, (), "the camera cannot be reached now")
        return True

    async def _upstream_step(
        self, request: Request, decision: Describe | Setup | Play, admission: Admission
    ) -> bool:
        cseq = request.cseq
        if self.upstream is None:
            self.upstream = await UpstreamSession.open(admission.upstream, self._max_head)
        if isinstance(decision, Describe):
            described = await self.upstream.describe(keep_audio=admission.share_audio)
            self.viewing.described(decision.token, described.sdp.controls)
            base = f"{decision.origin}/{decision.token}/"
            body = described.sdp.text.encode()
            headers: tuple[tuple[str, str], ...] = (("Content-Base", base),)
            self.writer.write(
                door_answer(
                    200, "OK", cseq, headers=headers, body=body, content_type="application/sdp"
                )
            )
            return False
        if isinstance(decision, Setup):
            rtp, rtcp = await self.upstream.setup(decision.track, decision.channels)
            if rtp in self.channels or rtcp in self.channels:
                raise CameraError(GARBAGE, "the upstream gave two tracks the same channels")
            self.channels[rtp], self.channels[rtcp] = decision.channels
            self.viewing.set_up(decision.track, decision.channels)
            headers = (
                ("Transport", transport_header(decision.channels)),
                ("Session", self.viewing.session_header),
            )
            self.reply(200, "OK", cseq, headers)
            return False
        answer = await self.upstream.play()
        self.viewing.playing = True
        own = [("Session", self.viewing.session_header)]
        assert self.upstream.described is not None  # noqa: S101 - PLAY follows SETUP
        info = door_rtp_info(
            answer.header("RTP-Info") or "",
            self.upstream.described.track_uris,
            self.viewing.setup,
            f"{decision.origin}/{decision.token}/",
        )
        if info:
            own.append(("RTP-Info", info))
        self.reply(200, "OK", cseq, tuple(own))
        return False

    async def _camera_failed(self, admission: Admission, err: CameraError) -> None:
        """Tell the owner why the camera could not serve, a few times a minute at most.

        With a restreamer in between, the door asks the camera itself: the restreamer's own
        answer does not say (go2rtc answers 404 when the camera refused its credentials).
        """
        key = f"camera:{admission.camera_id}"
        _LOGGER.warning("camera %s cannot serve the door: %s", admission.camera_id, err.why)
        if not self._reports.allow(key, CAMERA_REPORTS_PER_MINUTE):
            return
        cause, why, through = err.cause, err.why, "camera"
        if admission.source is not None and admission.source != admission.upstream:
            through = "restreamer"
            found = await diagnose(admission.source, self._max_head)
            if found is None:
                cause, why = RESTREAMER_FAILED, f"the camera answers the door, but {why}"
            else:
                cause, why = found.cause, found.why
        detail: dict[str, Any] = {
            "camera_id": admission.camera_id,
            "share_id": admission.share_id,
            "cause": cause,
            "why": why,
            "through": through,
        }
        await self._reports.write(key, "camera_unavailable", detail)

    async def _relay(self) -> None:
        admission, upstream = self.admission, self.upstream
        assert admission is not None  # noqa: S101 - PLAY admitted a share
        assert upstream is not None  # noqa: S101 - and opened its upstream

        def close() -> None:
            self.writer.transport.abort()
            upstream.close()

        stream = DoorCut(close)
        viewer: Viewer | None = None
        if self._viewers is not None:
            viewer = self._viewers.connect(
                admission, remote=self.remote, kind="rtsp", close=stream.cut
            )
            if viewer is None:
                close()
                return

        async def violation(what: str, action: str) -> None:
            detail = {
                "share_id": admission.share_id,
                "camera_id": admission.camera_id,
                "request_id": admission.request_id,
                "remote": self.remote,
                "what": what,
                "action": action,
            }
            await self._reports.report(f"share:{admission.share_id}", "door_violation", detail)

        relay = Relay(
            reader=self.reader,
            writer=self.writer,
            parser=self.parser,
            viewing=self.viewing,
            upstream=upstream,
            channels=self.channels,
            viewer=viewer,
            reply=self.reply,
            violation=violation,
            no_media_s=self._no_media_s,
        )
        try:
            await relay.run()
        finally:
            close()
            end_reason = None if stream.by_door else relay.end_reason
            if end_reason is not None:
                _LOGGER.warning(
                    "camera %s lost while share %s played (no media for %g s, or the upstream "
                    "closed): the viewer was ended",
                    admission.camera_id,
                    admission.share_id,
                    self._no_media_s,
                )
            if viewer is not None and self._viewers is not None:
                await self._viewers.disconnect(viewer, end_reason=end_reason)
