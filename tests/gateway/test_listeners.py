"""The listeners' log budget: one line a minute per listener, the lines in between counted; and a
malformed request answered with a short problem that echoes nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from rtcc_gateway.listeners import LOG_EVERY_S, LogBudget, QuietAppRunner


class Steady:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_interval_and_the_count_of_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    clock = Steady()
    budget = LogBudget("public", clock=clock)
    with caplog.at_level(logging.WARNING, logger="rtcc_gateway.listeners"):
        for _ in range(4):
            budget.note("malformed HTTP request from 127.0.0.1")
        clock.now += LOG_EVERY_S - 0.5
        budget.note("malformed HTTP request from 127.0.0.1")
        clock.now += 0.5
        budget.note("malformed HTTP request from 127.0.0.2")
    assert caplog.messages == [
        "public listener: malformed HTTP request from 127.0.0.1",
        "public listener: malformed HTTP request from 127.0.0.2 (4 more since the last such line)",
    ]
    assert budget.total == 6


def test_each_listener_has_its_own_budget(caplog: pytest.LogCaptureFixture) -> None:
    clock = Steady()
    with caplog.at_level(logging.WARNING, logger="rtcc_gateway.listeners"):
        LogBudget("public", clock=clock).note("x")
        LogBudget("owner", clock=clock).note("x")
    assert caplog.messages == ["public listener: x", "owner listener: x"]


@pytest.mark.usefixtures("socket_enabled")
async def test_a_malformed_request_gets_a_problem_naming_none_of_it() -> None:
    app = web.Application()
    clock = Steady()
    runner = QuietAppRunner(app, listener="public", clock=clock, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /\x01secret-in-the-target HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        await writer.wait_closed()
    finally:
        await runner.cleanup()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"400"
    assert b"application/problem+json" in head
    assert b"Malformed HTTP request." in body
    assert b"secret-in-the-target" not in answer
    assert runner.log_budget.total == 1
