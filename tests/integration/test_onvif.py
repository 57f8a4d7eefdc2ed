"""ONVIF look-up: against the ipycam simulator (only inside scripts/test's loopback namespace),
against loopback servers that misbehave, and the URI helpers."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from onvif.exceptions import ONVIFAuthError
from zeep.exceptions import Fault, TransportError

from custom_components.rtcc_share.discovery import onvif as onvif_mod
from custom_components.rtcc_share.discovery.onvif import (
    OnvifAuthError,
    OnvifConnectionError,
    OnvifError,
    OnvifProfile,
    choose_main_profile,
    lookup,
    redact_uri,
    with_credentials,
)

from ..peers.onvif_sim import OnvifSim
from .conftest import SIM_PASSWORD, SIM_USER

WRONG_PASSWORD = "Wrong-Secret-9876"


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count ONVIFCamera.close() calls: every look-up must close its client."""
    calls: list[int] = []
    original = onvif_mod.ONVIFCamera.close

    async def close(self: Any) -> None:
        calls.append(1)
        await original(self)

    monkeypatch.setattr(onvif_mod.ONVIFCamera, "close", close)
    return calls


# --- against ipycam -------------------------------------------------------------------------------


async def test_lookup_returns_device_profiles_and_stream(
    socket_enabled: None, sim: OnvifSim, closes: list[int]
) -> None:
    camera = await lookup("127.0.0.1", sim.onvif_port, SIM_USER, SIM_PASSWORD, timeout=15)
    assert (camera.host, camera.port) == ("127.0.0.1", sim.onvif_port)
    assert camera.manufacturer == "PythonCam"
    assert camera.model == "VirtualCam-1"
    assert camera.serial_number == "SIM-0001"
    assert camera.firmware_version  # ipycam reports its own version
    assert [p.token for p in camera.profiles] == ["Profile_Main", "Profile_Sub"]
    assert all(p.is_h264 for p in camera.profiles)
    assert camera.main_profile == OnvifProfile(
        token="Profile_Main",
        name="MainStream",
        encoding="H264",
        width=320,
        height=240,
        frame_rate=5,
    )
    assert camera.stream_uri == f"rtsp://127.0.0.1:{sim.rtsp_port}/video_main"
    assert closes == [1]


