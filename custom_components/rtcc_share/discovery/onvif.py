"""Look up an ONVIF camera: device information, media profiles and its H.264 RTSP stream URI.

Uses onvif-zeep-async (the library Home Assistant's own onvif integration uses), whose zeep
transport is aiohttp-based, so nothing here blocks the event loop. Every failure surfaces as one
of three typed errors whose messages name the problem and never contain the password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import aiohttp
from onvif import ONVIFCamera  # type: ignore[import-untyped]  # ships no py.typed
from onvif.exceptions import (  # type: ignore[import-untyped]  # ships no py.typed
    ONVIFAuthError,
    ONVIFError,
    ONVIFTimeoutError,
)
from onvif.util import (  # type: ignore[import-untyped]  # ships no py.typed
    is_auth_error,
    stringify_onvif_error,
)
from zeep.exceptions import Fault, TransportError

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 20.0
REDACTED: Final = "***"
_HTTP_UNAUTHORIZED: Final = 401
_HTTP_FORBIDDEN: Final = 403
# Query parameters some cameras use to carry credentials in stream URIs.
_SECRET_QUERY_KEYS: Final = frozenset({"password", "pass", "passwd", "pwd", "user", "username"})


class OnvifError(Exception):
    """The device could not be looked up (not ONVIF, unsupported, or an unexpected answer)."""


class OnvifAuthError(OnvifError):
    """The device rejected the username or password."""


class OnvifConnectionError(OnvifError):
    """The device could not be reached, or did not answer in time."""


@dataclass(frozen=True, slots=True)
class OnvifProfile:
    """One media profile of the device."""

    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    frame_rate: int | None

    @property
    def is_h264(self) -> bool:
        """Whether the profile's video encoder is H.264 (what the gateway can restream)."""
        return (self.encoding or "").upper() == "H264"


@dataclass(frozen=True, slots=True)
class OnvifCamera:
    """What a look-up found. `stream_uri` is as the camera gave it (see `with_credentials`)."""

    host: str
    port: int
    manufacturer: str
    model: str
    serial_number: str
    firmware_version: str
    hardware_id: str
    profiles: tuple[OnvifProfile, ...]
    main_profile: OnvifProfile
    stream_uri: str


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _profile(raw: Any) -> OnvifProfile:
    encoder = getattr(raw, "VideoEncoderConfiguration", None)
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    return OnvifProfile(
        token=_str(getattr(raw, "token", None)),
        name=_str(getattr(raw, "Name", None)),
        encoding=_str(getattr(encoder, "Encoding", None)) or None,
        width=_int(getattr(resolution, "Width", None)),
        height=_int(getattr(resolution, "Height", None)),
        frame_rate=_int(getattr(rate, "FrameRateLimit", None)),
    )


def choose_main_profile(profiles: Iterable[OnvifProfile]) -> OnvifProfile | None:
    """The H.264 profile with the most pixels; the device's own order breaks ties."""
    best: OnvifProfile | None = None
    for profile in profiles:
        if not profile.is_h264 or not profile.token:
            continue
        pixels = (profile.width or 0) * (profile.height or 0)
        if best is None or pixels > (best.width or 0) * (best.height or 0):
            best = profile
    return best


def _scrub(text: str, password: str | None) -> str:
    """Remove the password from text that came from the device or a library (belt and braces)."""
    if password:
        for form in {password, quote(password, safe="")}:
            text = text.replace(form, REDACTED)
    return text


async def _fetch(device: Any, host: str, port: int) -> OnvifCamera:
    await device.update_xaddrs()
    devicemgmt = await device.create_devicemgmt_service()
    info = await devicemgmt.GetDeviceInformation()
    media = await device.create_media_service()
    raw_profiles = await media.GetProfiles() or []
    profiles = tuple(_profile(p) for p in raw_profiles)
    main = choose_main_profile(profiles)
    if main is None:
        raise OnvifError(f"The camera at {host}:{port} offers no H.264 media profile")
    request = media.create_type("GetStreamUri")
    request.ProfileToken = main.token
    request.StreamSetup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
    result = await media.GetStreamUri(request)
    uri = _str(getattr(result, "Uri", None))
    if urlsplit(uri).scheme.lower() not in {"rtsp", "rtsps"}:
        raise OnvifError(
            f"The camera at {host}:{port} gave no RTSP stream URI for profile {main.token!r}"
        )
    return OnvifCamera(
        host=host,
        port=port,
        manufacturer=_str(getattr(info, "Manufacturer", None)),
        model=_str(getattr(info, "Model", None)),
        serial_number=_str(getattr(info, "SerialNumber", None)),
        firmware_version=_str(getattr(info, "FirmwareVersion", None)),
        hardware_id=_str(getattr(info, "HardwareId", None)),
        profiles=profiles,
        main_profile=main,
        stream_uri=uri,
    )


