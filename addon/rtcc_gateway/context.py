"""Typed keys that let request handlers reach the running gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from rtcc_gateway.app import Gateway

GATEWAY_KEY: web.AppKey[Gateway] = web.AppKey("gateway")
