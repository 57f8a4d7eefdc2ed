#!/usr/bin/env python3
"""A go2rtc double for CI (the real binary cannot be downloaded here).

Launched exactly like the real binary: `go2rtc_double.py -config FILE` (or `-c FILE`), and
`-version` prints `go2rtc version 1.9.14 (double) linux/amd64` (the version comes from the env
GO2RTC_DOUBLE_VERSION when set, so that refusing an old go2rtc can be tested).

What it reproduces (the rows marked **double** in shared/facts/go2rtc.md, plus what the gateway uses):
- YAML config: `api {listen, username, password, local_auth, allow_paths}`, `rtsp {listen}`,
  `streams {name: source or [sources]}`; it binds only what it is told.
- HTTP API with Basic auth (skipped for loopback clients unless `local_auth: true`, as 1.9.12+);
  with `allow_paths`, every other path answers 404.
  `GET /api` (the app info go2rtc answers; go2rtc-client reads `version`), `GET /api/streams`
  (`{name: {"producers": [{"url": ...}], "consumers": [...]}}`), `PUT /api/streams?name=X&src=URL`
  (200, empty body; `exec:`/`echo:`/`expr:` refused with 400 `streams: source from insecure
  producer`, whitespace in src with 400 `source with spaces may be insecure`; written into the YAML
  config file), `DELETE /api/streams?src=X` (removed from the list and the file, live sessions keep
  running), `GET /api/config` (the file, credentials included, as go2rtc does), `POST /api/restart`
  (ends every session).
- RTSP server: DESCRIBE/SETUP/PLAY of `/NAME` relays to the stream's first source, RTSP-aware
  (request URLs rewritten to the source, upstream Basic/Digest auth done here, Content-Base,
  Content-Location, RTP-Info and SDP URLs rewritten back), then interleaved bytes both ways. Unknown
  name: 404. SETUP without TCP interleaving: 461. A dead camera stalls the consumer, whose socket
  stays open.
- `GET /api/stream.mp4?src=NAME`: fragmented MP4 muxed by ffmpeg until the client leaves.
- HLS (fMP4): `GET /api/stream.m3u8?src=NAME&mp4` answers a master playlist naming the relative
  `hls/playlist.m3u8?id=SESSION`, which names `init.mp4?id=SESSION` and `segment.m4s?id=SESSION&n=K`
  (ffmpeg `-f hls -hls_segment_type fmp4 -hls_time 0.5` into a temp folder). Sessions expire after
  ~10 s without requests.
- Track filters, as go2rtc's pkg/mp4 ParseQuery + pkg/core ParseQuery: a query with `mp4` carries
  video and audio; otherwise, when it names `video` and/or `audio`, only those kinds are carried
  (so `video` without `audio` drops audio: ffmpeg `-an`); with neither, MP4 carries both.
- SIGTERM/SIGINT: exits cleanly, killing its ffmpeg children.

Deviations (on purpose):
- A missing config file: the real go2rtc logs the path and starts with its defaults on *every*
  interface. Tests must never bind 0.0.0.0, so the double binds the same default ports (API 1984,
  RTSP 8554) on 127.0.0.1 only, with no credentials, after logging the same kind of line. A caller
  that probes the port it configured still sees nothing there, which is what the check is for.
- HLS without a track filter (MPEG-TS in the real one) answers 501; only fMP4 HLS is served.
- Audio kept in MP4/HLS is transcoded to AAC (the synthetic camera's G.711 cannot be copied into
  MP4 by ffmpeg); go2rtc would carry AAC as is and G.711 only for `mp4=flac`-style queries.
- A source is only ever an rtsp:// URL; `GET /api/stream.mp4?src=rtsp://...` (an ad-hoc URL)
  answers 404 instead of pulling it. No WebRTC, ONVIF, PATCH, preload, or RTSP publishing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import string
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from aiohttp import web

VERSION = os.environ.get("GO2RTC_DOUBLE_VERSION", "1.9.14")
DEFAULT_API = "127.0.0.1:1984"  # the real default is 0.0.0.0:1984 (see the docstring)
DEFAULT_RTSP = "127.0.0.1:8554"  # the real default is :8554
INSECURE_SCHEMES = ("exec", "echo", "expr")
HLS_IDLE_S = 10.0
FFMPEG = "ffmpeg"


def log(level: str, message: str) -> None:
    """go2rtc-like console lines."""
    stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
    print(f"{stamp} {level} {message}", flush=True)


# --- configuration -------------------------------------------------------------------------------


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return (host or "127.0.0.1"), int(port)


@dataclass
class Config:
    path: Path
    from_file: bool
    api_listen: str = DEFAULT_API
    username: str = ""
    password: str = ""
    local_auth: bool = False
    allow_paths: list[str] | None = None
    rtsp_listen: str = DEFAULT_RTSP
    streams: dict[str, list[str]] = field(default_factory=dict)


def load_config(path: Path) -> Config:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        log("ERR", f'[app] read config error="open {path}: no such file or directory"')
        return Config(path=path, from_file=False)
    cfg = Config(path=path, from_file=True)
    api = data.get("api") or {}
    cfg.api_listen = str(api.get("listen", DEFAULT_API))
    cfg.username = str(api.get("username") or "")
    cfg.password = str(api.get("password") or "")
    cfg.local_auth = bool(api.get("local_auth", False))
    if api.get("allow_paths") is not None:
        cfg.allow_paths = [str(p) for p in api["allow_paths"]]
    cfg.rtsp_listen = str((data.get("rtsp") or {}).get("listen", DEFAULT_RTSP))
    for name, value in (data.get("streams") or {}).items():
        cfg.streams[str(name)] = (
            [str(v) for v in value] if isinstance(value, list) else [str(value)]
        )
    return cfg


def patch_file(path: Path, name: str, sources: list[str] | None) -> None:
    """Write (or, with None, remove) one stream in the YAML file, as go2rtc's PatchConfig does."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        data = {}
    streams = data.get("streams") or {}
    if sources is None:
        streams.pop(name, None)
    else:
        streams[name] = sources[0] if len(sources) == 1 else sources
    data["streams"] = streams
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# --- track filters -------------------------------------------------------------------------------


