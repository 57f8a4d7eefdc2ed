"""`rtcc-gateway serve` and `check` as a user runs them: the console script in a subprocess."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ..conftest import OWNER_TOKEN, ServeGateway


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rtcc-gateway", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_check_accepts_a_valid_file(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any]
) -> None:
    path = write_config(config_dict)
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "restreamer: direct (RTSP links only): the configuration asks for direct",
        f"ok: {path}",
    ]


def test_check_names_each_bad_field_and_exits_2(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any]
) -> None:
    config_dict["cameras"][0]["source"] = "http://nope"
    config_dict["owner"]["token"] = "CHANGE-ME"
    result = run_cli("check", "--config", str(write_config(config_dict)))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "cameras[0].source: expected a rtsp:// or rtsps:// URL",
        "owner.token: is a placeholder; set a random token (e.g. `openssl rand -hex 32`)",
    ]


async def test_serve_with_a_bad_file_starts_nothing(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any], tmp_path: Path
) -> None:
    config_dict["policy"]["timezone"] = "Nowhere/Land"
    result = run_cli("serve", "--config", str(write_config(config_dict)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["policy.timezone: unknown timezone 'Nowhere/Land'"]
    assert not (tmp_path / "data").exists()


async def test_serve_answers_health_and_guards_the_owner_api(
    serve_gateway: ServeGateway, tmp_path: Path
) -> None:
    gw = await serve_gateway()
    public = f"http://127.0.0.1:{gw.public_port}"
    owner = f"http://127.0.0.1:{gw.owner_port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{public}/api/v1/health") as resp:
                assert resp.status == 200
                assert await resp.json() == {"status": "ok"}
            for headers in (
                {},
                {"Authorization": "Bearer wrong-token-0123456789"},
                {"Authorization": f"Basic {OWNER_TOKEN}"},
            ):
                async with session.get(f"{owner}/api/v1/info", headers=headers) as resp:
                    assert resp.status == 401
                    assert resp.content_type == "application/problem+json"
                    assert (await resp.json())["status"] == 401
            auth = {"Authorization": f"Bearer {OWNER_TOKEN}"}
            async with session.get(f"{owner}/api/v1/info", headers=auth) as resp:
                assert resp.status == 200
                info = await resp.json()
            # The owner API is not on the city's listener.
            async with session.get(f"{public}/api/v1/info", headers=auth) as resp:
                assert resp.status == 404
                assert resp.content_type == "application/problem+json"
    finally:
        code = await gw.stop()
    assert code == 0
    assert info["gateway_id"].startswith("gw_")
    assert info["restreamer"] == "direct"
    assert info["public_base_url"] == "http://127.0.0.1:8443"
    assert info["rtsp_base_url"] == "rtsp://127.0.0.1:8554"
    assert (tmp_path / "data" / "gateway_id").read_text().strip() == info["gateway_id"]
    # Secrets never reach the log.
    log = "\n".join(gw.stderr)
    assert OWNER_TOKEN not in log
    assert "campass" not in log


async def test_gateway_id_survives_a_restart(serve_gateway: ServeGateway, tmp_path: Path) -> None:
    first = await serve_gateway()
    assert await first.stop() == 0
    kept = (tmp_path / "data" / "gateway_id").read_text()
    second = await serve_gateway()
    assert await second.stop() == 0
    assert (tmp_path / "data" / "gateway_id").read_text() == kept


async def test_rtsp_door_answers_unknown_tokens_with_404(serve_gateway: ServeGateway) -> None:
    gw = await serve_gateway()
    try:
        with socket.create_connection(("127.0.0.1", gw.rtsp_port), timeout=5) as sock:
            sock.sendall(b"DESCRIBE rtsp://127.0.0.1/unknowntoken RTSP/1.0\r\nCSeq: 3\r\n\r\n")
            reply = sock.recv(4096).decode()
    finally:
        assert await gw.stop() == 0
    assert reply.startswith("RTSP/1.0 404 Not Found\r\n")
    assert "CSeq: 3\r\n" in reply


async def test_a_port_in_use_is_named_and_exits_2(
    socket_enabled: None,
    write_config: Callable[[Any], Path],
    config_dict: dict[str, Any],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config_dict["owner"]["port"] = busy.getsockname()[1]
        result = run_cli("serve", "--config", str(write_config(config_dict)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().startswith(
        f"owner.port: cannot listen on 127.0.0.1:{config_dict['owner']['port']}"
    )


@pytest.mark.parametrize("data_dir", ["/proc/forbidden/data"])
def test_an_unusable_data_dir_is_named(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any], data_dir: str
) -> None:
    config_dict["data_dir"] = data_dir
    result = run_cli("serve", "--config", str(write_config(config_dict)))
    assert result.returncode == 2
    assert result.stderr.startswith("data_dir: cannot create /proc/forbidden/data")
