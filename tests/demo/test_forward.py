"""The demo's port forwarding: a host TCP port, a socket file, the namespace's TCP port."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_socket

from ..peers.demo.forward import serve_tcp_as_unix, serve_unix_as_tcp
from ..peers.onvif_sim import free_port


@pytest.fixture(autouse=True)
def unix_sockets_too(socket_enabled: None) -> None:
    """Loopback as for every test, and socket files (Home Assistant's plugin sets this up anew
    before each test, so this lasts one test)."""
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


async def test_bytes_cross_both_hops_both_ways_and_the_end_is_passed_on(tmp_path: Path) -> None:
    async def echo_upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # until the client's end, which the forwarders pass on
        writer.write(data.upper())
        await writer.drain()
        writer.close()

    target = await asyncio.start_server(echo_upper, "127.0.0.1", 0)
    target_port = target.sockets[0].getsockname()[1]
    sock = tmp_path / "ha.sock"
    inner = await serve_tcp_as_unix(sock, target_port)
    host_port = free_port()
    outer = await serve_unix_as_tcp(host_port, sock)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", host_port)
        writer.write(b"x" * 200_000 + b"get /")
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), 20)
        writer.close()
        assert answer == b"X" * 200_000 + b"GET /"
    finally:
        for server in (outer, inner, target):
            server.close()
            await server.wait_closed()


async def test_a_connection_before_the_far_side_is_up_is_closed(tmp_path: Path) -> None:
    host_port = free_port()
    outer = await serve_unix_as_tcp(host_port, tmp_path / "not-yet.sock")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", host_port)
        assert await asyncio.wait_for(reader.read(), 20) == b""
        writer.close()
    finally:
        outer.close()
        await outer.wait_closed()
