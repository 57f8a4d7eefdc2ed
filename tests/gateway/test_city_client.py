"""`rtcc-city` run in-process against a small signature-checking city API on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rtcc_gateway import city_client
from rtcc_gateway.config import Agency
from rtcc_gateway.signatures import InMemoryNonceStore, SignatureError, verify_request
from rtcc_gateway.signing import (
    generate_private_key,
    load_private_key,
    private_key_pem,
    public_key_b64,
)

KEY = generate_private_key()
AGENCY = Agency(
    id="jpd",
    name="Jackson Police Department",
    public_key=KEY.public_key().public_bytes_raw(),
    rate_limit_per_minute=30,
)


@dataclass
class FakeGateway:
    """What the fake city API saw."""

    base_url: str = ""
    nonces: InMemoryNonceStore = field(default_factory=InMemoryNonceStore)
    bodies: list[Any] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


GATEWAY_KEY = web.AppKey("gateway", FakeGateway)


def _problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


@web.middleware
async def _signed(request: web.Request, handler: Any) -> web.StreamResponse:
    gateway = request.app[GATEWAY_KEY]
    try:
        await verify_request(
            method=request.method,
            target_uri=gateway.base_url + request.raw_path,
            headers=request.headers,
            body=await request.read(),
            agencies={AGENCY.id: AGENCY},
            nonces=gateway.nonces,
            now=datetime.now(UTC),
        )
    except SignatureError as err:
        return _problem(401, "Unauthorized", err.detail)
    return await handler(request)


async def _post(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    body = await request.json()
    gateway.bodies.append(body)
    answer = {
        "request_id": "req_1",
        "status": "pending",
        "shares": [{"share_id": "shr_1", "camera_id": "front_door", "status": "pending"}],
    }
    return web.json_response(
        answer, status=202, headers={"Location": gateway.base_url + "/api/v1/requests/req_1"}
    )


async def _get(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    gateway.queries.append(request.query_string)
    if request.match_info["request_id"] != "req_1":
        return _problem(404, "Not Found", "no such request")
    return web.json_response({"request_id": "req_1", "status": "approved", "shares": []})


async def _delete(request: web.Request) -> web.Response:
    request.app[GATEWAY_KEY].cancelled.append(request.match_info["request_id"])
    return web.Response(status=204)


@pytest.fixture
async def fake_gateway(socket_enabled: None, aiohttp_server: Any) -> FakeGateway:
    gateway = FakeGateway()
    app = web.Application(middlewares=[_signed])
    app[GATEWAY_KEY] = gateway
    app.router.add_post("/api/v1/requests", _post)
    app.router.add_get("/api/v1/requests/{request_id}", _get)
    app.router.add_delete("/api/v1/requests/{request_id}", _delete)
    server: TestServer = await aiohttp_server(app)  # closed by the fixture at teardown
    gateway.base_url = f"http://127.0.0.1:{server.port}"
    return gateway


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "city.pem"
    path.write_bytes(private_key_pem(KEY))
    path.chmod(0o600)
    return path


async def run(*argv: str) -> int:
    """The CLI in-process; in a worker thread because it runs its own event loop."""
    return await asyncio.to_thread(city_client.main, list(argv))


def signed_args(gateway: str, key_file: Path, key_id: str = "jpd") -> list[str]:
    return ["--gateway", gateway, "--key", str(key_file), "--key-id", key_id]


REQUEST_ARGS = [
    "--incident", "JPD-2026-001234", "--offense", "burglary",
    "--reason", "Break-in reported at 123 Main St", "--lat", "32.2988", "--lon", "-90.1848",
]  # fmt: skip


# --- keygen ------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_readable_only_by_its_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "city.pem"
    assert city_client.main(["keygen", "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    printed = capsys.readouterr().out.strip()
    assert printed == public_key_b64(load_private_key(out))
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_keygen_refuses_to_overwrite_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "city.pem"
    out.write_text("precious")
    out.chmod(0o644)
    assert city_client.main(["keygen", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert out.read_text() == "precious"
    assert "already exists" in captured.err
    assert "--force" in captured.err
    assert captured.out == ""

    assert city_client.main(["keygen", "--out", str(out), "--force"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert capsys.readouterr().out.strip() == public_key_b64(load_private_key(out))


def test_keygen_into_a_missing_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert city_client.main(["keygen", "--out", str(tmp_path / "nope" / "city.pem")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rtcc-city: cannot write")
    assert "Traceback" not in err


# --- signed calls ------------------------------------------------------------------------------


async def test_request_sends_only_the_given_fields_and_prints_the_answer(
    fake_gateway: FakeGateway, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run("request", *signed_args(fake_gateway.base_url, key_file), *REQUEST_ARGS)
    assert code == 0, capsys.readouterr().err
    assert fake_gateway.bodies == [
        {
            "incident_id": "JPD-2026-001234",
            "offense": "burglary",
            "reason": "Break-in reported at 123 Main St",
            "location": {"lat": 32.2988, "lon": -90.1848},
        }
    ]
    out = capsys.readouterr().out
    assert json.loads(out)["request_id"] == "req_1"
    assert "\n  " in out  # pretty-printed


async def test_request_with_every_option(
    fake_gateway: FakeGateway, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(
        "request",
        # A trailing slash on the gateway URL must not change the signed target.
        *signed_args(fake_gateway.base_url + "/", key_file),
        *REQUEST_ARGS,
        "--radius", "150", "--camera", "front_door", "--camera", "garage",
        "--start", "2026-11-26T20:00:00Z", "--duration", "900",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    body = fake_gateway.bodies[0]
    assert body["radius_m"] == 150
    assert body["camera_ids"] == ["front_door", "garage"]
    assert body["start"] == "2026-11-26T20:00:00Z"
    assert body["duration_s"] == 900


async def test_a_refused_request_exits_1_with_the_problem_details(
    fake_gateway: FakeGateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_key = tmp_path / "other.pem"
    wrong_key.write_bytes(private_key_pem(generate_private_key()))
    code = await run("request", *signed_args(fake_gateway.base_url, wrong_key), *REQUEST_ARGS)
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    first, _, problem = captured.err.partition("\n")
    assert first == "rtcc-city: the gateway refused (HTTP 401)"
    assert json.loads(problem) == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "the signature does not verify",
    }
    assert fake_gateway.bodies == []

    code = await run(
        "request", *signed_args(fake_gateway.base_url, wrong_key, "unknown"), *REQUEST_ARGS
    )
    assert code == 1
    assert '"status": 401' in capsys.readouterr().err


async def test_status_long_polls_and_prints_the_request(
    fake_gateway: FakeGateway, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = signed_args(fake_gateway.base_url, key_file)
    assert await run("status", *args, "req_1", "--wait", "5") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "approved"
    assert await run("status", *args, "req_1") == 0
    assert fake_gateway.queries == ["wait=5", ""]
    capsys.readouterr()

    assert await run("status", *args, "req_unknown") == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err
    assert '"title": "Not Found"' in err


async def test_cancel_succeeds_on_204(
    fake_gateway: FakeGateway, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = signed_args(fake_gateway.base_url, key_file)
    assert await run("cancel", *args, "req_1") == 0
    assert await run("cancel", *args, "req_1") == 0
    assert fake_gateway.cancelled == ["req_1", "req_1"]
    assert capsys.readouterr().err == ""


async def test_an_unreachable_gateway_exits_2_with_one_clear_line(
    socket_enabled: None, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = await run("status", *signed_args(f"http://127.0.0.1:{port}", key_file), "req_1")
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rtcc-city: cannot reach the gateway at http://127.0.0.1:{port}/")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["request", "--gateway", "http://127.0.0.1:1", "--key", "KEY", "--key-id", "jpd"],
        ["request", "--gateway", "http://127.0.0.1:1", "--key", "KEY", "--key-id", "jpd",
         *REQUEST_ARGS[:-1], "east"],
        ["status", "--gateway", "http://127.0.0.1:1", "--key", "KEY", "--key-id", "jpd"],
        ["status", "--gateway", "http://127.0.0.1:1", "--key", "KEY", "--key-id", "jpd",
         "req_1", "--wait", "soon"],
        ["frobnicate"],
        [],
    ],
)  # fmt: skip
def test_bad_arguments_exit_2(
    argv: list[str], key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(key_file) if a == "KEY" else a for a in argv]
    assert city_client.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("gateway", "message"),
    [
        ("ftp://127.0.0.1:1", "--gateway must be an http:// or https:// URL"),
        ("127.0.0.1:8443", "--gateway must be an http:// or https:// URL"),
        ("http://127.0.0.1:1?x=1", "--gateway must not carry"),
    ],
)
def test_a_bad_gateway_url_exits_2(
    gateway: str, message: str, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert city_client.main(["cancel", *signed_args(gateway, key_file), "req_1"]) == 2
    assert capsys.readouterr().err.startswith(f"rtcc-city: {message}")


def test_a_bad_start_time_exits_2(key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["request", *signed_args("http://127.0.0.1:1", key_file), *REQUEST_ARGS]
    assert city_client.main([*argv, "--start", "tomorrow"]) == 2
    assert "--start 'tomorrow' is not an ISO 8601 time" in capsys.readouterr().err


def test_an_unreadable_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.pem"
    assert city_client.main(["cancel", *signed_args("http://127.0.0.1:1", missing), "r"]) == 2
    err = capsys.readouterr().err
    assert err == f"rtcc-city: key file {missing} does not exist\n"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    assert city_client.main(["cancel", *signed_args("http://127.0.0.1:1", garbage), "r"]) == 2
    assert "is not a PEM private key" in capsys.readouterr().err
