#!/usr/bin/env python3
"""A go2rtc API double, for the one fault the real binary cannot be made to produce: garbage answers.

Crashes (SIGKILL), hangs (SIGSTOP) and everything about media are tested with the real go2rtc;
`tests/media/test_go2rtc_double.py` holds this double to the real binary on every API call the
gateway makes (status, body, what the config file then holds).

Launched exactly like the real binary: `go2rtc_double.py -config FILE` (or `-c FILE`); `-version`
prints `go2rtc version X.Y.Z (double) linux/amd64`, X.Y.Z being the version addon/go2rtc/go.mod
pins (GO2RTC_DOUBLE_VERSION overrides it, so that refusing an old or too new go2rtc can be tested).

What it answers as go2rtc 1.9.14 does (measured, shared/facts/go2rtc.md):
- YAML config `api {listen, username, password, local_auth, allow_paths}`, `rtsp {listen}`,
  `streams {name: source or [sources]}`; it binds only what it is told.
- Basic auth (skipped for loopback clients unless `local_auth: true`); with `allow_paths`, every
  other path answers `404 page not found`.
- `GET /api`; `GET /api/streams` (`{name: {"producers": [{"url": ...}], "consumers": null}}`), with
  `?src=NAME` one stream or 404; `PUT /api/streams?name=X&src=A[&src=B]` (200, empty body, written
  into the config file as a list; refusals with go2rtc's texts); `DELETE /api/streams?src=X` (200
  whether or not X exists); `GET /api/stream.mp4`, `/api/stream.m3u8`, `/api/hls/*` of unknown
  streams or sessions: 404 with go2rtc's bodies.
- RTSP: `OPTIONS` 200; any request naming an unknown stream 404.

Deviations (on purpose): no media at all. A known stream's MP4, HLS or RTSP answers 501. A missing
config file makes the real go2rtc start with its defaults on *every* interface; the double binds the
same default ports on 127.0.0.1 only.

Faults: GO2RTC_DOUBLE_ANSWERS holds JSON `{"METHOD /path": {"status": 200, "body": "...",
"body_bytes": N, "headers": {...}}}`; a matching request (after auth) gets that answer instead
(`body_bytes` sends N bytes of `x`). GO2RTC_DOUBLE_LOG names a file that gets one JSON line per HTTP
request (method, path, query, headers), so that tests can see what the gateway sent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import signal
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from aiohttp import web


def pinned_version() -> str:
    """The go2rtc version addon/go2rtc/go.mod pins (the one place that names it)."""
    go_mod = Path(__file__).resolve().parents[2] / "addon" / "go2rtc" / "go.mod"
    found = re.search(r"github\.com/AlexxIT/go2rtc v(\d+\.\d+\.\d+)", go_mod.read_text())
    assert found, f"{go_mod} names no go2rtc version"
    return found[1]


VERSION = os.environ.get("GO2RTC_DOUBLE_VERSION") or pinned_version()
DEFAULT_API = "127.0.0.1:1984"  # the real default is 0.0.0.0:1984 (see the docstring)
DEFAULT_RTSP = "127.0.0.1:8554"  # the real default is :8554
INSECURE_SCHEMES = ("exec", "echo", "expr")
SUPPORTED_SCHEMES = ("rtsp", "rtsps", "ffmpeg")  # what the gateway ever adds
TEXT = "text/plain"


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
    """Write (or, with None, remove) one stream in the YAML file: go2rtc writes a list."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        data = {}
    streams = data.get("streams") or {}
    if sources is None:
        streams.pop(name, None)
    else:
        streams[name] = list(sources)
    data["streams"] = streams
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def refusal(source: str) -> str | None:
    """go2rtc's streams.New checks, in its order, with its texts."""
    scheme = source.split(":", 1)[0].lower() if ":" in source else ""
    if scheme in INSECURE_SCHEMES:
        return "streams: source from insecure producer"
    if scheme not in SUPPORTED_SCHEMES:
        return "streams: source not supported"
    if any(ch in string.whitespace for ch in source):
        return "streams: source with spaces may be insecure"
    return None


def text(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, content_type=TEXT)


# --- the double ----------------------------------------------------------------------------------


