"""What request handlers may reach of the running gateway: one narrow interface per API.

`app.py` puts the gateway under these keys once; the handlers see only the members named here,
so they cannot reach into the rest of it, and this module never imports `app.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.clock import Clock
from rtcc_gateway.config import Agency, GatewayConfig
from rtcc_gateway.events import EventBus
from rtcc_gateway.ratelimit import RateLimiter
from rtcc_gateway.restreamer.base import Restreamer
from rtcc_gateway.shares import ShareManager
from rtcc_gateway.signatures import NonceStore


class CityContext(Protocol):
    """What the city API's handlers use."""

    @property
    def config(self) -> GatewayConfig:
        """The configuration in force."""

    @property
    def agencies(self) -> Mapping[str, Agency]:
        """The agencies that may sign requests, by key id."""

    @property
    def clock(self) -> Clock:
        """The gateway's clock (signature freshness, a request's start)."""

    @property
    def nonces(self) -> NonceStore:
        """Where used signature nonces are remembered."""

    @property
    def rate_limiter(self) -> RateLimiter:
        """Per-agency call counts."""

    @property
    def shares(self) -> ShareManager:
        """Requests and shares."""

    def link_formats(self) -> list[str]:
        """The link formats a share offers now."""

    async def audit_auth_failure(self, request: web.Request, reason: str) -> None:
        """Record a refused signature (rate-limited)."""


class OwnerContext(Protocol):
    """What the owner API's handlers use."""

    @property
    def config(self) -> GatewayConfig:
        """The configuration in force."""

    @property
    def gateway_id(self) -> str:
        """This gateway's stable id."""

    @property
    def restreamer(self) -> Restreamer:
        """The restreamer in use (its name is shown)."""

    @property
    def shares(self) -> ShareManager:
        """Requests and shares."""

    @property
    def audit(self) -> AuditLog:
        """The audit log."""

    @property
    def events(self) -> EventBus:
        """The owner's event stream."""

    @property
    def websockets(self) -> set[web.WebSocketResponse]:
        """Open event streams (closed at stop)."""

    def owner_state(self) -> dict[str, Any]:
        """GET /api/v1/state."""

    def transparency(self) -> dict[str, Any]:
        """GET /api/v1/transparency."""


CITY_KEY: web.AppKey[CityContext] = web.AppKey("city_context")
OWNER_KEY: web.AppKey[OwnerContext] = web.AppKey("owner_context")
