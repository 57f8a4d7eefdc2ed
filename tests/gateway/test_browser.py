"""A malicious page in the owner's browser: it can make the browser send requests to the gateway,
but it cannot add the owner's bearer token, and the gateway grants no cross-origin reads.
"""

from __future__ import annotations

import aiohttp
import pytest

from .conftest import Harness

EVIL = "https://evil.example"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/state"), ("POST", "/api/v1/revoke"), ("PUT", "/api/v1/policy")],
)
async def test_a_cross_origin_call_without_the_token_is_refused_and_not_readable(
    harness: Harness, method: str, path: str
) -> None:
    # What a page can make a browser send: its Origin, a simple content type, cookies (none here).
    answer = await harness.owner.call(
        method,
        path,
        raw=b"{}",
        content_type="text/plain",
        headers={"Origin": EVIL, "Authorization": ""},
        check=False,
    )
    assert answer.status == 401
    assert not any(k.lower().startswith("access-control-") for k in answer.headers)


@pytest.mark.parametrize("listener", ["owner", "city"])
async def test_no_preflight_is_granted(harness: Harness, listener: str) -> None:
    api = harness.owner if listener == "owner" else harness.city
    answer = await api.call(
        "OPTIONS",
        "/api/v1/requests" if listener == "city" else "/api/v1/state",
        sign=False,
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        check=False,
    )
    assert answer.status in (401, 405)
    assert not any(k.lower().startswith("access-control-") for k in answer.headers)


async def test_the_event_stream_needs_the_token_a_page_cannot_send(harness: Harness) -> None:
    # A page may open a WebSocket to any origin, but cannot set its Authorization header.
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{harness.owner.url}/api/v1/events", headers={"Origin": EVIL})
    assert refused.value.status == 401
