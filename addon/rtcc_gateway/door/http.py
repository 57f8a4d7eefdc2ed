"""The HTTP door: `/s/{token}/stream.mp4` and fMP4 HLS, proxied from the restreamer's loopback API.

Its surface is exactly this: GET and HEAD of five paths, matched on the raw request target (no dot
segments, no percent-encoding, no query but the HLS session id and segment number the playlists
name). It builds every query it sends upstream itself, names every header it answers with (none
comes from upstream), checks the playlists it relays, and remembers which HLS session ids belong
to which share, so that they die with it. Every byte passes here so the door counts viewers and
cuts them. Unknown and expired tokens answer the same 404.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import aiohttp
from aiohttp import web

from rtcc_gateway.clock import Steady
from rtcc_gateway.door.http_target import (
    LIMITS,
    METHODS,
    DoorRequest,
    PlaylistError,
    answer_headers,
    check_playlist,
    master_session,
    parse_target,
)
from rtcc_gateway.door.share_admission import DoorCut, ShareAdmission
from rtcc_gateway.door.viewers import CAMERA_LOST, NO_MEDIA_S, Viewer, ViewerRegistry
from rtcc_gateway.problems import problem
from rtcc_gateway.restreamer.base import HttpUpstream
from rtcc_gateway.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)


async def _copy_media(
    source: aiohttp.ClientResponse, response: web.StreamResponse, viewer: Viewer, no_media_s: float
) -> bool:
    """Copy the restreamer's MP4 to the viewer; True once it went silent or ended.

    go2rtc keeps a viewer whose camera died connected and silent: `no_media_s` ends that.
    """
    while True:
        try:
            async with asyncio.timeout(no_media_s):
                chunk = await source.content.readany()
        except TimeoutError:
            return True
        if not chunk:
            return True
        await response.write(chunk)
        viewer.bytes_out += len(chunk)


CHUNK: Final = 64 * 1024
HLS_IDLE_S: Final = 15.0  # an HLS viewer that fetched nothing for this long has left
MAX_HLS_SESSIONS: Final = 16  # per share: each master playlist fetch opens one upstream
UPSTREAM_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, connect=5, sock_read=30)
FETCH_TIMEOUT: Final = aiohttp.ClientTimeout(total=20, connect=5)  # go2rtc waits for a segment


type HttpAdmit = Callable[[str], Awaitable[ShareAdmission | None]]


@dataclass(slots=True)
class _HlsSession:
    token: str
    viewer: Viewer | None
    last_seen: float


class _Refused(Exception):  # noqa: N818 - carries the answer
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.reason)
        self.response = response


def _unavailable() -> _Refused:
    return _Refused(problem(503, "The stream is not available right now."))


def _not_found() -> web.Response:
    return problem(404, "No such stream.")


class HttpDoor:
    """Routes under /s/ on the public listener."""

    def __init__(
        self,
        admit: HttpAdmit,
        viewers: ViewerRegistry,
        upstream: Callable[[], HttpUpstream | None],
        *,
        clock: Steady,
        no_media_s: float = NO_MEDIA_S,
    ) -> None:
        self._clock = clock
        self.no_media_s = no_media_s  # an MP4 viewer that gets nothing this long: camera lost
        self._admit = admit
        self._viewers = viewers
        self._upstream = upstream
        self._session: aiohttp.ClientSession | None = None
        self._hls: dict[str, _HlsSession] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def add_routes(self, app: web.Application) -> None:
        """One route for everything under /s/: the door matches the raw target itself."""
        app.router.add_route("*", "/s/{tail:.*}", self.handle)

    async def start(self) -> None:
        """Open the loopback client and the HLS idle sweeper."""
        self._session = aiohttp.ClientSession(timeout=UPSTREAM_TIMEOUT, auto_decompress=False)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def stop(self) -> None:
        """Close everything."""
        await cancel_and_wait(self._sweeper)
        self._sweeper = None
        for token in {s.token for s in self._hls.values()}:
            await self.forget(token)
        if self._session is not None:
            await self._session.close()

    async def forget(self, token: str) -> None:
        """A share ended: its HLS sessions die with it (MP4 viewers are cut by the registry)."""
        for session_id, session in list(self._hls.items()):
            if session.token == token:
                del self._hls[session_id]
                if session.viewer is not None:
                    await self._viewers.disconnect(session.viewer)

    async def handle(self, request: web.Request) -> web.StreamResponse:  # noqa: PLR0911
        """Every request under /s/: method, then target, then the share, then the file."""
        if request.method not in METHODS:
            return problem(
                405, "Stream links take GET and HEAD only.", headers={"Allow": "GET, HEAD"}
            )
        parsed = parse_target(request.raw_path)
        if isinstance(parsed, web.Response):
            return parsed
        try:
            if parsed.file.startswith("hls/") and not self._owns(parsed):
                return _not_found()
            resolved = await self._resolve(parsed.token)
            if resolved is None:
                return _not_found()
            admission, upstream = resolved
            if request.method == "HEAD":
                return web.Response(headers=answer_headers(parsed.file))
            if parsed.file == "stream.mp4":
                return await self._mp4(request, admission, upstream)
            if parsed.file == "index.m3u8":
                return await self._hls_master(request, admission, upstream)
            return await self._hls_file(parsed, upstream)
        except _Refused as refused:
            return refused.response

    def _owns(self, parsed: DoorRequest) -> bool:
        """An HLS session id is served only under the token of the share that opened it."""
        session = self._hls.get(parsed.session_id)
        return session is not None and session.token == parsed.token

    async def _resolve(self, token: str) -> tuple[ShareAdmission, HttpUpstream] | None:
        upstream = self._upstream()
        if upstream is None or self._session is None:
            return None
        admission = await self._admit(token)
        if admission is None:
            return None
        return admission, upstream

    async def _mp4(
        self, request: web.Request, admission: ShareAdmission, upstream: HttpUpstream
    ) -> web.StreamResponse:
        """Fragmented MP4 until the viewer leaves or the share ends."""
        assert self._session is not None  # noqa: S101 - _resolve checked
        query = upstream.mp4_query(admission.token, admission.share_audio)
        url = f"{upstream.http_base()}/api/stream.mp4?{query}"
        try:
            source = await self._session.get(
                url, headers={"Authorization": upstream.http_authorization()}
            )
        except (aiohttp.ClientError, TimeoutError):
            raise _unavailable() from None
        async with source:
            if source.status == 404:  # noqa: PLR2004 - the restreamer has no such stream
                raise _Refused(_not_found())
            if source.status != 200:  # noqa: PLR2004
                raise _unavailable()
            response = web.StreamResponse(headers=answer_headers("stream.mp4"))
            await response.prepare(request)

            def close() -> None:
                if request.transport is not None:
                    request.transport.abort()
                source.close()

            stream = DoorCut(close)
            viewer = self._viewers.connect(
                admission,
                remote=request.remote or "unknown",
                kind="mp4",
                close=stream.cut,
            )
            if viewer is None:
                close()
                return response
            lost = False
            try:
                lost = await _copy_media(source, response, viewer, self.no_media_s)
            except (ConnectionError, aiohttp.ClientError, TimeoutError, asyncio.CancelledError):
                pass
            finally:
                close()
                end_reason = CAMERA_LOST if lost and not stream.by_door else None
                if end_reason is not None:
                    _LOGGER.warning(
                        "camera %s lost while share %s played over MP4: the viewer was ended",
                        admission.camera_id,
                        admission.share_id,
                    )
                # aiohttp cancels this handler once the viewer's connection is gone; the record
                # of the viewer's end must be written all the same.
                await self._viewers.disconnect(viewer, end_reason=end_reason)
        return response

    async def _hls_master(
        self, request: web.Request, admission: ShareAdmission, upstream: HttpUpstream
    ) -> web.StreamResponse:
        """The master playlist; its one session id is this share's from now on."""
        if sum(s.token == admission.token for s in self._hls.values()) >= MAX_HLS_SESSIONS:
            return problem(429, "Too many HLS sessions on this link; reuse a playlist.")
        query = upstream.hls_query(admission.token, admission.share_audio)
        body = await self._fetch(upstream, f"/api/stream.m3u8?{query}", "index.m3u8")
        try:
            session_id = master_session(body)
        except PlaylistError:
            raise _unavailable() from None
        known = self._hls.get(session_id)
        if known is not None and known.token != admission.token:
            raise _unavailable()  # an upstream that reuses ids across streams is broken
        if known is None:
            viewer = self._viewers.connect(
                admission,
                remote=request.remote or "unknown",
                kind="hls",
                close=_nothing_to_close,  # `forget` ends HLS sessions when the share is cut
            )
            if viewer is None:
                return _not_found()
            self._hls[session_id] = _HlsSession(admission.token, viewer, self._clock())
        return web.Response(body=body, headers=answer_headers("index.m3u8"))

    async def _hls_file(self, parsed: DoorRequest, upstream: HttpUpstream) -> web.StreamResponse:
        """A playlist, init segment or segment of one of this share's sessions."""
        session = self._hls[parsed.session_id]
        session.last_seen = self._clock()
        query = f"id={parsed.session_id}" + (f"&n={parsed.segment}" if parsed.segment else "")
        path = f"/api/{parsed.file}?{query}"
        body = await self._fetch(upstream, path, parsed.file)
        if parsed.file == "hls/playlist.m3u8":
            try:
                check_playlist(body, parsed.session_id)
            except PlaylistError:
                raise _unavailable() from None
        if session.viewer is not None:
            session.viewer.bytes_out += len(body)
        return web.Response(body=body, headers=answer_headers(parsed.file))

    async def _fetch(self, upstream: HttpUpstream, path: str, file: str) -> bytes:
        """A small whole answer from the restreamer.

        404 when it has no such thing; 503 when it answers anything else, too much, or too late.
        """
        assert self._session is not None  # noqa: S101 - only called after _resolve
        headers = {"Authorization": upstream.http_authorization()}
        limit = LIMITS[file]
        try:
            async with self._session.get(
                upstream.http_base() + path, headers=headers, timeout=FETCH_TIMEOUT
            ) as source:
                if source.status == 404:  # noqa: PLR2004
                    raise _Refused(_not_found())
                if source.status != 200 or (source.content_length or 0) > limit:  # noqa: PLR2004
                    raise _unavailable()
                body = bytearray()
                async for chunk in source.content.iter_chunked(CHUNK):
                    body += chunk
                    if len(body) > limit:
                        raise _unavailable()
                return bytes(body)
        except (aiohttp.ClientError, TimeoutError):
            raise _unavailable() from None

    async def _sweep(self) -> None:
        """HLS has no connection to close: a session that stops fetching has left."""
        while True:
            await asyncio.sleep(HLS_IDLE_S / 3)
            now = self._clock()
            for session_id, session in list(self._hls.items()):
                if now - session.last_seen > HLS_IDLE_S:
                    del self._hls[session_id]
                    if session.viewer is not None:
                        await self._viewers.disconnect(session.viewer)


def _nothing_to_close() -> None:
    """HLS viewers hold no connection between fetches."""
