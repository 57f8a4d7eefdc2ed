"""Malformed HTTP on any listener: a short problem answer that echoes nothing, and one log line.

200 malformed requests with a 9 KB header once wrote 1.9 MB of tracebacks to stderr, and each
400 was text/plain quoting the input.
"""

from __future__ import annotations

import asyncio
import json

from ..conftest import ServeGateway

MARKER = b"SECRET-LOOKING-INPUT"
MALFORMED = [
    # A 9 KB header line (over the 8190-byte limit).
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + MARKER + b"A" * 9000 + b"\r\n\r\n",
    # A control character in a header name.
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-" + MARKER + b"\x01: 1\r\n\r\n",
    # A broken request line.
    b"GET /api/v1/health HTTP/1.1 " + MARKER + b"\r\nHost: x\r\n\r\n",
    # Not HTTP at all.
    MARKER + b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
]


async def _send(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_malformed_requests_get_short_answers_and_one_log_line(
    serve_gateway: ServeGateway,
) -> None:
    gw = await serve_gateway()
    try:
        for port in (gw.public_port, gw.owner_port):
            for i in range(200):
                reply = await _send(port, MALFORMED[i % len(MALFORMED)])
                head, _, body = reply.partition(b"\r\n\r\n")
                assert head.startswith((b"HTTP/1.0 400 ", b"HTTP/1.1 400 ")), head
                assert b"Content-Type: application/problem+json" in head
                assert MARKER not in reply
                assert len(reply) < 400
                assert json.loads(body)["status"] == 400
    finally:
        code = await gw.stop()
    assert code == 0
    # The first of each listener is logged at once (before its answer); the rest are counted
    # into the next line, a minute later at the soonest.
    malformed = [line for line in gw.stderr if "malformed HTTP" in line]
    assert any("public listener: malformed HTTP request" in line for line in malformed)
    assert any("owner listener: malformed HTTP request" in line for line in malformed)
    assert len(malformed) <= 4, malformed
    assert not any("Traceback" in line for line in gw.stderr)
    assert sum(len(line) for line in gw.stderr) < 4000, gw.stderr
    assert not any(MARKER.decode() in line for line in gw.stderr)
