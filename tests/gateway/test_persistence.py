"""Fail closed across restarts: what comes back, what never does, and what the log says."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from ..conftest import Clock, GatewayFactory, RecordingRestreamer, jpd_request_headers
from .conftest import Answer, Harness, HarnessFactory, incident, sharing_config


async def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`rtcc-gateway ARGS` as its own process, its output captured."""
    return await asyncio.to_thread(
        subprocess.run,
        ["rtcc-gateway", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _share_then_restart(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], duration_s: int, down_s: int
) -> tuple[Answer, str, Harness]:
    """A live share of `duration_s`, then the gateway stopped and started `down_s` later."""
    config = sharing_config(config_dict, approval="auto")
    first = await harness_factory(config)
    answer = await first.city.call("POST", "/api/v1/requests", incident(duration_s=duration_s))
    token = answer.body["shares"][0]["links"]["rtsp"].rsplit("/", 1)[1]
    await first.gateway.stop()
    clock = Clock()
    clock.advance(down_s)
    second = await harness_factory(config, clock=clock, restreamer=RecordingRestreamer())
    return answer, token, second


async def test_a_restart_in_the_window_resumes_the_share_until_its_end(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    answer, token, second = await _share_then_restart(harness_factory, config_dict, 600, 300)
    clock, restreamer = second.clock, second.restreamer
    assert second.gateway.shares.live_share(token) is not None
    assert restreamer.calls[:2] == [("start", None), ("reconcile", {token})]
    assert token in restreamer.streams
    view = await second.city.call("GET", f"/api/v1/requests/{answer.body['request_id']}")
    assert view.body["shares"][0]["status"] == "live"

    clock.advance(301)
    await second.gateway.shares.tick()
    assert second.gateway.shares.live_share(token) is None
    assert restreamer.streams == {}
    (ended,) = await second.audit("share_ended")
    assert ended["detail"]["reason"] == "window_ended"


async def test_a_window_that_ended_while_down_is_closed_never_resumed(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    answer, token, second = await _share_then_restart(harness_factory, config_dict, 60, 61)
    restreamer = second.restreamer
    assert second.gateway.shares.live_share(token) is None
    assert ("add", token) not in [(c, getattr(a, "token", a)) for c, a in restreamer.calls]
    assert restreamer.calls[1] == ("reconcile", set())
    (ended,) = await second.audit("share_ended")
    assert ended["detail"]["reason"] == "window_ended"
    assert ended["detail"]["note"] == "ended while the gateway was not running"
    view = await second.city.call("GET", f"/api/v1/requests/{answer.body['request_id']}")
    assert view.body["status"] == "ended"
    verify = (await second.owner.call("GET", "/api/v1/audit/verify")).body
    assert verify["ok"] is True


async def test_a_replayed_request_is_refused_after_a_restart(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    config = sharing_config(config_dict, approval="auto")
    first = await harness_factory(config)
    body = b'{"incident_id": "A-1", "offense": "theft", "reason": "r", "location": {"lat": 32.2988, "lon": -90.1848}}'
    headers = jpd_request_headers(body)
    ok = await first.city.call("POST", "/api/v1/requests", raw=body, sign=False, headers=headers)
    assert ok.status == 201
    await first.gateway.stop()

    second = await harness_factory(config)
    replay = await second.city.call(
        "POST", "/api/v1/requests", raw=body, sign=False, headers=headers
    )
    assert replay.status == 401
    assert "already used" in replay.body["detail"]
    failures = await second.audit("auth_failed")
    assert [f["detail"]["reason"] for f in failures] == ["replayed"]
    assert len(await second.audit("request_received")) == 1


async def test_a_pushed_policy_survives_a_restart(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    first = await harness_factory(config_dict)
    push = {
        "policy": {"timezone": "Europe/Berlin", "owner_lease_s": 0},
        "cameras": [{**config_dict["cameras"][0], "consent": True, "label": "Pushed"}],
    }
    assert (await first.owner.call("PUT", "/api/v1/policy", push)).status == 200
    await first.gateway.stop()
    second = await harness_factory(config_dict)
    state = (await second.owner.call("GET", "/api/v1/state")).body
    assert state["policy"]["timezone"] == "Europe/Berlin"
    assert state["cameras"][0]["label"] == "Pushed"


async def test_a_corrupt_database_is_named_and_nothing_starts(
    gateway_factory: GatewayFactory,
    config_dict: dict[str, Any],
    tmp_path: Path,
    write_config: Any,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "gateway.db").write_bytes(b"this is not sqlite" * 100)
    result = await _cli("serve", "--config", str(write_config(config_dict)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "is not a usable rtcc_share database" in result.stderr
    assert "Traceback" not in result.stderr
    # The damaged file is left as it was, for the owner to inspect or restore.
    assert (data / "gateway.db").read_bytes() == b"this is not sqlite" * 100


async def test_audit_cli_verifies_what_a_gateway_wrote(
    auto_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await auto_harness()
    await h.city.call("POST", "/api/v1/requests", incident())
    head = (await h.owner.call("GET", "/api/v1/audit/verify")).body["head"]
    await h.gateway.stop()
    data = str(tmp_path / "data")
    ok = await _cli("audit", "verify", "--data-dir", data)
    assert ok.returncode == 0
    assert ok.stdout.startswith("ok: ")
    # Someone edits a decision behind the gateway's back.
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "gateway.db")) as conn, conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        triggers = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(
            "UPDATE audit SET detail = replace(detail, 'approve', 'decline') "
            "WHERE kind = 'request_decided'"
        )
    bad = await _cli(
        "audit", "verify", "--data-dir", data, "--head", f"{head['seq']}:{head['hash']}"
    )
    assert bad.returncode == 1
    assert bad.stdout.startswith("first bad record: ")
