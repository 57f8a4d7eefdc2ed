"""Problem details (RFC 9457): every error either API answers, and nothing internal in it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from rtcc_gateway.problems import (
    PROBLEM_JSON,
    STORAGE_ERROR_KEY,
    STORAGE_RETRY_AFTER_S,
    ProblemRaised,
    problem,
    problem_middleware,
)
from rtcc_gateway.storage_guard import StorageUnavailableError

pytestmark = pytest.mark.usefixtures("socket_enabled")  # aiohttp's test server, on loopback


def test_a_problem_has_the_status_phrase_and_the_detail() -> None:
    answer = problem(429, "More than 30 requests a minute.", headers={"Retry-After": "12"})
    assert answer.status == 429
    assert answer.content_type == PROBLEM_JSON
    assert answer.headers["Retry-After"] == "12"
    assert json.loads(answer.text or "") == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "More than 30 requests a minute.",
    }


def test_invalid_params_appear_only_when_there_are_some() -> None:
    params = [{"name": "duration_s", "reason": "expected an integer from 60 to 43200"}]
    assert (
        json.loads(problem(400, "x", invalid_params=params).text or "")["invalid_params"] == params
    )
    assert "invalid_params" not in json.loads(problem(400, "x", invalid_params=[]).text or "")


type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def answer_of(
    handler: Handler, *, method: str = "GET", storage_errors: list[BaseException] | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/x", handler)
    if storage_errors is not None:

        async def noted(err: BaseException) -> None:
            storage_errors.append(err)

        app[STORAGE_ERROR_KEY] = noted
    async with TestClient(TestServer(app)) as client:
        resp = await client.request(method, "/x")
        return resp.status, dict(resp.headers), await resp.json(content_type=None)


async def test_a_raised_problem_is_the_answer() -> None:
    async def handler(_request: web.Request) -> web.StreamResponse:
        raise ProblemRaised(problem(400, "Invalid fields: until"))

    status, _, body = await answer_of(handler)
    assert (status, body["detail"]) == (400, "Invalid fields: until")


async def test_aiohttp_errors_become_problems_keeping_only_allow() -> None:
    async def handler(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPMethodNotAllowed("GET", ["POST"], headers={"X-Internal": "1"})

    status, headers, body = await answer_of(handler)
    assert (status, body["detail"]) == (405, "Method not allowed on this resource.")
    assert headers["Allow"] == "POST"
    assert "X-Internal" not in headers
    assert headers["Content-Type"].startswith(PROBLEM_JSON)


async def test_a_crash_is_a_500_that_names_nothing() -> None:
    async def handler(_request: web.Request) -> web.StreamResponse:
        raise KeyError("owner-token-123456789")

    status, _, body = await answer_of(handler)
    assert (status, body["detail"]) == (500, "The gateway could not handle this request.")
    assert "owner-token" not in json.dumps(body)


async def test_a_storage_error_is_a_503_to_retry_and_is_reported_once() -> None:
    error = sqlite3.OperationalError("database or disk is full")

    async def handler(_request: web.Request) -> web.StreamResponse:
        raise error

    reported: list[BaseException] = []
    status, headers, body = await answer_of(handler, storage_errors=reported)
    assert status == 503
    assert headers["Retry-After"] == str(STORAGE_RETRY_AFTER_S)
    assert "disk" not in body["detail"], "SQLite's words stay in the log"
    assert reported == [error]


async def test_storage_known_to_be_down_is_a_503_without_another_report() -> None:
    async def handler(_request: web.Request) -> web.StreamResponse:
        raise StorageUnavailableError

    reported: list[BaseException] = []
    status, _, _ = await answer_of(handler, storage_errors=reported)
    assert status == 503
    assert reported == []


async def test_redirects_pass_through() -> None:
    async def handler(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/elsewhere")

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/x", handler)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/x", allow_redirects=False)
        assert (resp.status, resp.headers["Location"]) == (302, "/elsewhere")
