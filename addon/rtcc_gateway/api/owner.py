"""The owner API (OWNER-API.md), served on the owner listener only, behind a bearer token."""

from __future__ import annotations

import hmac
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from rtcc_gateway import __version__
from rtcc_gateway.context import GATEWAY_KEY
from rtcc_gateway.problems import problem

OWNER_MAX_BODY: Final = 256 * 1024


def _token_ok(request: web.Request, expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # Compare in constant time whatever arrives, so timing says nothing about the token.
    good_scheme = scheme.lower() == "bearer"
    good_token = hmac.compare_digest(token.strip().encode(), expected.encode())
    return good_scheme and good_token


@web.middleware
async def bearer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every owner call needs `Authorization: Bearer OWNER_TOKEN`."""
    gateway = request.app[GATEWAY_KEY]
    if not _token_ok(request, gateway.config.owner.token):
        return problem(
            401,
            "Missing or wrong owner token.",
            headers={"WWW-Authenticate": 'Bearer realm="rtcc_share owner"'},
        )
    return await handler(request)


async def get_info(request: web.Request) -> web.Response:
    """GET /api/v1/info: who this gateway is and where its public links point."""
    gateway = request.app[GATEWAY_KEY]
    return web.json_response(
        {
            "gateway_id": gateway.gateway_id,
            "version": __version__,
            "restreamer": gateway.restreamer_name,
            "public_base_url": gateway.config.public.base_url,
            "rtsp_base_url": gateway.config.public.rtsp_base_url,
        }
    )


def add_routes(app: web.Application) -> None:
    """Register the owner API's routes."""
    app.router.add_get("/api/v1/info", get_info)
