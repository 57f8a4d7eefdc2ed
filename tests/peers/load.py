"""Load helpers shared by tests/media/test_load.py (correctness at a small scale) and
bench/load.py (the figures at full scale): slowloris connections, a burst of signed requests,
many raw RTSP viewers of one link."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from .rtsp_client import RtspViewer, play

# A request line and one header, never finished: the listener must time it out on its own.
SLOW_HTTP = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SLOW_RTSP = b"OPTIONS rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\n"


@contextlib.asynccontextmanager
async def slowloris(
    port: int, count: int, opening: bytes
) -> AsyncIterator[list[asyncio.StreamWriter]]:
    """`count` connections to 127.0.0.1:`port` that each send `opening` and then nothing."""
    writers: list[asyncio.StreamWriter] = []
    try:
        for _ in range(count):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(opening)
            writers.append(writer)
        yield writers
    finally:
        for writer in writers:
            writer.transport.abort()


@dataclass
class Burst:
    """How a burst of requests went: each one's latency (ms) and the statuses met."""

    latencies_ms: list[float]
    statuses: list[int]


async def burst(count: int, send: Callable[[int], Awaitable[int]]) -> Burst:
    """Send `count` requests at once (`send(i)` returns the status); their latencies."""

    async def one(i: int) -> tuple[float, int]:
        started = time.perf_counter()
        status = await send(i)
        return (time.perf_counter() - started) * 1000, status

    results = await asyncio.gather(*(one(i) for i in range(count)))
    return Burst([r[0] for r in results], [r[1] for r in results])


@dataclass
class Watching:
    """Viewers of one link, each reading in the background until closed."""

    viewers: list[RtspViewer]
    readers: list[asyncio.Task[float | None]]

    async def close(self) -> None:
        for viewer in self.viewers:
            viewer.close()
        await asyncio.gather(*self.readers)


async def watch(link: str, count: int, timeout: float = 60) -> Watching:
    """`count` raw RTSP viewers of `link`, all connecting at once."""
    viewers = list(await asyncio.gather(*(play(link, timeout=timeout) for _ in range(count))))
    loop = asyncio.get_running_loop()
    readers = [loop.create_task(v.read_until_end(timeout=timeout * 5)) for v in viewers]
    return Watching(viewers, readers)
