"""The RTSP listener on its own: it answers on loopback, admits only what `admit` says, and its
stop closes every connection it holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import closing

import pytest
from rtcc_gateway.door.rtsp import Admission, RtspDoor

from ..peers.rtsp_client import RtspConnection

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def door() -> AsyncIterator[tuple[RtspDoor, str, list[str]]]:
    asked: list[str] = []

    async def admit(token: str) -> Admission | None:
        asked.append(token)
        return None

    rtsp = RtspDoor(max_header_bytes=8190, admit=admit)
    host, port = await rtsp.start("127.0.0.1", 0, None)
    yield rtsp, f"rtsp://{host}:{port}", asked
    await rtsp.stop()


async def test_options_are_answered_with_what_the_door_allows(
    door: tuple[RtspDoor, str, list[str]],
) -> None:
    _, base, _ = door
    with closing(await RtspConnection.open(base)) as conn:
        answer = await conn.ask("OPTIONS", f"{base}/tok_unknown")
    assert answer.status == 200
    public = answer.header("Public") or ""
    assert "DESCRIBE" in public
    assert "RECORD" not in public


async def test_a_token_admit_refuses_is_404_and_asked_once(
    door: tuple[RtspDoor, str, list[str]],
) -> None:
    _, base, asked = door
    with closing(await RtspConnection.open(base)) as conn:
        answer = await conn.ask("DESCRIBE", f"{base}/tok_unknown", Accept="application/sdp")
    assert answer.status == 404
    assert asked == ["tok_unknown"]


async def test_stop_closes_every_open_connection(door: tuple[RtspDoor, str, list[str]]) -> None:
    rtsp, base, _ = door
    conn = await RtspConnection.open(base)
    assert (await conn.ask("OPTIONS", f"{base}/x")).status == 200
    assert rtsp.connections == 1
    await rtsp.stop()
    assert rtsp.connections == 0
    assert await asyncio.wait_for(conn.reader.read(), 30) == b"", "the door closed it"
    conn.close()
