"""Refused signatures on the record, within caps per address and in all.

Junk cannot flood the log; what is dropped is counted on the next record (`suppressed_before`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from aiohttp import web

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.clock import WallClock
from rtcc_gateway.limits import (
    AUTH_FAILURE_AUDITS_IN_ALL_PER_MINUTE,
    AUTH_FAILURE_AUDITS_PER_MINUTE,
)
from rtcc_gateway.ratelimit import RateLimiter

_ALL_ADDRESSES: Final = "*"  # the limiter's key for the cap over every address


class AuthFailureAudit:
    """Writes `auth_failed` records, at most so many a minute."""

    def __init__(self, *, audit: Callable[[], AuditLog], clock: WallClock) -> None:
        self._audit = audit  # late-bound: the log opens at start
        self._limiter = RateLimiter(clock)
        self._suppressed = 0

    async def record(self, request: web.Request, reason: str) -> None:
        """Record one refused signature, or count it if over the caps."""
        remote = request.remote or "unknown"
        if self._limiter.hit(remote, AUTH_FAILURE_AUDITS_PER_MINUTE) or self._limiter.hit(
            _ALL_ADDRESSES, AUTH_FAILURE_AUDITS_IN_ALL_PER_MINUTE
        ):
            self._suppressed += 1
            return
        detail: dict[str, object] = {
            "reason": reason,
            "method": request.method,
            "path": request.path,
            "remote": remote,
        }
        if self._suppressed:
            detail["suppressed_before"] = self._suppressed
            self._suppressed = 0
        await self._audit().append("auth_failed", detail)