@pytest.mark.media
async def test_stream_uri_plays_h264(socket_enabled: None, sim: OnvifSim) -> None:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is missing; run scripts/setup")
    camera = await lookup("127.0.0.1", sim.onvif_port, SIM_USER, SIM_PASSWORD, timeout=15)
    # ipycam's RTSP server takes no credentials; they must not get in the way either.
    uri = with_credentials(camera.stream_uri, SIM_USER, SIM_PASSWORD)
    proc = await asyncio.create_subprocess_exec(
        *["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-rw_timeout", "10000000"],
        *["-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert out.decode().split() == ["h264,320,240"], err.decode()


async def test_wrong_password_is_an_auth_error(
    socket_enabled: None, sim: OnvifSim, closes: list[int]
) -> None:
    with pytest.raises(OnvifAuthError) as caught:
        await lookup("127.0.0.1", sim.onvif_port, SIM_USER, WRONG_PASSWORD, timeout=15)
    message = str(caught.value)
    assert "rejected the username or password" in message
    assert "not authorized" in message.lower()
    assert f"127.0.0.1:{sim.onvif_port}" in message
    assert WRONG_PASSWORD not in message
    assert SIM_PASSWORD not in message
    assert closes == [1]


async def test_missing_credentials_are_an_auth_error(socket_enabled: None, sim: OnvifSim) -> None:
    with pytest.raises(OnvifAuthError):
        await lookup("127.0.0.1", sim.onvif_port, None, None, timeout=15)


# --- against loopback servers that are not (working) cameras ------------------------------------


async def test_closed_port_is_a_connection_error_quickly(
    closed_port: int, closes: list[int]
) -> None:
    with pytest.raises(OnvifConnectionError) as caught:
        await lookup("127.0.0.1", closed_port, SIM_USER, WRONG_PASSWORD, timeout=15)
    message = str(caught.value)
    assert "did not answer" not in message, "a refused connection is not waited out"
    assert f"127.0.0.1:{closed_port}" in message
    assert WRONG_PASSWORD not in message
    assert closes == [1]


@pytest.fixture
async def silent_server(socket_enabled: None) -> AsyncIterator[int]:
    """A TCP server that accepts and then never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_silent_device_times_out_as_connection_error(
    silent_server: int, closes: list[int]
) -> None:
    with pytest.raises(OnvifConnectionError, match=r"did not answer within 0\.5 s"):
        await lookup("127.0.0.1", silent_server, SIM_USER, SIM_PASSWORD, timeout=0.5)
    assert closes == [1]


@pytest.fixture
async def http_server(socket_enabled: None) -> AsyncIterator[int]:
    """A web server that is not an ONVIF device (404 everywhere but /teapot)."""
    app = web.Application()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_not_an_onvif_device_is_an_onvif_error(http_server: int, closes: list[int]) -> None:
    with pytest.raises(OnvifError) as caught:
        await lookup("127.0.0.1", http_server, SIM_USER, SIM_PASSWORD, timeout=10)
    assert type(caught.value) is OnvifError
    assert f"127.0.0.1:{http_server}" in str(caught.value)
    assert SIM_PASSWORD not in str(caught.value)
    assert closes == [1]


# --- devices that answer but cannot be shared (a stand-in device object, no network) -------------


class FakeService:
    def __init__(self, profiles: list[Any], uri: str) -> None:
        self.profiles, self.uri = profiles, uri

    async def GetDeviceInformation(self) -> Any:  # noqa: N802 - ONVIF operation names
        return SimpleNamespace(Manufacturer="Acme", Model="M", SerialNumber=None)

    async def GetProfiles(self) -> list[Any]:  # noqa: N802
        return self.profiles

    def create_type(self, _name: str) -> Any:
        return SimpleNamespace()

    async def GetStreamUri(self, _request: Any) -> Any:  # noqa: N802
        return SimpleNamespace(Uri=self.uri)


def fake_device_class(profiles: list[Any], uri: str, closed: list[int]) -> type:
    class FakeDevice:
        def __init__(self, *_args: Any, **_kwargs: Any) -> None:
            self.service = FakeService(profiles, uri)

        async def update_xaddrs(self) -> None:
            return None

        async def create_devicemgmt_service(self) -> FakeService:
            return self.service

        async def create_media_service(self) -> FakeService:
            return self.service

        async def close(self) -> None:
            closed.append(1)

    return FakeDevice


def raw_profile(token: str, encoding: str) -> Any:
    encoder = SimpleNamespace(
        Encoding=encoding,
        Resolution=SimpleNamespace(Width="1280", Height=720),
        RateControl=SimpleNamespace(FrameRateLimit="abc"),
    )
    return SimpleNamespace(token=token, Name=None, VideoEncoderConfiguration=encoder)


@pytest.mark.parametrize(
    ("profiles", "uri", "text"),
    [
        ([raw_profile("p1", "JPEG")], "rtsp://h/x", "offers no H.264 media profile"),
        ([raw_profile("p1", "H264")], "http://h/snapshot.jpg", "gave no RTSP stream URI"),
        ([raw_profile("p1", "H264")], "", "gave no RTSP stream URI"),
    ],
)
async def test_unshareable_device_is_an_onvif_error(
    monkeypatch: pytest.MonkeyPatch, profiles: list[Any], uri: str, text: str
) -> None:
    closed: list[int] = []
    monkeypatch.setattr(onvif_mod, "ONVIFCamera", fake_device_class(profiles, uri, closed))
    with pytest.raises(OnvifError, match=text) as caught:
        await lookup("h", 80, SIM_USER, SIM_PASSWORD)
    assert type(caught.value) is OnvifError
    assert closed == [1]


async def test_loose_values_from_a_device_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[int] = []
    fake = fake_device_class([raw_profile("p1", "H264")], "rtsp://h/x", closed)
    monkeypatch.setattr(onvif_mod, "ONVIFCamera", fake)
    camera = await lookup("h", 80, None, None)
    assert (camera.serial_number, camera.firmware_version, camera.hardware_id) == ("", "", "")
    assert camera.main_profile == OnvifProfile("p1", "", "H264", 1280, 720, None)
    assert closed == [1]


# --- error translation and helpers (no network) ---------------------------------------------------


def test_auth_fault_message_is_scrubbed() -> None:
    fault = Fault(f"Sender not authorized for {SIM_PASSWORD}", code="env:Sender")
    err = onvif_mod._translate(fault, "h:1", SIM_PASSWORD, 5)
    assert isinstance(err, OnvifAuthError)
    assert SIM_PASSWORD not in str(err)
    assert "***" in str(err)


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (ONVIFAuthError("token refused"), OnvifAuthError, "token refused"),
        (
            Fault("Sender not authorized", code="s:Sender"),
            OnvifAuthError,
            "(Sender not authorized)",
        ),
        (TransportError(status_code=401), OnvifAuthError, "HTTP 401"),
        (TransportError(status_code=403), OnvifAuthError, "HTTP 403"),
        (TransportError(status_code=404), OnvifError, "No ONVIF device service"),
        (Fault("Action not supported"), OnvifError, "returned an ONVIF error"),
        (ConnectionRefusedError(111, "Connection refused"), OnvifConnectionError, "connect"),
        (TimeoutError(), OnvifConnectionError, "did not answer within 5 s"),
        (KeyError("Uri"), OnvifError, "Unexpected answer"),
    ],
)
def test_errors_are_translated(error: Exception, kind: type[OnvifError], text: str) -> None:
    err = onvif_mod._translate(error, "h:1", SIM_PASSWORD, 5)
    assert type(err) is kind
    assert text in str(err)


def profile(
    token: str, encoding: str | None, width: int | None, height: int | None
) -> OnvifProfile:
    return OnvifProfile(token, token, encoding, width, height, None)


def test_choose_main_profile() -> None:
    sub = profile("sub", "H264", 640, 360)
    main = profile("main", "H264", 1920, 1080)
    same_size = profile("later", "H264", 1920, 1080)
    h265 = profile("h265", "H265", 3840, 2160)
    jpeg = profile("jpeg", "JPEG", 4000, 3000)
    assert choose_main_profile([sub, h265, main, same_size, jpeg]) == main
    assert choose_main_profile([h265, jpeg]) is None
    assert choose_main_profile([profile("", "H264", 1, 1)]) is None
    assert choose_main_profile([profile("nores", "h264", None, None)]).token == "nores"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("uri", "user", "password", "expected"),
    [
        ("rtsp://10.0.0.5:554/main", "admin", "s3cret", "rtsp://admin:s3cret@10.0.0.5:554/main"),
        (
            "rtsp://10.0.0.5/Streaming/Channels/101?transportmode=unicast",
            "ad min",
            "p@ss:w/rd#?%",
            (
                "rtsp://ad%20min:p%40ss%3Aw%2Frd%23%3F%25@10.0.0.5/Streaming/Channels/101"
                "?transportmode=unicast"
            ),
        ),
        ("rtsp://old:creds@10.0.0.5/x", "new", "pw", "rtsp://new:pw@10.0.0.5/x"),
        ("rtsp://old:creds@10.0.0.5/x", None, None, "rtsp://10.0.0.5/x"),
        ("rtsp://10.0.0.5/x", "viewer", "", "rtsp://viewer@10.0.0.5/x"),
        ("rtsp://[fe80::1]:8554/x", "a", "b", "rtsp://a:b@[fe80::1]:8554/x"),
    ],
)
def test_with_credentials(uri: str, user: str | None, password: str | None, expected: str) -> None:
    assert with_credentials(uri, user, password) == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/main", "rtsp://admin:***@10.0.0.5:554/main"),
        ("rtsp://admin@10.0.0.5/main", "rtsp://admin@10.0.0.5/main"),
        ("rtsp://10.0.0.5/main", "rtsp://10.0.0.5/main"),
        (
            "rtsp://a:p%40ss@10.0.0.5/cam?user=admin&password=s3cret&channel=1",
            "rtsp://a:***@10.0.0.5/cam?user=***&password=***&channel=1",
        ),
        ("rtsp://10.0.0.5/cam?channel=1&subtype=0", "rtsp://10.0.0.5/cam?channel=1&subtype=0"),
    ],
)
def test_redact_uri(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


def test_credentials_round_trip_through_redaction() -> None:
    uri = with_credentials("rtsp://10.0.0.5/main", SIM_USER, SIM_PASSWORD)
    redacted = redact_uri(uri)
    assert "Sim-Pass" not in redacted
    assert redacted == "rtsp://admin:***@10.0.0.5/main"
