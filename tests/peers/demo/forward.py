"""Byte pipes that carry the demo's HTTP ports out of its network namespace.

Unix sockets named by a path are not bound to a network namespace, so the namespace side serves
`127.0.0.1:PORT` on a socket file and the host side serves that file on the host's
`127.0.0.1:PORT`. Nothing listens beyond loopback on either side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

type Opener = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]

CHUNK = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()


def _bridge(open_other: Opener) -> Callable[..., Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            other_reader, other_writer = await open_other()
        except OSError:
            writer.close()  # the far side is not up (yet): the browser sees a closed connection
            return
        try:
            await asyncio.gather(_pipe(reader, other_writer), _pipe(other_reader, writer))
        finally:
            for w in (writer, other_writer):
                w.close()

    return handle


async def serve_tcp_as_unix(path: Path, port: int) -> asyncio.Server:
    """Namespace side: connections to the socket file reach 127.0.0.1:`port`."""
    return await asyncio.start_unix_server(
        _bridge(lambda: asyncio.open_connection("127.0.0.1", port)), path=str(path)
    )


async def serve_unix_as_tcp(port: int, path: Path) -> asyncio.Server:
    """Host side: connections to the host's 127.0.0.1:`port` reach the socket file."""
    return await asyncio.start_server(
        _bridge(lambda: asyncio.open_unix_connection(str(path))), host="127.0.0.1", port=port
    )
