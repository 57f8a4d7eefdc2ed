"""The `go2rtc` backend: a private go2rtc child process, driven over its loopback API.

go2rtc is started with a hardened config file that the gateway rewrites from scratch before every
start (loopback only, random API credentials with `local_auth`, API `allow_paths` limited to the
stream and HLS paths, `exec` restricted to ffmpeg, WebRTC off), and is checked to have bound where
asked before use. Streams are named by share tokens and fed only from the owner's registry URL.
go2rtc's DELETE leaves live sessions running (facts/go2rtc.md): cutting viewers is the door's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final
from urllib.parse import quote

import aiohttp
import yaml
from go2rtc_client import Go2RtcRestClient
from go2rtc_client.exceptions import Go2RtcClientError, Go2RtcVersionError

from rtcc_gateway.restreamer.base import StreamSpec, Upstream

_LOGGER = logging.getLogger(__name__)

MIN_VERSION: Final = (1, 9, 13)  # the oldest go2rtc-client 0.4.0 accepts; 1.9.12+ refuses exec:
MAX_VERSION: Final = (2, 0, 0)  # go2rtc-client 0.4.0 refuses 2.0 and newer
# Exactly the MP4 and HLS paths (facts/go2rtc.md): /api/config, /api/restart, ... answer 404.
ALLOW_PATHS: Final = (
    "/api",
    "/api/streams",
    "/api/stream.mp4",
    "/api/stream.m3u8",
    "/api/hls/playlist.m3u8",
    "/api/hls/init.mp4",
    "/api/hls/segment.m4s",
    "/api/hls/segment.ts",
)
# go2rtc's track filters (pkg/mp4 ParseQuery, pkg/core ParseQuery): without `mp4`, naming only
# `video` carries no audio, in MP4 and in fMP4 HLS alike; `mp4` is its default H.264/H.265 + AAC.
VIDEO_ONLY_QUERY: Final = "video=h264,h265"
WITH_AUDIO_QUERY: Final = "mp4"
LOOPBACK: Final = "127.0.0.1"
RESTART_BACKOFF_S: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

type RestartHook = Callable[[], Awaitable[None]]


_PR_SET_PDEATHSIG: Final = 1


class Go2rtcError(Exception):
    """go2rtc is missing, too old, or did not start where it was told to."""


def find_go2rtc(configured: Path | None) -> Path | None:
    """The binary to use: config `go2rtc_bin`, then $GO2RTC_BIN, then `go2rtc` on PATH."""
    if configured is not None:
        return configured
    env = os.environ.get("GO2RTC_BIN")
    if env:
        return Path(env)
    found = shutil.which("go2rtc")
    return Path(found) if found else None


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from `go2rtc version 1.9.14 (rev) linux/amd64`."""
    match = re.search(r"version\s+v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


async def probe_version(path: Path, timeout: float = 10) -> str:
    """Run `BIN -version`; the version, or Go2rtcError when it cannot run or is unsupported."""
    try:
        proc = await asyncio.create_subprocess_exec(
            str(path),
            "-version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as err:
        raise Go2rtcError(f"go2rtc: cannot run {path}: {err.strerror or err}") from None
    try:
        async with asyncio.timeout(timeout):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise Go2rtcError(f"go2rtc: {path} -version did not answer in {timeout:g} s") from None
    version = parse_version(out.decode(errors="replace"))
    if version is None:
        raise Go2rtcError(f"go2rtc: {path} -version printed no version")
    text = ".".join(map(str, version))
    if version < MIN_VERSION:
        raise Go2rtcError(
            f"go2rtc {text} is too old: 1.9.13 or newer is required "
            "(older versions run commands from exec: sources added through the API)"
        )
    if version >= MAX_VERSION:
        raise Go2rtcError(f"go2rtc {text} is not supported: go2rtc-client 0.4.0 needs < 2.0.0")
    return text


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class Go2rtcRestreamer:
    """Runs and supervises one go2rtc child; keeps exactly the live shares' streams in it."""

    name = "go2rtc"

    def __init__(
        self,
        binary: Path,
        *,
        on_restart: RestartHook | None = None,
        start_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        backoff: tuple[float, ...] = RESTART_BACKOFF_S,
    ) -> None:
        self.binary = binary
        self.on_restart = on_restart  # the door learns new ports/credentials from here
        self.version: str | None = None
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._backoff = backoff
        self._live: dict[str, StreamSpec] = {}
        self._dir: Path | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._client: Go2RtcRestClient | None = None
        self._api_port = 0
        self._rtsp_port = 0
        self._login = self._password = ""
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
        return None if self._proc is None or self._proc.returncode is not None else self._proc.pid

    def rtsp_address(self) -> tuple[str, int]:
        """go2rtc's loopback RTSP listener (changes at a restart)."""
        return LOOPBACK, self._rtsp_port

    def http_base(self) -> str:
        """go2rtc's loopback API, e.g. `http://127.0.0.1:PORT` (changes at a restart)."""
        return f"http://{LOOPBACK}:{self._api_port}"

    def http_authorization(self) -> str:
        """The `Authorization` header value for go2rtc's API (new at every restart)."""
        return aiohttp.encode_basic_auth(self._login, self._password)

    def http_upstream(self) -> Go2rtcRestreamer:
        """This backend serves MP4 and HLS itself (base.HttpUpstream)."""
        return self

    def rtsp_upstream(self, token: str) -> Upstream | None:
        """Where the RTSP door connects a viewer of a live share: go2rtc's stream of that token."""
        if token not in self._live:
            return None
        base = f"rtsp://{LOOPBACK}:{self._rtsp_port}/{quote(token, safe='')}"
        return Upstream(host=LOOPBACK, port=self._rtsp_port, base=base)

    @staticmethod
    def mp4_query(token: str, share_audio: bool) -> str:
        """The query of `/api/stream.mp4` for a share: video only unless the owner shares audio."""
        return _query(token, share_audio)

    @staticmethod
    def hls_query(token: str, share_audio: bool) -> str:
        """The query of `/api/stream.m3u8` (fMP4 HLS): video only unless the owner shares audio."""
        # Both filters make go2rtc serve fMP4 HLS (without one it would serve MPEG-TS).
        return _query(token, share_audio)

    # --- the Restreamer protocol -----------------------------------------------------------------

    async def start(self) -> None:
        """Check the version, start the child where asked, drop anything not live."""
        self._stopping = False
        self.version = await probe_version(self.binary)
        async with self._lock:
            try:
                await self._spawn_checked(attempts=3)
                await self._readd_live()
            except Go2RtcClientError as err:
                await self._end_child()
                raise Go2rtcError(f"go2rtc: cannot set up streams: {_reason(err)}") from None
            except Go2rtcError:
                await self._end_child()
                raise
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def add(self, spec: StreamSpec) -> None:
        """PUT the share's stream (named by its token, fed from the registry URL)."""
        async with self._lock:
            self._live[spec.token] = spec
            if self._client is None or self.pid is None:
                return  # re-added by the restart
            try:
                await self._client.streams.add(name=spec.token, sources=spec.source)
            except Go2RtcClientError as err:
                if self.pid is not None:
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
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        async with self._lock:
            await self._end_child()
        self._live.clear()

    # --- internals -------------------------------------------------------------------------------

    async def list_streams(self) -> dict[str, list[str]]:
        """go2rtc's streams and their sources (for reconcile and tests; never logged)."""
        assert self._client is not None  # noqa: S101
        streams = await self._client.streams.list()
        return {name: [p.url for p in stream.producers] for name, stream in streams.items()}

    async def _delete(self, token: str) -> None:
        if self._session is None or self.pid is None:
            return
        url = f"{self.http_base()}/api/streams"
        try:
            async with self._session.delete(url, params={"src": token}) as resp:
                # 404: already gone. Anything else but 200 is a failure worth a line.
                if resp.status not in (200, 404):
                    _LOGGER.warning("go2rtc: DELETE of a stream answered %s", resp.status)
        except (aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.warning("go2rtc: DELETE of a stream failed: %s", type(err).__name__)

    async def _delete_unknown(self) -> None:
        if self._client is None or self.pid is None:
            return
        try:
            names = set(await self.list_streams())
        except Go2RtcClientError as err:
            _LOGGER.warning("go2rtc: cannot list streams: %s", _reason(err))
            return
        for name in names - set(self._live):
            await self._delete(name)

    async def _readd_live(self) -> None:
        await self._delete_unknown()
        assert self._client is not None  # noqa: S101
        for spec in list(self._live.values()):
            await self._client.streams.add(name=spec.token, sources=spec.source)

    def _write_config(self) -> None:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="rtcc-go2rtc-"))
            self._dir.chmod(0o700)
        self._api_port, self._rtsp_port = _free_port(), _free_port()
        self._login, self._password = secrets.token_urlsafe(12), secrets.token_urlsafe(24)
        config = {
            "api": {
                "listen": f"{LOOPBACK}:{self._api_port}",
                "username": self._login,
                "password": self._password,
                "local_auth": True,
                "allow_paths": list(ALLOW_PATHS),
            },
            "rtsp": {"listen": f"{LOOPBACK}:{self._rtsp_port}"},
            "exec": {"allow_paths": ["ffmpeg"]},
            "webrtc": {"listen": ""},
            "srtp": {"listen": ""},
        }
        path = self.config_path
        path.unlink(missing_ok=True)  # from scratch: nothing go2rtc wrote into it survives
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            yaml.safe_dump(config, file, sort_keys=False)

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

    async def _spawn(self) -> None:
        await self._end_child(keep_dir=True)
        self._write_config()
        self._proc = await asyncio.create_subprocess_exec(
            str(self.binary),
            "-config",
            str(self.config_path),
            stdin=asyncio.subprocess.DEVNULL,
            # go2rtc's log may carry camera URLs with credentials: never relayed.
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._session = aiohttp.ClientSession(
            headers={"Authorization": self.http_authorization()},
            timeout=aiohttp.ClientTimeout(total=10),
        )
        self._client = Go2RtcRestClient(self._session, self.http_base())
        try:
            await self._check_bound()
        except Go2rtcError:
            await self._end_child(keep_dir=True)
            raise

    async def _check_bound(self) -> None:
        """The configured API port answers with our credentials, the RTSP port accepts."""
        assert self._client is not None  # noqa: S101
        assert self._proc is not None  # noqa: S101
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        while True:
            if self._proc.returncode is not None:
                raise Go2rtcError(
                    f"go2rtc exited with code {self._proc.returncode} at start "
                    "(did not bind where configured)"
                )
            try:
                await self._client.validate_server_version()
                _, writer = await asyncio.open_connection(LOOPBACK, self._rtsp_port)
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            except Go2RtcVersionError as err:
                raise Go2rtcError(f"go2rtc: {err}") from None
            except (Go2RtcClientError, OSError):
                if loop.time() >= deadline:
                    raise Go2rtcError(
                        "go2rtc did not bind where configured "
                        f"(no answer on {LOOPBACK}:{self._api_port} within "
                        f"{self._start_timeout:g} s)"
                    ) from None
                await asyncio.sleep(0.1)
            else:
                return

    async def _end_child(self, *, keep_dir: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(self._stop_timeout):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None
        if not keep_dir and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _stopped(self) -> bool:
        # A method, so that type narrowing does not assume the flag cannot change across awaits.
        return self._stopping

    async def _watch(self) -> None:
        """Restart the child when it dies: new config, new ports, only the live streams."""
        while not self._stopped():
            proc = self._proc
            if proc is None:
                return
            code = await proc.wait()
            if self._stopped() or proc is not self._proc:
                continue
            _LOGGER.warning("go2rtc exited (code %s); restarting it", code)
            attempt = 0
            while not self._stopped():
                await asyncio.sleep(self._backoff[min(attempt, len(self._backoff) - 1)])
                attempt += 1
                try:
                    async with self._lock:
                        await self._spawn()
                        await self._readd_live()
                except (Go2rtcError, Go2RtcClientError) as err:
                    _LOGGER.debug("go2rtc restart failed: %s", _reason(err))
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


def _query(token: str, share_audio: bool) -> str:
    return f"src={quote(token, safe='')}&" + (WITH_AUDIO_QUERY if share_audio else VIDEO_ONLY_QUERY)


def _reason(err: BaseException) -> str:
    """A short, secret-free reason (go2rtc-client chains the aiohttp error, which has URLs)."""
    cause = err.__cause__
    if isinstance(cause, aiohttp.ClientResponseError):
        return f"HTTP {cause.status}"
    if isinstance(err, Go2rtcError):
        return str(err)
    return type(cause or err).__name__


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the gateway dies, even by SIGKILL (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
