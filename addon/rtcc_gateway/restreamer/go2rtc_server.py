"""One go2rtc child process, kept apart from the streams as Home Assistant core's server.py does.

Fresh config, ports and credentials at every start; checked to have bound where asked; probed for
liveness; ended for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import secrets
import signal
import socket
from pathlib import Path
from typing import Final

import aiohttp
from go2rtc_client import Go2RtcRestClient
from go2rtc_client.exceptions import Go2RtcClientError, Go2RtcVersionError

from rtcc_gateway.redact import Secrets
from rtcc_gateway.restreamer.go2rtc_config import (
    LOOPBACK,
    Go2rtcError,
    hardened_config,
    write_config,
)

_PR_SET_PDEATHSIG: Final = 1
API_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)
# Errors of an API call to go2rtc: the client's own, and what its decoder raises on a garbage
# answer (a body that is not JSON, a list where an object belongs, ...).
API_ERRORS: Final = (Go2RtcClientError, ValueError, TypeError, AttributeError, KeyError)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the gateway dies, even by SIGKILL (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Go2rtcServer:
    """A started go2rtc child and the API client for it."""

    def __init__(self, binary: Path, config_path: Path, register: Secrets | None = None) -> None:
        self.binary = binary
        self.config_path = config_path
        self.api_port, self.rtsp_port = _free_port(), _free_port()
        self._login, self._password = secrets.token_urlsafe(12), secrets.token_urlsafe(24)
        if register is not None:  # never written anywhere, even if go2rtc's API errors echo it
            register.add(self._password, self.authorization().removeprefix("Basic "))
        self._proc: asyncio.subprocess.Process | None = None
        self.session = aiohttp.ClientSession(
            headers={"Authorization": self.authorization()}, timeout=API_TIMEOUT
        )
        self.client = Go2RtcRestClient(self.session, self.http_base())

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return None if self._proc is None or self._proc.returncode is not None else self._proc.pid

    def http_base(self) -> str:
        """The loopback API, e.g. `http://127.0.0.1:PORT`."""
        return f"http://{LOOPBACK}:{self.api_port}"

    def authorization(self) -> str:
        """The `Authorization` header value for the API."""
        return aiohttp.encode_basic_auth(self._login, self._password)

    async def start(self, timeout: float) -> None:
        """Write the config from scratch, start the child, wait until it bound where asked."""
        write_config(
            self.config_path,
            hardened_config(
                api_port=self.api_port,
                rtsp_port=self.rtsp_port,
                login=self._login,
                password=self._password,
            ),
        )
        try:
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
        except OSError as err:
            raise Go2rtcError(f"go2rtc: cannot run {self.binary}: {err.strerror or err}") from None
        try:
            await self._check_bound(timeout)
        except Go2rtcError:
            await self.end(timeout=1)
            raise

    async def _check_bound(self, timeout: float) -> None:
        """The configured API port answers with our credentials and the RTSP port accepts.

        A go2rtc that fell back to its defaults (on every interface) is never used.
        """
        assert self._proc is not None  # noqa: S101
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._proc.returncode is not None:
                raise Go2rtcError(
                    f"go2rtc exited with code {self._proc.returncode} at start "
                    "(did not bind where configured)"
                )
            try:
                await self.client.validate_server_version()
                _, writer = await asyncio.open_connection(LOOPBACK, self.rtsp_port)
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            except Go2RtcVersionError as err:
                raise Go2rtcError(f"go2rtc: {err}") from None
            except (*API_ERRORS, OSError):
                if loop.time() >= deadline:
                    raise Go2rtcError(
                        "go2rtc did not bind where configured "
                        f"(no answer on {LOOPBACK}:{self.api_port} within {timeout:g} s)"
                    ) from None
                await asyncio.sleep(0.1)
            else:
                return

    async def answers(self, timeout: float) -> bool:
        """One liveness probe: `GET /api` answers 200 in time (a SIGSTOPped child never does)."""
        try:
            async with self.session.get(
                self.http_base() + "/api", timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                return resp.status == 200  # noqa: PLR2004
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def failure(self, *, interval: float, timeout: float, misses: int) -> str:
        """Wait until the child exits or misses `misses` probes in a row; says which."""
        assert self._proc is not None  # noqa: S101
        exited = asyncio.ensure_future(self._proc.wait())
        missed = 0
        try:
            while True:
                done, _ = await asyncio.wait({exited}, timeout=interval)
                if done:
                    return f"exited (code {exited.result()})"
                missed = 0 if await self.answers(timeout) else missed + 1
                if missed >= misses:
                    return f"stopped answering its API ({missed} probes of {timeout:g} s)"
        finally:
            exited.cancel()

    async def end(self, *, timeout: float, kill: bool = False) -> None:
        """SIGTERM (SIGKILL after `timeout`, or at once with `kill`: a hung child ignores TERM)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await self.session.close()