class Double:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.answers: dict[str, dict[str, Any]] = json.loads(
            os.environ.get("GO2RTC_DOUBLE_ANSWERS") or "{}"
        )
        log_path = os.environ.get("GO2RTC_DOUBLE_LOG")
        self.request_log = Path(log_path) if log_path else None

    def record(self, request: web.Request) -> None:
        if self.request_log is None:
            return
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "headers": dict(request.headers),
        }
        with self.request_log.open("a") as file:
            file.write(json.dumps(entry) + "\n")

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.record(request)
        remote = request.remote or ""
        loopback = remote.startswith("127.") or remote == "::1"
        if self.cfg.username and (self.cfg.local_auth or not loopback):
            expected = base64.b64encode(f"{self.cfg.username}:{self.cfg.password}".encode())
            given = request.headers.get("Authorization", "")
            if not secrets.compare_digest(given.encode(), b"Basic " + expected):
                response = text(401, "Unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="go2rtc"'
                return response
        if self.cfg.allow_paths is not None and request.path not in self.cfg.allow_paths:
            return text(404, "404 page not found\n")
        fault = self.answers.get(f"{request.method} {request.path}")
        if fault is not None:
            body = fault.get("body", "").encode()
            body += b"x" * int(fault.get("body_bytes", 0))
            return web.Response(
                status=int(fault.get("status", 200)), body=body, headers=fault.get("headers", {})
            )
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        app.router.add_get("/api", self.api_info)
        app.router.add_route("*", "/api/streams", self.api_streams)
        for path in (
            "/api/stream.mp4",
            "/api/stream.m3u8",
            "/api/hls/playlist.m3u8",
            "/api/hls/init.mp4",
            "/api/hls/segment.m4s",
        ):
            app.router.add_get(path, self.media)
        return app

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

    def stream_info(self, name: str) -> dict[str, Any]:
        return {"producers": [{"url": src} for src in self.cfg.streams[name]], "consumers": None}

    def listing(self) -> web.Response:
        return web.json_response({n: self.stream_info(n) for n in self.cfg.streams})

    async def api_streams(self, request: web.Request) -> web.Response:  # noqa: PLR0911
        query = request.query
        src = query.get("src", "")
        if not src and request.method != "POST":
            return self.listing()  # what go2rtc answers to any method without src
        if request.method == "GET":
            if src not in self.cfg.streams:
                return text(404, "\n")
            return web.json_response(self.stream_info(src))
        if request.method == "PUT":
            sources = query.getall("src", [])
            for source in sources:
                reason = refusal(source)
                if reason:
                    return text(400, reason + "\n")
            name = query.get("name") or src
            self.cfg.streams[name] = list(sources)
            return self.persist(name, list(sources))
        if request.method == "DELETE":
            self.cfg.streams.pop(src, None)  # live sessions would keep running, as measured
            return self.persist(src, None)
        return text(400, "\n")  # PATCH and POST: not what the gateway uses

    def persist(self, name: str, sources: list[str] | None) -> web.Response:
        if not self.cfg.from_file:
            return text(400, "config file disabled\n")
        patch_file(self.cfg.path, name, sources)
        return web.Response(status=200)

    async def media(self, request: web.Request) -> web.Response:
        if request.path in ("/api/stream.mp4", "/api/stream.m3u8"):
            if request.query.get("src", "") not in self.cfg.streams:
                return text(404, "stream not found\n")
            return text(501, "double: no media\n")
        return text(404, "404 page not found\n")  # no HLS session ever exists here

    # -- RTSP

    async def on_rtsp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """OPTIONS 200; unknown names 404, known ones 501 (no media here)."""
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode(errors="replace")
                start, *lines = head.strip("\r\n").split("\r\n")
                headers = dict(line.partition(":")[::2] for line in lines)
                cseq = next((v.strip() for k, v in headers.items() if k.lower() == "cseq"), "0")
                method, _, rest = start.partition(" ")
                name = unquote(urlsplit(rest.rsplit(" ", 1)[0]).path.lstrip("/").split("/")[0])
                if method == "OPTIONS":
                    status = "200 OK\r\nPublic: OPTIONS, SETUP, TEARDOWN, DESCRIBE, PLAY"
                elif name in self.cfg.streams:
                    status = "501 Not Implemented"
                else:
                    status = "404 Not Found"
                writer.write(f"RTSP/1.0 {status}\r\nCseq: {cseq}\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.transport.abort()

    async def run(self, stop: asyncio.Event) -> int:
        log("INF", f"go2rtc version {VERSION} linux/amd64 (double)")
        runner = web.AppRunner(
            self.app(), handle_signals=False, access_log=None, shutdown_timeout=2
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, *split_listen(self.cfg.api_listen)).start()
            server = await asyncio.start_server(self.on_rtsp, *split_listen(self.cfg.rtsp_listen))
        except OSError as err:
            log("FTL", f"listen error={err}")
            await runner.cleanup()
            return 1
        log("INF", f"[api] listen addr={self.cfg.api_listen}")
        log("INF", f"[rtsp] listen addr={self.cfg.rtsp_listen}")
        await stop.wait()
        server.close()
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