def wants_audio(query: Any) -> bool | None:
    """Audio carried? None: no filter at all (HLS would be MPEG-TS in the real one)."""
    if "mp4" in query:
        return True
    if "video" in query or "audio" in query:
        return "audio" in query
    return None


def audio_args(audio: bool) -> list[str]:
    return ["-c:v", "copy", "-c:a", "aac"] if audio else ["-c:v", "copy", "-an"]


# --- RTSP relay ----------------------------------------------------------------------------------


@dataclass
class Message:
    start: str
    headers: list[tuple[str, str]]
    body: bytes

    def get(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def set(self, name: str, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))

    def encode(self) -> bytes:
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        if self.body:
            headers.append(("Content-Length", str(len(self.body))))
        lines = [self.start, *(f"{k}: {v}" for k, v in headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


async def read_item(reader: asyncio.StreamReader) -> bytes | Message:
    """The next interleaved frame (raw bytes) or RTSP message."""
    first = await reader.readexactly(1)
    if first == b"$":
        head = await reader.readexactly(3)
        return first + head + await reader.readexactly(int.from_bytes(head[1:3], "big"))
    raw = (first + await reader.readuntil(b"\r\n\r\n")).decode(errors="replace")
    start, *lines = raw.strip("\r\n").split("\r\n")
    headers = []
    for line in lines:
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    msg = Message(start.strip(), headers, b"")
    length = int(msg.get("Content-Length") or 0)
    if length:
        msg.body = await reader.readexactly(length)
    return msg


def reply(request: Message, status: str, extra: list[tuple[str, str]] | None = None) -> bytes:
    headers = [("CSeq", request.get("CSeq") or "0"), *(extra or [])]
    return Message(f"RTSP/1.0 {status}", headers, b"").encode()


class UpstreamAuth:
    """Basic or Digest towards the camera, from the credentials in the source URL."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.scheme: str | None = None
        self.params: dict[str, str] = {}
        self.nc = 0

    def challenge(self, header: str) -> bool:
        if not self.username:
            return False
        if header.lower().startswith("digest"):
            self.scheme = "digest"
            self.params = dict(re.findall(r'(\w+)="?([^",]*)"?', header[6:]))
        else:
            self.scheme = "basic"
        return True

    def header(self, method: str, uri: str) -> str | None:
        if self.scheme == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if self.scheme == "digest":
            realm, nonce = self.params.get("realm", ""), self.params.get("nonce", "")

            def md5(text: str) -> str:
                return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RTSP Digest is MD5

            ha1 = md5(f"{self.username}:{realm}:{self.password}")
            ha2 = md5(f"{method}:{uri}")
            parts = f'username="{self.username}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
            if "auth" in self.params.get("qop", "").split(","):
                self.nc += 1
                cnonce, nc = secrets.token_hex(8), f"{self.nc:08x}"
                response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
                parts += f', qop=auth, nc={nc}, cnonce="{cnonce}"'
            else:
                response = md5(f"{ha1}:{nonce}:{ha2}")
            opaque = self.params.get("opaque")
            return f'Digest {parts}, response="{response}"' + (
                f', opaque="{opaque}"' if opaque else ""
            )
        return None


class RtspSession:
    """One RTSP client, relayed to the source its stream had when it connected."""

    def __init__(
        self, double: Double, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.double = double
        self.reader, self.writer = reader, writer
        self.name = ""
        self.remote = "{}:{}".format(*writer.get_extra_info("peername")[:2])
        self.up_writer: asyncio.StreamWriter | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def info(self) -> dict[str, str]:
        return {"format_name": "rtsp", "protocol": "rtsp+tcp", "remote_addr": self.remote}

    async def run(self) -> None:
        try:
            await self._serve()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.up_writer is not None:
            self.up_writer.transport.abort()
        self.writer.transport.abort()
        self.double.rtsp_sessions.discard(self)

    async def _serve(self) -> None:
        # Before the stream is known: answer OPTIONS here, resolve the name on the first request
        # that has one.
        while True:
            item = await read_item(self.reader)
            if not isinstance(item, Message):
                continue
            method, _, rest = item.start.partition(" ")
            url = rest.rsplit(" ", 1)[0]
            if method == "OPTIONS":
                self.writer.write(
                    reply(item, "200 OK", [("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")])
                )
                continue
            if method not in ("DESCRIBE", "SETUP"):
                self.writer.write(reply(item, "405 Method Not Allowed"))
                continue
            parts = urlsplit(url)
            name = unquote(parts.path.lstrip("/").split("/", 1)[0])
            sources = self.double.cfg.streams.get(name)
            if not sources:
                log("WRN", "[rtsp] stream not found")
                self.writer.write(reply(item, "404 Not Found"))
                continue
            self.name = name
            await self._relay(item, f"rtsp://{parts.netloc}/{parts.path.lstrip('/')}", sources[0])
            return

    async def _relay(self, first: Message, client_url: str, source: str) -> None:
        src = urlsplit(source)
        netloc = src.netloc.rsplit("@", 1)[-1]
        src_base = f"{src.scheme}://{netloc}{src.path}".rstrip("/")
        # The client's base is rtsp://HOST:PORT/NAME; anything after NAME (track ids) follows.
        client_base = "/".join(client_url.split("?", 1)[0].split("/", 3)[:3]) + "/" + self.name
        auth = UpstreamAuth(unquote(src.username or ""), unquote(src.password or ""))
        try:
            async with asyncio.timeout(5):
                up_reader, self.up_writer = await asyncio.open_connection(
                    src.hostname, src.port or 554
                )
        except (OSError, TimeoutError):
            self.writer.write(reply(first, "404 Not Found"))
            return

        def to_upstream(msg: Message) -> Message:
            method, _, rest = msg.start.partition(" ")
            url, _, proto = rest.rpartition(" ")
            if url.startswith(client_base):
                url = src_base + url[len(client_base) :]
            elif url != "*":
                url = src_base
            out = Message(f"{method} {url} {proto}", list(msg.headers), msg.body)
            header = auth.header(method, url)
            if header:
                out.set("Authorization", header)
            return out

        def to_client(msg: Message) -> bytes:
            msg.headers = [(k, v.replace(src_base, client_base)) for k, v in msg.headers]
            msg.body = msg.body.replace(src_base.encode(), client_base.encode())
            return msg.encode()

        # The first request, with the camera's auth challenge answered here.
        up = to_upstream(first)
        self.up_writer.write(up.encode())
        answer = await read_item(up_reader)
        assert isinstance(answer, Message)
        if " 401 " in answer.start + " " and auth.challenge(answer.get("WWW-Authenticate") or ""):
            up = to_upstream(first)
            self.up_writer.write(up.encode())
            answer = await read_item(up_reader)
            assert isinstance(answer, Message)
        self.writer.write(to_client(answer))

        async def downstream() -> None:
            # Camera -> client. When the camera dies, the client stays connected (stalls).
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:
                    item = await read_item(up_reader)
                    self.writer.write(item if isinstance(item, bytes) else to_client(item))
                    await self.writer.drain()

        self.tasks.append(asyncio.create_task(downstream()))
        while True:
            item = await read_item(self.reader)
            if isinstance(item, Message):
                if item.start.startswith("SETUP"):
                    transport = (item.get("Transport") or "").upper()
                    if "TCP" not in transport and "INTERLEAVED" not in transport:
                        self.writer.write(reply(item, "461 Unsupported Transport"))
                        continue
                item = to_upstream(item).encode()
            with contextlib.suppress(ConnectionError):
                self.up_writer.write(item)


# --- HTTP streams --------------------------------------------------------------------------------


class HlsSession:
    """One HLS viewer: an ffmpeg writing fMP4 segments into a private folder."""

    def __init__(self, sid: str, name: str, proc: asyncio.subprocess.Process, folder: Path) -> None:
        self.sid, self.name, self.proc, self.folder = sid, name, proc, folder
        self.touched = time.monotonic()

    def info(self) -> dict[str, str]:
        return {"format_name": "hls/fmp4", "protocol": "http", "id": self.sid}

    async def close(self) -> None:
        await kill(self.proc)
        shutil.rmtree(self.folder, ignore_errors=True)


async def kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(Exception):
        await proc.wait()


async def ffmpeg(source: str, *args: str, stdout: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp",
        "-i", source, *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


# --- the double ----------------------------------------------------------------------------------


class Double:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.rtsp_sessions: set[RtspSession] = set()
        self.mp4: dict[asyncio.subprocess.Process, tuple[str, str]] = {}
        self.hls: dict[str, HlsSession] = {}
        self.stopping = False

    # -- HTTP plumbing

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        remote = request.remote or ""
        loopback = remote.startswith("127.") or remote == "::1"
        if self.cfg.username and (self.cfg.local_auth or not loopback):
            expected = base64.b64encode(f"{self.cfg.username}:{self.cfg.password}".encode())
            given = request.headers.get("Authorization", "")
            if not secrets.compare_digest(given.encode(), b"Basic " + expected):
                return web.Response(
                    status=401,
                    text="Unauthorized\n",
                    headers={"WWW-Authenticate": 'Basic realm="go2rtc"'},
                )
        if self.cfg.allow_paths is not None and request.path not in self.cfg.allow_paths:
            return web.Response(status=404, text="404 page not found\n")
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        app.router.add_get("/api", self.api_info)
        app.router.add_route("*", "/api/streams", self.api_streams)
        app.router.add_get("/api/config", self.api_config)
        app.router.add_post("/api/restart", self.api_restart)
        app.router.add_get("/api/stream.mp4", self.stream_mp4)
        app.router.add_get("/api/stream.m3u8", self.stream_m3u8)
        app.router.add_get("/api/hls/playlist.m3u8", self.hls_playlist)
        app.router.add_get("/api/hls/init.mp4", self.hls_init)
        app.router.add_get("/api/hls/segment.m4s", self.hls_segment)
        return app

    # -- API

    async def api_info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "config_path": str(self.cfg.path),
                "host": request.host,
                "revision": "double",
                "rtsp": {"listen": self.cfg.rtsp_listen, "default_query": "video&audio"},
                "version": VERSION,
            }
        )

    def consumers(self, name: str) -> list[dict[str, str]]:
        out = [s.info() for s in self.rtsp_sessions if s.name == name]
        out += [
            {"format_name": "mp4", "protocol": "http"} for n, _ in self.mp4.values() if n == name
        ]
        out += [h.info() for h in self.hls.values() if h.name == name]
        return out

    def stream_info(self, name: str) -> dict[str, Any]:
        return {
            "producers": [{"url": src} for src in self.cfg.streams[name]],
            "consumers": self.consumers(name) or None,
        }

    async def api_streams(self, request: web.Request) -> web.Response:  # noqa: PLR0911
        query = request.query
        if request.method == "GET":
            name = query.get("src")
            if name is None:
                return web.json_response({n: self.stream_info(n) for n in self.cfg.streams})
            if name not in self.cfg.streams:
                return web.Response(status=404, text="stream not found\n")
            return web.json_response(self.stream_info(name))
        if request.method == "PUT":
            sources = query.getall("src", [])
            name = query.get("name") or (sources[0] if sources else "")
            if not sources:
                return web.Response(status=400, text="streams: empty src\n")
            for src in sources:
                if src.split(":", 1)[0].lower() in INSECURE_SCHEMES:
                    return web.Response(status=400, text="streams: source from insecure producer\n")
                if any(ch in string.whitespace for ch in src):
                    return web.Response(status=400, text="source with spaces may be insecure\n")
            self.cfg.streams[name] = list(sources)
            if not self.cfg.from_file:
                return web.Response(status=400, text="config file disabled\n")
            patch_file(self.cfg.path, name, list(sources))
            return web.Response(status=200)
        if request.method == "DELETE":
            name = query.get("src", "")
            if name not in self.cfg.streams:
                return web.Response(status=404, text="stream not found\n")
            del self.cfg.streams[name]  # live sessions keep running, as measured
            if not self.cfg.from_file:
                return web.Response(status=400, text="config file disabled\n")
            patch_file(self.cfg.path, name, None)
            return web.Response(status=200)
        return web.Response(status=405, text="method not allowed\n")

    async def api_config(self, _request: web.Request) -> web.Response:
        if not self.cfg.from_file:
            return web.Response(status=410, text="config file disabled\n")
        return web.Response(text=self.cfg.path.read_text(), content_type="application/yaml")

    async def api_restart(self, _request: web.Request) -> web.Response:
        await self.end_sessions()
        return web.Response(status=200)

    # -- MP4

    async def stream_mp4(self, request: web.Request) -> web.StreamResponse:
        name = request.query.get("src", "")
        sources = self.cfg.streams.get(name)
        if not sources:
            return web.Response(status=404, text="stream not found\n")
        audio = wants_audio(request.query) is not False
        proc = await ffmpeg(
            sources[0], *audio_args(audio), "-f", "mp4",
            "-movflags", "frag_keyframe+empty_moov+default_base_moof", "pipe:1",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self.mp4[proc] = (name, request.remote or "")
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        try:
            await response.prepare(request)
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(65536):
                await response.write(chunk)
            # The camera went away: stall, connected, like go2rtc, until the client leaves.
            while True:
                if self.stopping or not request.transport or request.transport.is_closing():
                    break
                await asyncio.sleep(0.2)
        except ConnectionError:
            pass
        finally:
            self.mp4.pop(proc, None)
            await kill(proc)
        return response

    # -- HLS

    async def stream_m3u8(self, request: web.Request) -> web.Response:
        name = request.query.get("src", "")
        sources = self.cfg.streams.get(name)
        if not sources:
            return web.Response(status=404, text="stream not found\n")
        audio = wants_audio(request.query)
        if audio is None:
            return web.Response(status=501, text="double: only fMP4 HLS (add &mp4)\n")
        sid = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8))
        folder = Path(tempfile.mkdtemp(prefix="go2rtc-double-hls-"))
        proc = await ffmpeg(
            sources[0], *audio_args(audio), "-f", "hls", "-hls_time", "0.5",
            "-hls_list_size", "6", "-hls_flags", "delete_segments",
            "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
            "-hls_segment_filename", str(folder / "seg%d.m4s"), str(folder / "index.m3u8"),
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self.hls[sid] = HlsSession(sid, name, proc, folder)
        codecs = "avc1.640029,mp4a.40.2" if audio else "avc1.640029"
        body = (
            f'#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,CODECS="{codecs}"\n'
            f"hls/playlist.m3u8?id={sid}"
        )
        return web.Response(text=body, content_type="application/vnd.apple.mpegurl")

    def session(self, request: web.Request) -> HlsSession | None:
        session = self.hls.get(request.query.get("id", ""))
        if session is not None:
            session.touched = time.monotonic()
        return session

    async def wait_for(self, session: HlsSession, check: Any, timeout: float = 8) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            session.touched = time.monotonic()
            await asyncio.sleep(0.1)
        return bool(check())

    async def hls_playlist(self, request: web.Request) -> web.Response:
        session = self.session(request)
        if session is None:
            return web.Response(status=404, text="404 page not found\n")
        index = session.folder / "index.m3u8"

        def ready() -> bool:
            return index.exists() and ".m4s" in index.read_text()

        if not await self.wait_for(session, ready):
            return web.Response(status=404, text="404 page not found\n")
        sid = session.sid
        text = index.read_text().replace('URI="init.mp4"', f'URI="init.mp4?id={sid}"')
        text = re.sub(r"^seg(\d+)\.m4s$", rf"segment.m4s?id={sid}&n=\1", text, flags=re.MULTILINE)
        return web.Response(text=text, content_type="application/vnd.apple.mpegurl")

    async def hls_init(self, request: web.Request) -> web.Response:
        session = self.session(request)
        init = None if session is None else session.folder / "init.mp4"
        if session is None or init is None or not await self.wait_for(session, init.exists):
            return web.Response(status=404, text="404 page not found\n")
        return web.Response(body=init.read_bytes(), content_type="video/mp4")

    async def hls_segment(self, request: web.Request) -> web.Response:
        session = self.session(request)
        n = request.query.get("n", "")
        if session is None or not n.isdigit():
            return web.Response(status=404, text="404 page not found\n")
        segment = session.folder / f"seg{int(n)}.m4s"
        index = session.folder / "index.m3u8"

        def listed() -> bool:
            # ffmpeg lists a segment only once it is complete.
            return index.exists() and f"seg{int(n)}.m4s" in index.read_text()

        if not await self.wait_for(session, listed, timeout=4) or not segment.exists():
            return web.Response(status=404, text="404 page not found\n")
        return web.Response(body=segment.read_bytes(), content_type="video/iso.segment")

    async def expire_hls(self) -> None:
        while True:
            await asyncio.sleep(1)
            now = time.monotonic()
            for sid, session in list(self.hls.items()):
                if now - session.touched > HLS_IDLE_S:
                    del self.hls[sid]
                    await session.close()

    # -- lifecycle

    async def end_sessions(self) -> None:
        for rtsp in list(self.rtsp_sessions):
            rtsp.close()
        for proc in list(self.mp4):
            await kill(proc)
        for sid in list(self.hls):
            await self.hls.pop(sid).close()

    async def on_rtsp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = RtspSession(self, reader, writer)
        self.rtsp_sessions.add(session)
        await session.run()

    async def run(self, stop: asyncio.Event) -> int:
        log("INF", f"go2rtc version {VERSION} linux/amd64 (double)")
        host, port = split_listen(self.cfg.api_listen)
        runner = web.AppRunner(
            self.app(), handle_signals=False, access_log=None, shutdown_timeout=2
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except OSError as err:
            log("FTL", f"[api] listen error={err}")
            await runner.cleanup()
            return 1
        log("INF", f"[api] listen addr={self.cfg.api_listen}")
        rtsp_host, rtsp_port = split_listen(self.cfg.rtsp_listen)
        try:
            server = await asyncio.start_server(self.on_rtsp, rtsp_host, rtsp_port)
        except OSError as err:
            log("FTL", f"[rtsp] listen error={err}")
            await runner.cleanup()
            return 1
        log("INF", f"[rtsp] listen addr={self.cfg.rtsp_listen}")
        expiry = asyncio.create_task(self.expire_hls())
        await stop.wait()
        self.stopping = True
        expiry.cancel()
        server.close()
        await self.end_sessions()
        await runner.cleanup()
        return 0


def main(argv: list[str]) -> int:
    config: str | None = None
    args = iter(argv)
    for arg in args:
        if arg in ("-version", "--version", "-v"):
            print(f"go2rtc version {VERSION} (double) linux/amd64", flush=True)
            return 0
        if arg in ("-config", "--config", "-c"):
            config = next(args, None)
    cfg = load_config(Path(config or "go2rtc.yaml").absolute())

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await Double(cfg).run(stop)

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
