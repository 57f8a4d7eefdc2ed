"""The go2rtc backend against the real go2rtc: hardened config, version and bind checks, streams,
supervision through crashes (SIGKILL) and hangs (SIGSTOP), cleanup.

The go2rtc API double appears only where the real binary cannot be made to misbehave: an old or
too new version, and garbage API answers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from rtcc_gateway.redact import Secrets
from rtcc_gateway.restreamer.base import StreamSpec
from rtcc_gateway.restreamer.go2rtc import (
    ALLOW_PATHS,
    Go2rtcError,
    Go2rtcRestreamer,
    find_go2rtc,
    parse_version,
    probe_version,
)

from ..peers.go2rtc import DOUBLE, free_port, go2rtc_binary

SOURCE = "rtsp://cam:campass@127.0.0.1:9/stream1"  # never connected to: no viewer asks


def spec(token: str, source: str = SOURCE, *, share_audio: bool = False) -> StreamSpec:
    return StreamSpec(token=token, source=source, share_audio=share_audio)


@pytest.fixture
async def backend(socket_enabled: None) -> AsyncIterator[Go2rtcRestreamer]:
    restreamer = Go2rtcRestreamer(go2rtc_binary(), start_timeout=8, backoff=(0.1,))
    await restreamer.start()
    try:
        yield restreamer
    finally:
        await restreamer.stop()


async def api(
    backend: Go2rtcRestreamer, method: str, path: str, *, auth: bool = True, **params: str
) -> tuple[int, str]:
    headers = {"Authorization": backend.http_authorization()} if auth else {}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, backend.http_base() + path, params=params) as resp,
    ):
        return resp.status, await resp.text()


async def restarted(backend: Go2rtcRestreamer, sig: int = signal.SIGKILL) -> None:
    """Send the child `sig` and wait for the supervisor's on_restart."""
    done = asyncio.Event()

    async def hook() -> None:
        done.set()

    backend.on_restart = hook
    assert backend.pid is not None
    os.kill(backend.pid, sig)
    async with asyncio.timeout(60):
        await done.wait()