def _auth_error(err: Exception, where: str, password: str | None) -> OnvifAuthError | None:
    # ONVIF devices say "Sender not authorized" / ter:NotAuthorized in a SOAP fault; others
    # answer HTTP 401/403 with no SOAP body at all.
    if isinstance(err, ONVIFAuthError) or (isinstance(err, Fault) and is_auth_error(err)):
        # The fault's own words ("Sender not authorized") read well in a form; codes do not.
        text = err.message if isinstance(err, Fault) and err.message else str(err)
        detail = _scrub(text, password)
        return OnvifAuthError(f"The camera at {where} rejected the username or password ({detail})")
    if isinstance(err, TransportError) and err.status_code in {
        _HTTP_UNAUTHORIZED,
        _HTTP_FORBIDDEN,
    }:
        return OnvifAuthError(
            f"The camera at {where} rejected the username or password (HTTP {err.status_code})"
        )
    return None


def _translate(err: Exception, where: str, password: str | None, timeout: float) -> OnvifError:
    """Map whatever the ONVIF stack raised to one of our typed errors."""
    if (auth := _auth_error(err, where, password)) is not None:
        return auth
    if isinstance(err, TimeoutError | ONVIFTimeoutError):
        return OnvifConnectionError(f"The camera at {where} did not answer within {timeout:g} s")
    if isinstance(err, aiohttp.ClientConnectionError | OSError):
        detail = _scrub(str(err) or type(err).__name__, password)
        return OnvifConnectionError(f"Could not connect to the camera at {where}: {detail}")
    if isinstance(err, TransportError):
        return OnvifError(f"No ONVIF device service at {where} (HTTP {err.status_code})")
    if isinstance(err, Fault | ONVIFError):
        detail = _scrub(stringify_onvif_error(err), password)
        return OnvifError(f"The camera at {where} returned an ONVIF error: {detail}")
    detail = _scrub(str(err) or type(err).__name__, password)
    return OnvifError(f"Unexpected answer from the camera at {where}: {detail}")


async def lookup(
    host: str,
    port: int,
    username: str | None,
    password: str | None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> OnvifCamera:
    """Query an ONVIF device for its identity, profiles and main H.264 RTSP stream URI.

    `timeout` bounds the whole look-up (the library's own defaults run to 90 s). Raises
    OnvifAuthError, OnvifConnectionError or OnvifError; the client is always closed.
    """
    where = f"{host}:{port}"
    # no_cache: zeep's SQLite WSDL cache writes a file in the user's cache dir; the WSDLs are
    # bundled with the library, so it buys nothing (Home Assistant's onvif does the same).
    # Empty strings, not None, for "no credentials": the library always builds a WS-Security
    # header and lxml cannot put None in it; devices without auth ignore the header.
    device = ONVIFCamera(host, port, username or "", password or "", no_cache=True)
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(device, host, port)
    except OnvifError:
        raise
    except Exception as err:  # untrusted devices make zeep and aiohttp raise almost anything
        translated = _translate(err, where, password, timeout)
        _LOGGER.debug("ONVIF look-up of %s failed: %s", where, translated)
        raise translated from err
    finally:
        # A failing close must not hide the look-up's own result or error.
        with contextlib.suppress(Exception):
            await device.close()


def with_credentials(uri: str, username: str | None, password: str | None) -> str:
    """Put percent-encoded credentials into an RTSP URI (for the gateway's camera registry).

    Any userinfo already in the URI is replaced; with no username the URI comes back without any.
    """
    parts = urlsplit(uri)
    hostport = parts.netloc.rpartition("@")[2]
    userinfo = ""
    if username:
        userinfo = quote(username, safe="")
        if password:
            userinfo += ":" + quote(password, safe="")
        userinfo += "@"
    return urlunsplit(parts._replace(netloc=userinfo + hostport))


def redact_uri(uri: str) -> str:
    """The URI with its password (userinfo or credential query parameters) replaced by ***."""
    parts = urlsplit(uri)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = parts.netloc
    if at:
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}{colon and ':' + REDACTED}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
            query = urlencode(
                [(k, REDACTED if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs],
                safe="*",
            )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
