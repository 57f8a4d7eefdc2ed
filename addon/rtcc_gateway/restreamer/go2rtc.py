"""The `go2rtc` backend: a supervised go2rtc child holding exactly the live shares' streams.

The child (go2rtc_server.py) gets a hardened config file that is rewritten from scratch before
every start (go2rtc_config.py) and is checked to have bound where asked before use. Streams are
named by share tokens and fed only from the owner's registry URL (plus an AAC transcoder of the
stream's own audio for shares with audio). A child that exits or stops answering is replaced with
new ports and credentials and only the live streams. go2rtc's DELETE leaves live sessions running
(facts/go2rtc.md): cutting viewers is the door's job.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final
from urllib.parse import quote

import aiohttp
from go2rtc_client.exceptions import Go2RtcClientError

from rtcc_gateway.redact import Secrets
from rtcc_gateway.restreamer.base import StreamSpec, Upstream
from rtcc_gateway.restreamer.go2rtc_config import (
    ALLOW_PATHS,
    LOOPBACK,
    MAX_VERSION,
    MIN_VERSION,
    VIDEO_ONLY_QUERY,
    WITH_AUDIO_QUERY,
    Go2rtcError,
    find_go2rtc,
    parse_version,
    probe_version,
    stream_query,
    stream_sources,
)
from rtcc_gateway.restreamer.go2rtc_server import API_ERRORS, Go2rtcServer
from rtcc_gateway.tasks import cancel_and_wait

__all__ = [
    "ALLOW_PATHS",
    "MAX_VERSION",
    "MIN_VERSION",
    "VIDEO_ONLY_QUERY",
    "WITH_AUDIO_QUERY",
    "Go2rtcError",
    "Go2rtcRestreamer",
    "find_go2rtc",
    "parse_version",
    "probe_version",
]

_LOGGER = logging.getLogger(__name__)

RESTART_BACKOFF_S: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# Liveness: a probe every 5 s, each given 5 s; three misses in a row (~30 s) mean a hung child.
HEALTH: Final = (5.0, 5.0, 3)

type RestartHook = Callable[[], Awaitable[None]]


class Go2rtcRestreamer:
    """Runs and supervises one go2rtc child; keeps exactly the live shares' streams in it."""

    name = "go2rtc"

    def __init__(
        self,
        binary: Path,
        *,
        on_restart: RestartHook | None = None,
        secrets: Secrets | None = None,
        start_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        backoff: tuple[float, ...] = RESTART_BACKOFF_S,
        health: tuple[float, float, int] = HEALTH,
    ) -> None:
        self.binary = binary
        self.on_restart = on_restart  # the door learns new ports/credentials from here
        self._secrets = secrets  # each child's API credentials are registered there
        self.version: str | None = None
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._backoff = backoff
        self._health = health
        self._live: dict[str, StreamSpec] = {}
        self._dir: Path | None = None
        self._server: Go2rtcServer | None = None
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

    # --- accessors for the door ------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        """go2rtc's config file (inside the private runtime folder)."""
        assert self._dir is not None, "not started"  # noqa: S101
        return self._dir / "go2rtc.yaml"

    @property
    def runtime_dir(self) -> Path | None:
        """The private runtime folder (None when stopped)."""
        return self._dir

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return None if self._server is None else self._server.pid

    def rtsp_address(self) -> tuple[str, int]:
        """go2rtc's loopback RTSP listener (changes at a restart)."""
        return LOOPBACK, 0 if self._server is None else self._server.rtsp_port

    def http_base(self) -> str:
        """go2rtc's loopback API, e.g. `http://127.0.0.1:PORT` (changes at a restart)."""
        return f"http://{LOOPBACK}:0" if self._server is None else self._server.http_base()

    def http_authorization(self) -> str:
        """The `Authorization` header value for go2rtc's API (new at every restart)."""
        return "" if self._server is None else self._server.authorization()

    def http_upstream(self) -> Go2rtcRestreamer:
        """This backend serves MP4 and HLS itself (base.HttpUpstream)."""
        return self

    def rtsp_upstream(self, token: str) -> Upstream | None:
        """Where the RTSP door connects a viewer of a live share: go2rtc's stream of that token."""
        if token not in self._live or self._server is None:
            return None
        port = self._server.rtsp_port
        base = f"rtsp://{LOOPBACK}:{port}/{quote(token, safe='')}"
        return Upstream(host=LOOPBACK, port=port, base=base)

    @staticmethod
    def mp4_query(token: str, share_audio: bool) -> str:
        """The query of `/api/stream.mp4` for a share: video only unless the owner shares audio."""
        return stream_query(token, share_audio)

    @staticmethod
    def hls_query(token: str, share_audio: bool) -> str:
        """The query of `/api/stream.m3u8` (fMP4 HLS): video only unless the owner shares audio."""
        return stream_query(token, share_audio)

    # --- the Restreamer protocol -----------------------------------------------------------------

    async def start(self) -> None:
        """Check the version, start the child where asked, drop anything not live."""
        self._stopping = False
        self.version = await probe_version(self.binary)
        async with self._lock:
            try:
                await self._spawn_checked(attempts=3)
                await self._readd_live()
            except Go2rtcError:
                await self._end_child()
                raise
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def add(self, spec: StreamSpec) -> None:
        """PUT the share's stream (named by its token, fed from the registry URL)."""
        async with self._lock:
            self._live[spec.token] = spec
            server = self._server
            if server is None or server.pid is None:
                return  # re-added by the restart
            try:
                await server.client.streams.add(name=spec.token, sources=stream_sources(spec))
            except API_ERRORS as err:
                if server.pid is not None:
                    raise Go2rtcError(f"go2rtc refused a stream: {_reason(err)}") from None

    async def remove(self, token: str) -> None:
        """DELETE the share's stream (idempotent; live sessions are the door's to cut)."""
        async with self._lock:
            self._live.pop(token, None)
            await self._delete(token)

    async def reconcile(self, live: set[str]) -> None:
        """Forget every share not in `live`, here and in go2rtc."""
        async with self._lock:
            for token in set(self._live) - live:
                del self._live[token]
            await self._delete_unknown()

    async def stop(self) -> None:
        """Stop supervising, end the child, delete the runtime folder."""
        self._stopping = True
        await cancel_and_wait(self._watcher)
        self._watcher = None
        async with self._lock:
            await self._end_child()
        self._live.clear()

    # --- internals -------------------------------------------------------------------------------

    async def list_streams(self) -> dict[str, list[str]]:
        """go2rtc's streams and their sources (for reconcile and tests; never logged)."""
        if self._server is None:
            raise Go2rtcError("go2rtc: not running")
        try:
            streams = await self._server.client.streams.list()
        except API_ERRORS as err:
            raise Go2rtcError(f"go2rtc: cannot list streams: {_reason(err)}") from None
        return {name: [p.url for p in stream.producers] for name, stream in streams.items()}

    async def _delete(self, token: str) -> None:
        server = self._server
        if server is None or server.pid is None:
            return
        url = f"{server.http_base()}/api/streams"
        try:
            async with server.session.delete(url, params={"src": token}) as resp:
                # go2rtc answers 200 whether or not the stream existed; anything else is a failure.
                if resp.status != 200:  # noqa: PLR2004
                    _LOGGER.warning("go2rtc: DELETE of a stream answered %s", resp.status)
        except (aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.warning("go2rtc: DELETE of a stream failed: %s", type(err).__name__)

    async def _delete_unknown(self) -> None:
        if self._server is None or self._server.pid is None:
            return
        try:
            names = set(await self.list_streams())
        except Go2rtcError as err:
            # A fresh child holds only what we PUT; a later reconcile retries the listing.
            _LOGGER.warning("%s", err)
            return
        for name in names - set(self._live):
            await self._delete(name)

    async def _readd_live(self) -> None:
        await self._delete_unknown()
        assert self._server is not None  # noqa: S101
        for spec in list(self._live.values()):
            try:
                await self._server.client.streams.add(name=spec.token, sources=stream_sources(spec))
            except API_ERRORS as err:
                raise Go2rtcError(f"go2rtc: cannot set up streams: {_reason(err)}") from None

    async def _spawn_checked(self, attempts: int) -> None:
        """Spawn until one child answers on its configured API port (a port may be taken)."""
        for attempt in range(attempts):
            try:
                await self._spawn()
            except Go2rtcError:
                if attempt == attempts - 1:
                    raise
            else:
                return

    async def _spawn(self, *, kill_old: bool = False) -> None:
        await self._end_child(keep_dir=True, kill=kill_old)
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="rtcc-go2rtc-"))
            self._dir.chmod(0o700)
        server = Go2rtcServer(self.binary, self.config_path, self._secrets)
        try:
            await server.start(self._start_timeout)
        except Go2rtcError:
            await server.end(timeout=self._stop_timeout)
            raise
        self._server = server

    async def _end_child(self, *, keep_dir: bool = False, kill: bool = False) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.end(timeout=self._stop_timeout, kill=kill)
        if not keep_dir and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _stopped(self) -> bool:
        # A method, so that type narrowing does not assume the flag cannot change across awaits.
        return self._stopping

    async def _watch(self) -> None:
        """Replace a child that exits or hangs: new config and ports, only the live streams."""
        interval, timeout, misses = self._health
        while not self._stopped():
            server = self._server
            if server is None:
                return
            why = await server.failure(interval=interval, timeout=timeout, misses=misses)
            if self._stopped() or server is not self._server:
                continue
            _LOGGER.warning("go2rtc %s; restarting it", why)
            hung = server.pid is not None
            attempt = 0
            while not self._stopped():
                # Even the first try waits: a child that dies at once must not spin the loop.
                await asyncio.sleep(self._backoff[min(attempt, len(self._backoff) - 1)])
                attempt += 1
                try:
                    async with self._lock:
                        await self._spawn(kill_old=hung)
                        await self._readd_live()
                except Go2rtcError as err:
                    _LOGGER.debug("go2rtc restart failed: %s", err)
                    continue
                break
            if self._stopped():
                return
            self.restarts += 1
            _LOGGER.info("go2rtc restarted with %d live stream(s)", len(self._live))
            if self.on_restart is not None:
                try:
                    await self.on_restart()
                except Exception:
                    _LOGGER.exception("go2rtc on_restart hook failed")


def _reason(err: BaseException) -> str:
    """A short, secret-free reason (go2rtc-client chains the aiohttp error, which has URLs)."""
    cause = err.__cause__
    if isinstance(cause, aiohttp.ClientResponseError):
        return f"HTTP {cause.status}"
    if isinstance(err, Go2rtcError):
        return str(err)
    if not isinstance(err, Go2RtcClientError):
        return "an answer it could not read"
    return type(cause or err).__name__