def alive(pid: int) -> bool:
    """Whether a process still exists (and is not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def test_config_file_is_hardened(backend: Go2rtcRestreamer) -> None:
    config = yaml.safe_load(backend.config_path.read_text())
    header = backend.http_authorization()
    assert header.startswith("Basic ")
    login, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    host, port = backend.rtsp_address()
    assert config == {
        "api": {
            "listen": backend.http_base().removeprefix("http://"),
            "username": login,
            "password": password,
            "local_auth": True,
            "allow_paths": list(ALLOW_PATHS),
        },
        "rtsp": {"listen": f"{host}:{port}"},
        "exec": {"allow_paths": ["ffmpeg"]},
        "webrtc": {"listen": ""},
        "srtp": {"listen": ""},
    }
    assert host == "127.0.0.1"
    assert backend.http_base().startswith("http://127.0.0.1:")
    assert len(password) >= 32
    assert backend.runtime_dir is not None
    assert stat.S_IMODE(backend.runtime_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(backend.config_path.stat().st_mode) == 0o600


async def test_start_probes_the_version(backend: Go2rtcRestreamer) -> None:
    assert backend.version == await probe_version(go2rtc_binary())
    assert tuple(int(x) for x in backend.version.split(".")) >= (1, 9, 13)
    assert parse_version("go2rtc version 1.9.14 (abc1234) linux/amd64") == (1, 9, 14)


async def test_api_needs_the_credentials_even_on_loopback(backend: Go2rtcRestreamer) -> None:
    status, _ = await api(backend, "GET", "/api", auth=False)
    assert status == 401
    status, body = await api(backend, "GET", "/api")
    assert status == 200
    assert '"version"' in body


async def test_allow_paths_hide_config_and_restart(backend: Go2rtcRestreamer) -> None:
    assert (await api(backend, "GET", "/api/config"))[0] == 404
    assert (await api(backend, "POST", "/api/restart"))[0] == 404
    assert (await api(backend, "GET", "/api/streams"))[0] == 200


async def test_add_list_remove(backend: Go2rtcRestreamer) -> None:
    await backend.add(spec("tok-a"))
    await backend.add(spec("tok-b"))
    assert await backend.list_streams() == {"tok-a": [SOURCE], "tok-b": [SOURCE]}
    upstream = backend.rtsp_upstream("tok-a")
    assert upstream is not None
    assert (upstream.host, upstream.port) == backend.rtsp_address()
    assert upstream.base.endswith("/tok-a")
    await backend.remove("tok-a")
    await backend.remove("tok-a")  # idempotent
    assert await backend.list_streams() == {"tok-b": [SOURCE]}
    assert backend.rtsp_upstream("tok-a") is None


async def test_a_share_with_audio_gets_the_aac_transcoder_and_no_other(
    backend: Go2rtcRestreamer,
) -> None:
    await backend.add(spec("tok-quiet"))
    await backend.add(spec("tok-heard", share_audio=True))
    assert await backend.list_streams() == {
        "tok-quiet": [SOURCE],
        "tok-heard": [SOURCE, "ffmpeg:tok-heard#audio=aac"],  # by name: no password for ffmpeg
    }
    streams = yaml.safe_load(backend.config_path.read_text())["streams"]
    assert streams["tok-heard"] == [SOURCE, "ffmpeg:tok-heard#audio=aac"]


async def test_reconcile_removes_streams_nobody_asked_for(backend: Go2rtcRestreamer) -> None:
    await backend.add(spec("tok-live"))
    status, _ = await api(backend, "PUT", "/api/streams", name="intruder", src=SOURCE)
    assert status == 200
    assert "intruder" in backend.config_path.read_text()  # go2rtc wrote it into its file
    await backend.reconcile({"tok-live"})
    assert set(await backend.list_streams()) == {"tok-live"}


async def test_restart_rewrites_the_config_and_readds_only_live_streams(
    backend: Go2rtcRestreamer,
) -> None:
    await backend.add(spec("tok-live", share_audio=True))
    await backend.add(spec("tok-gone"))
    await backend.remove("tok-gone")
    assert (await api(backend, "PUT", "/api/streams", name="intruder", src=SOURCE))[0] == 200
    old_pid, old_auth = backend.pid, backend.http_authorization()

    await restarted(backend)

    assert backend.pid not in (None, old_pid)
    assert backend.http_authorization() != old_auth
    assert await backend.list_streams() == {"tok-live": [SOURCE, "ffmpeg:tok-live#audio=aac"]}
    streams = yaml.safe_load(backend.config_path.read_text()).get("streams") or {}
    assert set(streams) <= {"tok-live"}  # the intruder did not survive the rewrite
    assert backend.restarts == 1


async def test_a_hung_go2rtc_is_killed_and_replaced(socket_enabled: None) -> None:
    # Probes every 0.2 s, each given 2 s: a SIGSTOPped child misses them; a busy one would not.
    backend = Go2rtcRestreamer(go2rtc_binary(), backoff=(0.1,), health=(0.2, 2.0, 2))
    await backend.start()
    try:
        await backend.add(spec("tok-live"))
        hung = backend.pid
        assert hung is not None
        await restarted(backend, signal.SIGSTOP)
        assert backend.pid not in (None, hung)
        assert not alive(hung), "the hung child was killed, not left behind"
        assert await backend.list_streams() == {"tok-live": [SOURCE]}
    finally:
        await backend.stop()


async def test_stop_leaves_no_child_and_no_folder(socket_enabled: None) -> None:
    backend = Go2rtcRestreamer(go2rtc_binary(), start_timeout=8)
    await backend.start()
    pid, folder = backend.pid, backend.runtime_dir
    assert pid is not None
    assert folder is not None
    assert folder.is_dir()
    await backend.stop()
    assert not alive(pid)
    assert not folder.exists()
    assert backend.pid is None


async def test_refuses_an_old_go2rtc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GO2RTC_DOUBLE_VERSION", "1.9.4")
    with pytest.raises(Go2rtcError, match=r"go2rtc 1\.9\.4 is too old"):
        await probe_version(DOUBLE)
    backend = Go2rtcRestreamer(DOUBLE)
    with pytest.raises(Go2rtcError, match=r"1\.9\.4"):
        await backend.start()
    assert backend.pid is None
    assert backend.runtime_dir is None


async def test_refuses_go2rtc_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GO2RTC_DOUBLE_VERSION", "2.0.0")
    with pytest.raises(Go2rtcError, match=r"2\.0\.0 is not supported"):
        await probe_version(DOUBLE)


async def test_missing_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GO2RTC_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_go2rtc(None) is None
    with pytest.raises(Go2rtcError, match="cannot run"):
        await probe_version(tmp_path / "go2rtc")
    with pytest.raises(Go2rtcError, match="cannot run"):
        await Go2rtcRestreamer(tmp_path / "go2rtc").start()


def test_find_go2rtc_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = tmp_path / "go2rtc"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GO2RTC_BIN", raising=False)
    assert find_go2rtc(None) == on_path
    monkeypatch.setenv("GO2RTC_BIN", "/opt/env/go2rtc")
    assert find_go2rtc(None) == Path("/opt/env/go2rtc")
    assert find_go2rtc(Path("/opt/cfg/go2rtc")) == Path("/opt/cfg/go2rtc")


async def test_detects_a_go2rtc_that_did_not_bind_where_asked(
    tmp_path: Path, socket_enabled: None
) -> None:
    # A real go2rtc that ignores the config it was given and listens elsewhere (as it falls back
    # to its defaults on a config it cannot read): the configured port never answers.
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(
        yaml.safe_dump(
            {
                "api": {"listen": f"127.0.0.1:{free_port()}"},
                "rtsp": {"listen": f"127.0.0.1:{free_port()}"},
                "webrtc": {"listen": ""},
                "srtp": {"listen": ""},
            }
        )
    )
    real = go2rtc_binary()
    wrapper = tmp_path / "go2rtc"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = -version ] && exec "{real}" -version\n'
        f'exec "{real}" -config "{elsewhere}"\n'
    )
    wrapper.chmod(0o755)
    backend = Go2rtcRestreamer(wrapper, start_timeout=1.5)
    with pytest.raises(Go2rtcError, match="did not bind where configured"):
        await backend.start()
    assert backend.pid is None
    assert backend.runtime_dir is None


def test_queries_are_video_only_unless_audio_is_shared() -> None:
    assert Go2rtcRestreamer.mp4_query("tok", share_audio=False) == "src=tok&video=h264,h265"
    assert Go2rtcRestreamer.hls_query("tok", share_audio=False) == "src=tok&video=h264,h265"
    assert Go2rtcRestreamer.mp4_query("tok", share_audio=True) == "src=tok&mp4"
    assert Go2rtcRestreamer.hls_query("tok", share_audio=True) == "src=tok&mp4"


# --- garbage answers (the double) ----------------------------------------------------------------


def garbage(monkeypatch: pytest.MonkeyPatch, answers: dict[str, dict[str, Any]]) -> None:
    """The double answers these requests (`METHOD /path`) with these answers instead."""
    monkeypatch.setenv("GO2RTC_DOUBLE_ANSWERS", json.dumps(answers))


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "info",
    [
        {"body": "not json at all"},
        {"body": "{not json", "headers": JSON},
        {"body": '{"revision": "x"}', "headers": JSON},
        {"body": '{"version": "banana"}', "headers": JSON},
        {"body": '["1.9.14"]', "headers": JSON},
        {"status": 500, "body": "boom"},
    ],
)
async def test_garbage_app_info_is_a_clear_start_error(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None, info: dict[str, Any]
) -> None:
    garbage(monkeypatch, {"GET /api": info})
    backend = Go2rtcRestreamer(DOUBLE, start_timeout=1.5)
    with pytest.raises(Go2rtcError, match=r"^go2rtc"):
        await backend.start()
    assert backend.pid is None
    assert backend.runtime_dir is None


@pytest.mark.parametrize(
    "listing",
    [
        {"body": "{not json", "headers": JSON},
        {"body": '["tok"]', "headers": JSON},
        {"body": '{"tok": {"producers": "rtsp://x"}}', "headers": JSON},
        {"body": '{"tok": {}}', "headers": JSON},
        {"status": 500, "body": "boom"},
    ],
)
async def test_a_garbage_stream_listing_is_logged_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
    socket_enabled: None,
    caplog: pytest.LogCaptureFixture,
    listing: dict[str, Any],
) -> None:
    garbage(monkeypatch, {"GET /api/streams": listing})
    backend = Go2rtcRestreamer(DOUBLE, start_timeout=8)
    await backend.start()  # a fresh child holds only what the gateway PUTs
    try:
        with pytest.raises(Go2rtcError, match="cannot list streams"):
            await backend.list_streams()
        await backend.add(spec("tok-live"))
        await backend.reconcile({"tok-live"})
        assert "go2rtc: cannot list streams" in caplog.text
        assert "campass" not in caplog.text
    finally:
        await backend.stop()


async def test_a_refused_put_is_a_go2rtc_error_naming_the_status(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> None:
    garbage(monkeypatch, {"PUT /api/streams": {"status": 500, "body": "boom"}})
    backend = Go2rtcRestreamer(DOUBLE, start_timeout=8)
    await backend.start()
    try:
        with pytest.raises(Go2rtcError, match=r"^go2rtc refused a stream: HTTP 500$"):
            await backend.add(spec("tok"))
    finally:
        await backend.stop()


async def test_each_childs_api_credentials_are_registered_as_secrets(socket_enabled: None) -> None:
    register = Secrets()
    backend = Go2rtcRestreamer(go2rtc_binary(), start_timeout=8, backoff=(0.1,), secrets=register)
    await backend.start()
    try:
        first = backend.http_authorization().removeprefix("Basic ")
        login, password = base64.b64decode(first).decode().split(":", 1)
        assert {first, password} <= set(register.ordered())
        assert login not in register, "the login alone is no secret"
        await restarted(backend)
        again = backend.http_authorization().removeprefix("Basic ")
        assert again != first
        assert again in register, "a restarted child's new credentials too"
    finally:
        await backend.stop()
