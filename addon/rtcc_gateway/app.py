"""The running gateway: its listeners, their limits, and an orderly start and stop."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from rtcc_gateway.admission import DoorGate
from rtcc_gateway.api import city, owner
from rtcc_gateway.audit import AuditLog, AuditRecord
from rtcc_gateway.audit_chain import head_json
from rtcc_gateway.auth_audit import AuthFailureAudit
from rtcc_gateway.clock import Clock, WallClock, utc_now
from rtcc_gateway.config import Agency, GatewayConfig
from rtcc_gateway.context import CITY_KEY, OWNER_KEY
from rtcc_gateway.door.http import HttpDoor
from rtcc_gateway.door.rtsp import RtspDoor
from rtcc_gateway.door.viewers import NO_MEDIA_S, ViewerRegistry
from rtcc_gateway.events import EventBus
from rtcc_gateway.limits import CITY_MAX_BODY, OWNER_MAX_BODY
from rtcc_gateway.listeners import QuietAppRunner
from rtcc_gateway.policy import OwnerState
from rtcc_gateway.problems import STORAGE_ERROR_KEY, problem_middleware
from rtcc_gateway.ratelimit import RateLimiter
from rtcc_gateway.redact import Secrets
from rtcc_gateway.restreamer.base import Restreamer
from rtcc_gateway.restreamer.choice import choose_restreamer
from rtcc_gateway.restreamer.direct import DirectRestreamer
from rtcc_gateway.restreamer.go2rtc import Go2rtcError, Go2rtcRestreamer
from rtcc_gateway.shares import ShareManager
from rtcc_gateway.signatures import SqliteNonceStore
from rtcc_gateway.state_dir import DataDirError, gateway_id, prepare_data_dir, secure_data_dir
from rtcc_gateway.storage_guard import RESERVE_BYTES, STORAGE_ERRORS, StorageGuard
from rtcc_gateway.store import Store, StoreError, describe
from rtcc_gateway.tls import TlsError, server_context
from rtcc_gateway.viewer_records import ViewerRecords

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

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: WallClock | Clock = utc_now,
        restreamer: Restreamer | None = None,
        secrets: Secrets | None = None,
        no_media_s: float = NO_MEDIA_S,  # tests shorten the contract's 10 s
    ) -> None:
        # The one clock every part reads (clock.py); tests usually give only the wall clock.
        self.clock = clock if isinstance(clock, Clock) else Clock(now=clock)
        # The one register of secrets (redact.py): the audit log and the log filter read it.
        self.secrets = secrets or Secrets()
        self.secrets.add(config.owner.token, *(c.source for c in config.cameras))
        self.config = config
        self._given_restreamer = restreamer
        self.gateway_id = ""
        self.agencies: dict[str, Agency] = {a.id: a for a in config.agencies}
        self.restreamer: Restreamer = restreamer or DirectRestreamer()
        self.events = EventBus(self.clock.now)
        self.rate_limiter = RateLimiter(self.clock.now)
        self._auth_failures = AuthFailureAudit(audit=lambda: self.audit, clock=self.clock.now)
        self.websockets: set[web.WebSocketResponse] = set()
        self._runners: list[QuietAppRunner] = []
        self._viewer_records = ViewerRecords(
            audit=lambda: self.audit,
            events=self.events,
            clock=self.clock.now,
            storage_error=self._storage_error,
        )
        self.viewers = ViewerRegistry(
            self._viewer_records.record, now=self.clock.now, monotonic=self.clock.monotonic
        )
        # Late-bound: the shares open at start; the restreamer is chosen then (tests may swap it).
        gate = DoorGate(
            shares=lambda: self.shares, restreamer=lambda: self.restreamer, viewers=self.viewers
        )
        self._rtsp = RtspDoor(
            max_header_bytes=MAX_HEADER_LINE,
            admit=gate.admit_rtsp,
            viewers=self.viewers,
            report=self._door_report,
            clock=self.clock.monotonic,
            no_media_s=no_media_s,
        )
        self._http_door = HttpDoor(
            admit=gate.admit_http,
            viewers=self.viewers,
            upstream=lambda: self.restreamer.http_upstream(),  # noqa: PLW0108
            clock=self.clock.monotonic,
            no_media_s=no_media_s,
        )
        self.storage = StorageGuard(
            config.data_dir, self.events.publish, clock=self.clock.monotonic
        )
        self._restored = False
        self._store: Store | None = None
        self._audit: AuditLog | None = None
        self._nonces: SqliteNonceStore | None = None
        self._shares: ShareManager | None = None
        self.bound: Bound | None = None

    # Set once start() has opened the database; handlers only run after that.
    @property
    def audit(self) -> AuditLog:
        """The audit log."""
        assert self._audit is not None  # noqa: S101
        return self._audit

    @property
    def nonces(self) -> SqliteNonceStore:
        """The replay check's memory."""
        assert self._nonces is not None  # noqa: S101
        return self._nonces

    @property
    def shares(self) -> ShareManager:
        """Requests and shares."""
        assert self._shares is not None  # noqa: S101
        return self._shares

    def link_formats(self) -> list[str]:
        """Which links this gateway hands out (a `direct` gateway offers RTSP only)."""
        return ["rtsp"] if self.restreamer.name == "direct" else ["rtsp", "mp4", "hls"]

    def owner_state(self) -> dict[str, object]:
        """GET /api/v1/state; each share with its viewers now (since when, via which format)."""
        state = self.shares.owner_state(viewers=self.viewers.counts())
        viewers_now = self.viewers.by_share()
        for share in state["shares"]:
            share["viewers_now"] = viewers_now.get(share["share_id"], [])
        return state

    def transparency(self) -> dict[str, object]:
        """GET /api/v1/transparency."""
        return self.shares.transparency(
            viewer_seconds=self.viewers.seconds(), viewers=self.viewers.ever()
        )

    async def _door_report(self, kind: str, detail: dict[str, Any]) -> None:
        """What the RTSP door tells the owner: a camera that cannot serve, a viewer's violation."""
        await self.audit.append(kind, detail)

    async def _storage_error(self, err: BaseException) -> None:
        """A handler met a storage error: undo what it left, log once a minute (then 503)."""
        if self._store is not None:
            await self._store.rollback()
        self.storage.note("cannot use the database", err)

    async def audit_auth_failure(self, request: web.Request, reason: str) -> None:
        """Record a refused signature (within caps: auth_audit.py)."""
        await self._auth_failures.record(request, reason)

    def _announce_head(self, record: AuditRecord) -> None:
        self.events.publish("audit_head", head=head_json((record.seq, record.hash)))

    async def _choose_restreamer(self) -> Restreamer:
        """go2rtc when asked for (or found, with `auto`), else direct; refusals name the field."""
        if self._given_restreamer is not None:
            return self._given_restreamer
        choice = await choose_restreamer(self.config)
        if choice.refused:
            raise StartError(f"restreamer: {choice.why}")
        # Said at start only when `auto` had to settle for direct (check always says it).
        _LOGGER.log(logging.INFO if choice.fallback else logging.DEBUG, "%s", choice.describe())
        if choice.name == "go2rtc" and choice.binary is not None:
            return Go2rtcRestreamer(
                choice.binary, on_restart=self._restreamer_restarted, secrets=self.secrets
            )
        return DirectRestreamer()

    async def _restreamer_restarted(self) -> None:
        """go2rtc died and came back with only the live streams (its viewers were cut by it)."""
        await self.audit.append("restreamer_restarted", {"restreamer": self.restreamer.name})

    async def _open_state(self) -> None:
        cfg = self.config
        # The database first: a damaged or full one stops the start at once, naming the file.
        try:
            self._store = await Store.open(cfg.data_dir)
            secure_data_dir(cfg.data_dir)  # SQLite's WAL and shared-memory files exist now
        except (StoreError, DataDirError) as err:
            raise StartError(str(err)) from None
        self.restreamer = await self._choose_restreamer()
        try:
            await self.restreamer.start()
        except Go2rtcError as err:
            raise StartError(f"restreamer: {err}") from None
        try:
            await self._restore()
        except STORAGE_ERRORS as err:
            raise StartError(describe(self._store.path, err)) from None
        shares = self.shares
        shares.on_cut(self.viewers.cut)
        shares.on_cut(self._http_door.forget)
        shares.on_forget(self.viewers.forget)
        await self._http_door.start()
        shares.start()

    async def _restore(self) -> None:
        """Everything read from (and first written to) the database at start."""
        cfg = self.config
        assert self._store is not None  # noqa: S101 - opened just before
        conn = self._store.conn
        self._audit = AuditLog(conn, secrets=self.secrets, clock=self.clock.now)
        await self._audit.setup()
        self._audit.add_listener(self._announce_head)
        last = await self._audit.latest()
        previous = (
            "none" if last is None else "clean" if last.kind == "gateway_stopped" else "unclean"
        )
        closed = await self._viewer_records.close_open(self._store)
        await SqliteNonceStore.create_schema(conn)
        self._nonces = SqliteNonceStore(conn)
        self._shares = ShareManager(
            store=self._store,
            audit=self._audit,
            events=self.events,
            restreamer=self.restreamer,
            agencies=self.agencies,
            owner=OwnerState(policy=cfg.policy, cameras=cfg.cameras, pushed_at=None),
            public_base_url=cfg.public.base_url,
            rtsp_base_url=cfg.public.rtsp_base_url,
            http_links=self.restreamer.name != "direct",
            guard=self.storage,
            secrets=self.secrets,
            clock=self.clock.now,
        )
        await self._shares.load()
        await self._audit.append(
            "gateway_started",
            {
                "gateway_id": self.gateway_id,
                "restreamer": self.restreamer.name,
                # "unclean": the last run never wrote gateway_stopped (killed, crashed, power cut).
                "previous_run": previous,
                "viewers_closed": closed,
            },
        )
        self._restored = True  # from now on a stop is on the record

    def _public_app(self) -> web.Application:
        app = web.Application(client_max_size=CITY_MAX_BODY, middlewares=[problem_middleware])
        app[CITY_KEY] = self
        app[STORAGE_ERROR_KEY] = self._storage_error
        city.add_routes(app)
        self._http_door.add_routes(app)
        return app

    def _owner_app(self) -> web.Application:
        app = web.Application(
            client_max_size=OWNER_MAX_BODY,
            middlewares=[problem_middleware, owner.bearer_middleware],
        )
        app[OWNER_KEY] = self
        app[STORAGE_ERROR_KEY] = self._storage_error
        owner.add_routes(app)
        return app

    async def _serve_http(
        self, app: web.Application, host: str, port: int, tls: ssl.SSLContext | None, what: str
    ) -> tuple[str, int]:
        runner = QuietAppRunner(
            app,
            listener=what.split(".", 1)[0],
            clock=self.clock.monotonic,
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
            raise StartError(
                f"data_dir: cannot keep the gateway id in {cfg.data_dir}: {err.strerror}; free "
                "space or fix the folder, then start again"
            ) from None
        if not await self.storage.ensure_reserve():
            raise StartError(
                f"data_dir: no room for the {RESERVE_BYTES // 1024} KiB kept free to record the "
                f"end of every share ({self.storage.path}); free space in {cfg.data_dir}, then "
                "start again"
            )
        try:
            tls = server_context(cfg.public.tls)
        except TlsError as err:
            raise StartError(str(err)) from None
        try:
            await self._open_state()
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
        """Close every viewer connection and listener, then the database.

        Each step runs whatever the one before did (a failed start stops through here too), and
        the database is always closed: its worker thread must not outlive the gateway.
        """
        try:
            await self._rtsp.stop()
            await self._http_door.stop()
            await self.viewers.drain()
            self.events.close()
            for ws in list(self.websockets):
                await ws.close()
            for runner in reversed(self._runners):
                await runner.cleanup()
            self._runners.clear()
            if self._shares is not None:
                await self._shares.stop()
        finally:
            try:
                # Even when a step above failed: a go2rtc child must not outlive the gateway.
                await self.restreamer.stop()
                if self._restored and self._audit is not None and self._store is not None:
                    try:
                        await self._audit.append("gateway_stopped", {})
                    except STORAGE_ERRORS as err:
                        _LOGGER.error("%s", describe(self._store.path, err))  # noqa: TRY400
            finally:
                if self._store is not None:
                    await self._store.close()
                    self._store = None


def _first_address(runner: web.AppRunner) -> tuple[str, int]:
    addresses = runner.addresses
    if not addresses:
        raise StartError("listener started without a socket")
    host, port = addresses[0][:2]
    return str(host), int(port)
