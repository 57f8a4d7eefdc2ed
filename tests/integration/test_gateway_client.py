"""The owner-API client against a real gateway on loopback (no Home Assistant involved)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayConnectionError,
    GatewayInvalidError,
    GatewayNotFoundError,
    GatewayResponseError,
)

from ..conftest import CAMERA_SOURCE, OWNER_TOKEN

POLICY = {"timezone": "America/Chicago", "owner_lease_s": 900}
CAMERA = {
    "id": "front_door",
    "label": "Front door",
    "source": CAMERA_SOURCE,
    "location": {"lat": 32.299, "lon": -90.185},
    "consent": True,
}


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_for(
    session: aiohttp.ClientSession, port: int, token: str = OWNER_TOKEN
) -> GatewayClient:
    return GatewayClient(session, "127.0.0.1", port, token)


async def test_policy_state_pause_resume(
    session: aiohttp.ClientSession, gateway: tuple[Gateway, Bound]
) -> None:
    gw, bound = gateway
    client = client_for(session, bound.owner[1])
    state = await client.put_policy(POLICY, [CAMERA])
    assert state["cameras"][0]["consent"] is True
    assert "source" not in state["cameras"][0]
    assert gw.shares.owner.cameras[0].source == CAMERA_SOURCE

    until = datetime.now(UTC) + timedelta(hours=1)
    state = await client.pause(until)
    assert state["paused"] is True
    assert abs(datetime.fromisoformat(state["policy"]["paused_until"]) - until) < timedelta(
        seconds=1
    )
    state = await client.resume()
    assert state["paused"] is False
    assert (await client.pause())["policy"]["paused_until"] is None
    assert (await client.get_state())["paused"] is True


async def test_refusals_are_typed(
    session: aiohttp.ClientSession, gateway: tuple[Gateway, Bound]
) -> None:
    _, bound = gateway
    client = client_for(session, bound.owner[1])
    with pytest.raises(GatewayInvalidError) as err:
        await client.put_policy({"timezone": "Mars/Olympus"}, [{**CAMERA, "source": "http://x"}])
    assert any(p.startswith("policy.timezone") for p in err.value.problems)
    assert any(p.startswith("cameras[0].source") for p in err.value.problems)
    with pytest.raises(GatewayNotFoundError):
        await client.approve("req_nope", ["front_door"])
    with pytest.raises(GatewayNotFoundError):
        await client.deny("req/../nope")
    with pytest.raises(GatewayNotFoundError):
        await client.revoke_share("shr_nope")
    assert await client.revoke("front_door") == 0
    assert await client.revoke() == 0
    with pytest.raises(GatewayInvalidError):
        await client.audit_verify("not-a-head")
    with pytest.raises(GatewayAuthError):
        await client_for(session, bound.owner[1], "wrong-token-0123456789").get_state()


async def test_audit_verify_with_and_without_head(
    session: aiohttp.ClientSession, gateway: tuple[Gateway, Bound]
) -> None:
    _, bound = gateway
    client = client_for(session, bound.owner[1])
    whole = await client.audit_verify()
    assert whole.ok
    assert whole.head is not None
    assert (await client.audit_verify(whole.head)).ok
    seq = int(whole.head.split(":")[0])
    missing = await client.audit_verify(f"{seq + 50}:{'ab' * 32}")
    assert missing.ok is False


async def drain(events: AsyncIterator[dict[str, object]]) -> None:
    while True:
        await asyncio.wait_for(anext(events), 5)


async def test_event_stream(session: aiohttp.ClientSession, gateway: tuple[Gateway, Bound]) -> None:
    gw, bound = gateway
    client = client_for(session, bound.owner[1])
    async with client.event_stream() as stream:
        events = aiter(stream)
        await client.put_policy(POLICY, [CAMERA])
        event = await asyncio.wait_for(anext(events), 5)
        assert event["type"] == "audit_head"
        gw.events.close()  # the gateway ends the stream
        with pytest.raises(GatewayConnectionError):
            await drain(events)


async def test_event_stream_refusals(
    session: aiohttp.ClientSession, gateway: tuple[Gateway, Bound], closed_port: int
) -> None:
    _, bound = gateway
    with pytest.raises(GatewayAuthError):
        async with client_for(session, bound.owner[1], "wrong-token-0123456789").event_stream():
            pass
    with pytest.raises(GatewayConnectionError):
        async with client_for(session, closed_port).event_stream():
            pass


@pytest.fixture
async def not_a_gateway(socket_enabled: None) -> AsyncIterator[int]:
    """Answers 200 with a non-object, 500, and a non-WebSocket /events."""

    async def listing(_r: web.Request) -> web.Response:
        return web.json_response(["not", "an", "object"])

    async def boom(_r: web.Request) -> web.Response:
        return web.Response(status=500)

    app = web.Application()
    app.router.add_get("/api/v1/state", listing)
    app.router.add_get("/api/v1/audit/verify", listing)
    app.router.add_get("/api/v1/events", boom)
    app.router.add_post("/api/v1/resume", boom)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_something_else_answering(session: aiohttp.ClientSession, not_a_gateway: int) -> None:
    client = client_for(session, not_a_gateway)
    with pytest.raises(GatewayResponseError):
        await client.get_state()
    with pytest.raises(GatewayResponseError):
        await client.resume()
    with pytest.raises(GatewayResponseError):
        async with client.event_stream():
            pass
    with pytest.raises(GatewayResponseError):
        await client.audit_verify()
