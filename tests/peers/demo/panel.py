"""What the owner's panel sees: Home Assistant's websocket `rtcc_share/state` snapshot, read as
the panel reads it (an authenticated websocket on /api/websocket)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from ..real_hass import RealHass
from .steps import StepFailedError

WAIT_S = 120.0  # fails a broken run only


async def snapshot(hass: RealHass, step: str) -> dict[str, Any]:
    """The one gateway the demo configured, as the panel shows it."""
    token = hass.token or await hass.login()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{hass.url}/api/websocket") as ws,
    ):
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        authed = await ws.receive_json()
        if authed.get("type") != "auth_ok":
            raise StepFailedError(step, f"the websocket refused the owner: {authed}")
        await ws.send_json({"id": 1, "type": "rtcc_share/state"})
        while (answer := await ws.receive_json()).get("id") != 1:
            pass
    if not answer.get("success"):
        raise StepFailedError(step, f"rtcc_share/state failed: {answer.get('error')}")
    gateways = answer["result"].get("gateways") or []
    if len(gateways) != 1:
        raise StepFailedError(step, f"the panel shows {len(gateways)} gateways, not 1")
    return dict(gateways[0])


async def pending_request(hass: RealHass, request_id: str) -> dict[str, Any]:
    """The request, once the panel lists it as waiting for the owner."""
    step = "the panel shows the request"
    loop = asyncio.get_running_loop()
    end = loop.time() + WAIT_S
    while True:
        gateway = await snapshot(hass, step)
        for request in gateway.get("pending_requests") or []:
            if request.get("request_id") == request_id:
                return dict(request)
        if loop.time() > end:
            raise StepFailedError(step, f"not listed within {WAIT_S:g} s")
        await asyncio.sleep(0.5)


async def audit(hass: RealHass) -> dict[str, Any]:
    """The panel's audit summary (the integration verifies the chain through the owner API,
    against the head it saw last)."""
    step = "the panel's audit check"
    summary = dict((await snapshot(hass, step)).get("audit") or {})
    if summary.get("ok") is not True:
        raise StepFailedError(step, f"the panel says {summary}")
    return summary
