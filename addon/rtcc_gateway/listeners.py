"""HTTP listeners that answer malformed requests with a short problem and log them once.

aiohttp answers a request it cannot parse with text/plain that may echo the input, and logs a
traceback per request: 200 requests with a 9 KB header wrote 1.9 MB to stderr. Here each listener
answers with a problem-details body naming nothing of the input, and says so in the log at most
once a minute, with the count of what it did not log.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from rtcc_gateway.clock import Steady
from rtcc_gateway.problems import problem

_LOGGER = logging.getLogger(__name__)

LOG_EVERY_S: Final = 60.0


class LogBudget:
    """One log line per interval per listener; the lines in between are counted, not written."""

    def __init__(
        self, listener: str, interval_s: float = LOG_EVERY_S, *, clock: Steady = time.monotonic
    ) -> None:
        self.listener = listener
        self._clock = clock
        self._interval = interval_s
        self._last: float | None = None
        self._held = 0
        self.total = 0

    def note(self, what: str, *, exc_info: BaseException | None = None) -> None:
        """Log `what` now unless a line went out within the interval; then only count it."""
        self.total += 1
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            self._held += 1
            return
        held, self._held, self._last = self._held, 0, now
        more = f" ({held} more since the last such line)" if held else ""
        _LOGGER.warning("%s listener: %s%s", self.listener, what, more, exc_info=exc_info)


_FALLBACK: Final = LogBudget("an HTTP")


class _QuietHandler(RequestHandler):
    """aiohttp's connection handler, with its error answer and error log made brief."""

    __slots__ = ()

    def _budget(self) -> LogBudget:
        # Set by QuietAppRunner on its server; a handler whose connection is gone has none.
        budget = getattr(self._manager, "log_budget", None)
        return budget if isinstance(budget, LogBudget) else _FALLBACK

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer a request aiohttp could not parse (or handle) without echoing any of it."""
        del message  # aiohttp's message may quote the input
        remote = request.remote or "unknown"
        kind = type(exc).__name__ if exc is not None else "error"
        if status >= 500:  # noqa: PLR2004
            self._budget().note(f"could not answer a request from {remote}", exc_info=exc)
            detail = "The gateway could not handle this request."
        else:
            self._budget().note(f"malformed HTTP request from {remote} ({kind}, {status})")
            detail = "Malformed HTTP request."
        if request.writer.output_size > 0:
            raise ConnectionError("part of the answer was sent; closing the connection")
        response = problem(status, detail)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """The other error lines aiohttp writes, under the same budget (one traceback at most)."""
        what = str(args[0]) % args[1:] if args else "error"
        exc = kw.get("exc_info")
        self._budget().note(what, exc_info=exc if isinstance(exc, BaseException) else None)


class _QuietServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _QuietHandler(self, loop=self._loop, **self._kwargs)


class QuietAppRunner(web.AppRunner):
    """An AppRunner whose connections answer malformed HTTP briefly (see the module)."""

    __slots__ = ("log_budget",)

    def __init__(
        self, app: web.Application, *, listener: str, clock: Steady, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self.log_budget = LogBudget(listener, clock=clock)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The application's own Server, made by aiohttp; only its handler class changes.
        server.__class__ = _QuietServer
        server.log_budget = self.log_budget  # type: ignore[attr-defined]
        return server
