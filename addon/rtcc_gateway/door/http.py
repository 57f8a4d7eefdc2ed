"""The HTTP door: `/s/{token}/stream.mp4` and HLS, proxied from the restreamer's loopback API.

Every byte passes here so the door counts viewers and cuts them; the HLS session ids the
restreamer hands out are remembered per share, so they die with it. Unknown and expired tokens
answer the same 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

import aiohttp
from aiohttp import web

from rtcc_gateway.door.viewers import Viewer, ViewerRegistry
from rtcc_gateway.problems import problem
from rtcc_gateway.restreamer.base import HttpUpstream

_LOGGER = logging.getLogger(__name__)

CHUNK: Final = 64 * 1024
HLS_IDLE_S: Final = 15.0  # an HLS viewer that fetched nothing for this long has left
UPSTREAM_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, connect=5, sock_read=30)
_SESSION_ID: Final = re.compile(r"[?&]id=([A-Za-z0-9_-]{1,64})")
_HLS_FILES: Final = frozenset({"playlist.m3u8", "init.mp4", "segment.m4s", "segment.ts"})


@dataclass(frozen=True, slots=True)
class HttpAdmission:
    """A live share the HTTP door may serve."""

    token: str = field(repr=False)
    share_id: str
    request_id: str
    camera_id: str
    share_audio: bool


type HttpAdmit = Callable[[str], Awaitable[HttpAdmission | None]]


@dataclass(slots=True)
class _HlsSession:
    token: str
    viewer: Viewer | None
    last_seen: float


class HttpDoor:
    """Routes under /s/ on the public listener."""

    def __init__(
        self,
        admit: HttpAdmit,
        viewers: ViewerRegistry,
        upstream: Callable[[], HttpUpstream | None],
    ) -> None:
        self._admit = admit
        self._viewers = viewers
        self._upstream = upstream
        self._session: aiohttp.ClientSession | None = None
        self._hls: dict[str, _HlsSession] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._streams: set[web.StreamResponse] = set()

    def add_routes(self, app: web.Application) -> None:
        """Register the door's routes."""
        app.router.add_get("/s/{token}/stream.mp4", self.mp4)
        app.router.add_get("/s/{token}/index.m3u8", self.hls_master)
        app.router.add_get("/s/{token}/hls/{name}", self.hls_file)

    async def start(self) -> None:
        """Open the loopback client and the HLS idle sweeper."""
        self._session = aiohttp.ClientSession(timeout=UPSTREAM_TIMEOUT)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def stop(self) -> None:
        """Close everything."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
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

    async def _resolve(self, request: web.Request) -> tuple[HttpAdmission, HttpUpstream] | None:
        token = request.match_info["token"]
        upstream = self._upstream()
        if upstream is None or self._session is None:
            return None
        admission = await self._admit(token)
        if admission is None:
            return None
        return admission, upstream

    @staticmethod
    def _not_found() -> web.Response:
        return problem(404, "No such stream.")

    async def mp4(self, request: web.Request) -> web.StreamResponse:
        """GET /s/{token}/stream.mp4: fragmented MP4 until the viewer leaves or the share ends."""
        resolved = await self._resolve(request)
        if resolved is None:
            return self._not_found()
        admission, upstream = resolved
        assert self._session is not None  # noqa: S101 - _resolve checked
        query = upstream.mp4_query(admission.token, admission.share_audio)
        url = f"{upstream.http_base()}/api/stream.mp4?{query}"
        async with self._session.get(
            url, headers={"Authorization": upstream.http_authorization()}
        ) as source:
            if source.status != 200:  # noqa: PLR2004
                return self._not_found()
            response = web.StreamResponse(
                headers={"Content-Type": "video/mp4", "Cache-Control": "no-store"}
            )
            await response.prepare(request)

            def close() -> None:
                if request.transport is not None:
                    request.transport.abort()
                source.close()

            viewer = self._viewers.connect(
                token=admission.token,
                share_id=admission.share_id,
                camera_id=admission.camera_id,
                request_id=admission.request_id,
                remote=request.remote or "unknown",
                kind="mp4",
                close=close,
            )
            if viewer is None:
                close()
                return response
            try:
                async for chunk in source.content.iter_chunked(CHUNK):
                    await response.write(chunk)
                    viewer.bytes_out += len(chunk)
            except (ConnectionError, aiohttp.ClientError, asyncio.CancelledError):
                pass
            finally:
                close()
                # aiohttp cancels this handler once the viewer's connection is gone; the record
                # of the viewer's end must be written all the same.
                await self._viewers.disconnect(viewer)
        return response

    async def hls_master(self, request: web.Request) -> web.StreamResponse:
        """GET /s/{token}/index.m3u8: the master playlist; its session id is this share's."""
        resolved = await self._resolve(request)
        if resolved is None:
            return self._not_found()
        admission, upstream = resolved
        query = upstream.hls_query(admission.token, admission.share_audio)
        fetched = await self._fetch(upstream, f"/api/stream.m3u8?{query}")
        if fetched is None:
            return self._not_found()
        body, _ = fetched
        for session_id in _SESSION_ID.findall(body.decode("utf-8", "replace")):
            if session_id not in self._hls:
                viewer = self._viewers.connect(
                    token=admission.token,
                    share_id=admission.share_id,
                    camera_id=admission.camera_id,
                    request_id=admission.request_id,
                    remote=request.remote or "unknown",
                    kind="hls",
                    close=_nothing_to_close,  # `forget` ends HLS sessions when the share is cut
                )
                if viewer is None:
                    return self._not_found()
                self._hls[session_id] = _HlsSession(admission.token, viewer, time.monotonic())
        return web.Response(
            body=body,
            content_type="application/vnd.apple.mpegurl",
            headers={"Cache-Control": "no-store"},
        )

    async def hls_file(self, request: web.Request) -> web.StreamResponse:
        """GET /s/{token}/hls/{playlist.m3u8|init.mp4|segment.m4s}?id=….

        Only the share's own sessions are served, and only while it is live.
        """
        name = request.match_info["name"]
        session_id = request.query.get("id", "")
        session = self._hls.get(session_id)
        if (
            name not in _HLS_FILES
            or session is None
            or session.token != request.match_info["token"]
        ):
            return self._not_found()
        resolved = await self._resolve(request)
        if resolved is None:
            return self._not_found()
        _, upstream = resolved
        session.last_seen = time.monotonic()
        fetched = await self._fetch(upstream, f"/api/hls/{name}?{request.query_string}")
        if fetched is None:
            return self._not_found()
        body, content_type = fetched
        if session.viewer is not None:
            session.viewer.bytes_out += len(body)
        return web.Response(
            body=body, headers={"Content-Type": content_type, "Cache-Control": "no-store"}
        )

    async def _fetch(self, upstream: HttpUpstream, path: str) -> tuple[bytes, str] | None:
        """A small whole response from the restreamer (playlists, segments); None if refused."""
        assert self._session is not None  # noqa: S101 - only called after _resolve
        headers = {"Authorization": upstream.http_authorization()}
        async with self._session.get(upstream.http_base() + path, headers=headers) as source:
            if source.status != 200:  # noqa: PLR2004
                return None
            body = await source.read()
            return body, source.headers.get("Content-Type", "application/octet-stream")

    async def _sweep(self) -> None:
        """HLS has no connection to close: a session that stops fetching has left."""
        while True:
            await asyncio.sleep(HLS_IDLE_S / 3)
            now = time.monotonic()
            for session_id, session in list(self._hls.items()):
                if now - session.last_seen > HLS_IDLE_S:
                    del self._hls[session_id]
                    if session.viewer is not None:
                        await self._viewers.disconnect(session.viewer)


def _nothing_to_close() -> None:
    """HLS viewers hold no connection between fetches."""
