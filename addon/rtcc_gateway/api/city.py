"""The city API (CITY-API.md), served on the public listener."""

from __future__ import annotations

from typing import Final

from aiohttp import web

CITY_MAX_BODY: Final = 16 * 1024


async def get_health(_request: web.Request) -> web.Response:
    """GET /api/v1/health: unauthenticated liveness; reveals nothing else."""
    return web.json_response({"status": "ok"})


def add_routes(app: web.Application) -> None:
    """Register the city API's routes."""
    app.router.add_get("/api/v1/health", get_health)
