"""The demo's port forwarding: a host TCP port, a socket file, the namespace's TCP port.

Each case runs in a plain `asyncio.run` of its own process, as the demo runs the forwarders
(the suite's event loop and socket guard are Home Assistant's test harness, not the demo's).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from ..peers.demo.forward import serve_tcp_as_unix, serve_unix_as_tcp
from ..peers.onvif_sim import free_port

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = b"x" * 200_000 + b"get /"


async def echo_upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    data = await reader.read()  # until the client's end, which the forwarders pass on
    writer.write(data.upper())
    await writer.drain()
    writer.close()


async def both_hops(folder: Path) -> bytes:
    target = await asyncio.start_server(echo_upper, "127.0.0.1", 0)
    sock = folder / "ha.sock"
    inner = await serve_tcp_as_unix(sock, target.sockets[0].getsockname()[1])
    host_port = free_port()
    outer = await serve_unix_as_tcp(host_port, sock)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", host_port)
        writer.write(PAYLOAD)
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), 20)
        writer.close()
        return answer
    finally:
        for server in (outer, inner, target):
            server.close()
            await server.wait_closed()


async def far_side_down(folder: Path) -> bytes:
    host_port = free_port()
    outer = await serve_unix_as_tcp(host_port, folder / "not-yet.sock")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", host_port)
        answer = await asyncio.wait_for(reader.read(), 20)
        writer.close()
        return answer
    finally:
        outer.close()
        await outer.wait_closed()


def run_case(name: str, tmp_path: Path) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "tests.demo.test_forward", name, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_bytes_cross_both_hops_both_ways_and_the_end_is_passed_on(tmp_path: Path) -> None:
    assert run_case("both_hops", tmp_path) == PAYLOAD.upper()


def test_a_connection_before_the_far_side_is_up_is_closed(tmp_path: Path) -> None:
    assert run_case("far_side_down", tmp_path) == b""


if __name__ == "__main__":
    case = {"both_hops": both_hops, "far_side_down": far_side_down}[sys.argv[1]]
    with tempfile.TemporaryDirectory(dir=sys.argv[2]) as folder:
        sys.stdout.buffer.write(asyncio.run(case(Path(folder))))
