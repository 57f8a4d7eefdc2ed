"""The running gateway: its listeners, their limits, and an orderly start and stop."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from rtcc_gateway.api import city, owner
from rtcc_gateway.config import GatewayConfig
from rtcc_gateway.context import GATEWAY_KEY
from rtcc_gateway.door.rtsp import RtspDoor
from rtcc_gateway.problems import problem_middleware
from rtcc_gateway.state_dir import DataDirError, gateway_id, prepare_data_dir

_LOGGER = logging.getLogger(__name__)

# Limits on every HTTP listener: header lines, idle keep-alive, and shutdown grace.
MAX_HEADER_LINE: Final = 8190
KEEPALIVE_TIMEOUT_S: Final = 15.0
SHUTDOWN_TIMEOUT_S: Final = 5.0


class StartError(Exception):
    """The gateway could not start (a listener could not bind, the data folder is unusable)."""


@dataclass(frozen=True, slots=True)
class Bound:
    """Where each listener actually listens (ports chosen by the OS when configured as 0)."""

    public: tuple[str, int]
    rtsp: tuple[str, int]
    owner: tuple[str, int]

    def line(self) -> str:
        """The one line `serve` prints when ready (GATEWAY.md)."""

        def fmt(addr: tuple[str, int]) -> str:
            host = f"[{addr[0]}]" if ":" in addr[0] else addr[0]
            return f"{host}:{addr[1]}"

        return f"listening public={fmt(self.public)} rtsp={fmt(self.rtsp)} owner={fmt(self.owner)}"


class Gateway:
    """Everything one `rtcc-gateway serve` runs, without signal handling or printing."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.gateway_id = ""
        self.restreamer_name = "direct"
        self._runners: list[web.AppRunner] = []
        self._rtsp = RtspDoor(max_header_bytes=MAX_HEADER_LINE)
        self.bound: Bound | None = None

    def _ssl_context(self) -> ssl.SSLContext | None:
        tls = self.config.public.tls
        if tls is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(tls.cert, tls.key)
        except (OSError, ssl.SSLError) as err:
            raise StartError(f"public.tls: cannot load the certificate or key: {err}") from None
        return context

    def _public_app(self) -> web.Application:
        app = web.Application(client_max_size=city.CITY_MAX_BODY, middlewares=[problem_middleware])
        app[GATEWAY_KEY] = self
        city.add_routes(app)
        return app

    def _owner_app(self) -> web.Application:
        app = web.Application(
            client_max_size=owner.OWNER_MAX_BODY,
            middlewares=[problem_middleware, owner.bearer_middleware],
        )
        app[GATEWAY_KEY] = self
        owner.add_routes(app)
        return app

    async def _serve_http(
        self, app: web.Application, host: str, port: int, tls: ssl.SSLContext | None, what: str
    ) -> tuple[str, int]:
        runner = web.AppRunner(
            app,
            access_log=None,
            keepalive_timeout=KEEPALIVE_TIMEOUT_S,
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
            handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, host, port, ssl_context=tls, reuse_address=True)
        try:
            await site.start()
        except OSError as err:
            raise StartError(f"{what}: cannot listen on {host}:{port}: {err.strerror}") from None
        return _first_address(runner)

    async def start(self) -> Bound:
        """Prepare the data folder and open every listener; raise StartError on failure."""
        cfg = self.config
        try:
            prepare_data_dir(cfg.data_dir)
            self.gateway_id = await asyncio.to_thread(gateway_id, cfg.data_dir)
        except DataDirError as err:
            raise StartError(str(err)) from None
        except OSError as err:
            raise StartError(f"data_dir: cannot keep the gateway id: {err.strerror}") from None
        tls = self._ssl_context()
        try:
            public = await self._serve_http(
                self._public_app(), cfg.public.host, cfg.public.port, tls, "public.port"
            )
            try:
                rtsp = await self._rtsp.start(cfg.public.host, cfg.public.rtsp_port, tls)
            except OSError as err:
                raise StartError(
                    f"public.rtsp_port: cannot listen on {cfg.public.host}:{cfg.public.rtsp_port}:"
                    f" {err.strerror}"
                ) from None
            owner_addr = await self._serve_http(
                self._owner_app(), cfg.owner.host, cfg.owner.port, None, "owner.port"
            )
        except BaseException:
            await self.stop()
            raise
        self.bound = Bound(public=public, rtsp=rtsp, owner=owner_addr)
        return self.bound

    async def stop(self) -> None:
        """Close every viewer connection and listener."""
        await self._rtsp.stop()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()


def _first_address(runner: web.AppRunner) -> tuple[str, int]:
    addresses = runner.addresses
    if not addresses:
        raise StartError("listener started without a socket")
    host, port = addresses[0][:2]
    return str(host), int(port)
