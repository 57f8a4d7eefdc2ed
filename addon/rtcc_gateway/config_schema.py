"""The configuration's schema: the rules only a configuration has, and the voluptuous schemas.

The rules every input shares (ids, numbers, text, times) and the error messages are validators.py's.

The same policy and camera schemas validate what the integration pushes over the owner API, so a
file and a push can never disagree about what is valid.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Final, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from rtcc_gateway.config_types import (
    DAYS,
    PrivacyWindow,
)
from rtcc_gateway.limits import (
    APPROVAL_TIMEOUT_DEFAULT_S,
    APPROVAL_TIMEOUT_MAX_S,
    APPROVAL_TIMEOUT_MIN_S,
    CAMERA_DEFAULT_MAX_S,
    CAMERA_LABEL_MAX_CHARS,
    MAX_LEASE_S,
    SHARE_MAX_S,
    SHARE_MIN_S,
)
from rtcc_gateway.validators import (
    OFFSET_RULE,
    boolean,
    identifier,
    instant,
    integer,
    number,
    text,
    time_of_day,
)

MIN_TOKEN_LENGTH: Final = 16
MAX_PORT: Final = 65535
PLACEHOLDER_TOKENS: Final = frozenset({"change-me", "changeme", "secret", "token"})


# --- validators --------------------------------------------------------------------------------


def _url(schemes: tuple[str, ...]) -> vol.Schema:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise vol.Invalid("expected a URL string")
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise vol.Invalid(f"expected a {' or '.join(s + '://' for s in schemes)} URL")
        return value

    return vol.Schema(check)


def _base_url(value: Any) -> str:
    url = cast("str", _url(("http", "https"))(value))
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise vol.Invalid("must not have a query or fragment")
    return url.rstrip("/")


def _rtsp_base_url(value: Any) -> str:
    url = cast("str", _url(("rtsp", "rtsps"))(value))
    if urlsplit(url).username is not None:
        raise vol.Invalid("must not carry credentials")
    return url.rstrip("/")


def _host(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise vol.Invalid("expected a host name or IP address")
    return value


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PORT:
        raise vol.Invalid("expected a port number from 0 to 65535 (0 picks a free port)")
    return value


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise vol.Invalid("expected a bearer token string")
    if value.strip().lower() in PLACEHOLDER_TOKENS:
        raise vol.Invalid("is a placeholder; set a random token (e.g. `openssl rand -hex 32`)")
    if len(value) < MIN_TOKEN_LENGTH:
        raise vol.Invalid(f"must be at least {MIN_TOKEN_LENGTH} characters")
    return value


def _public_key(value: Any) -> bytes:
    if not isinstance(value, str):
        raise vol.Invalid("expected the base64 of a raw 32-byte Ed25519 public key")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise vol.Invalid("is not valid base64") from None
    if len(raw) != 32:  # noqa: PLR2004 - Ed25519 public keys are 32 bytes
        raise vol.Invalid(f"decodes to {len(raw)} bytes; an Ed25519 public key has 32")
    return raw


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise vol.Invalid("expected an IANA timezone name such as America/Chicago")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(f"unknown timezone {value!r}") from None
    return value


def _aware_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise vol.Invalid(OFFSET_RULE)
        return value
    if not isinstance(value, str):
        raise vol.Invalid("expected an ISO 8601 time or null")
    instant(value)  # the checks; the owner's own offset is kept for display
    return datetime.fromisoformat(value)


def _days(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise vol.Invalid(f"expected a non-empty list of {', '.join(DAYS)}")
    bad = [d for d in value if d not in DAYS]
    if bad:
        raise vol.Invalid(f"unknown day {bad[0]!r}; use {', '.join(DAYS)}")
    if len(set(value)) != len(value):
        raise vol.Invalid("lists a day twice")
    return tuple(sorted(value, key=DAYS.index))


def _window(value: Any) -> PrivacyWindow:
    data = _WINDOW_SCHEMA(value)
    if data["start"] == data["end"]:
        raise vol.Invalid("start and end are equal; a window must have a length", path=["end"])
    return PrivacyWindow(days=data["days"], start=data["start"], end=data["end"])


def _camera_source(value: Any) -> str:
    return cast("str", _url(("rtsp", "rtsps"))(value))


def _unique_ids(kind: str) -> Any:
    def check(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item["id"] in seen:
                raise vol.Invalid(f"duplicate {kind} id {item['id']!r}", path=[index, "id"])
            seen.add(item["id"])
        return items

    return check


_WINDOW_SCHEMA = vol.Schema(
    {
        vol.Required("days"): _days,
        vol.Required("start"): time_of_day,
        vol.Required("end"): time_of_day,
    }
)

LOCATION_SCHEMA = vol.Schema(
    {vol.Required("lat"): number(-90, 90), vol.Required("lon"): number(-180, 180)}
)

POLICY_SCHEMA = vol.Schema(
    {
        vol.Required("timezone"): _timezone,
        vol.Optional("paused", default=False): boolean,
        vol.Optional("paused_until", default=None): _aware_datetime,
        vol.Optional("privacy_windows", default=list): vol.All(list, [_window]),
        vol.Optional("approval_timeout_s", default=APPROVAL_TIMEOUT_DEFAULT_S): integer(
            APPROVAL_TIMEOUT_MIN_S, APPROVAL_TIMEOUT_MAX_S
        ),
        vol.Optional("owner_lease_s", default=900): integer(0, MAX_LEASE_S),
    }
)

CAMERA_SCHEMA = vol.Schema(
    {
        vol.Required("id"): identifier,
        vol.Required("label"): text(CAMERA_LABEL_MAX_CHARS),
        vol.Required("source"): _camera_source,
        vol.Required("location"): LOCATION_SCHEMA,
        vol.Optional("consent", default=False): boolean,
        vol.Optional("approval", default="ask"): vol.In(
            ["ask", "auto"], msg="expected 'ask' or 'auto'"
        ),
        vol.Optional("max_duration_s", default=CAMERA_DEFAULT_MAX_S): integer(
            SHARE_MIN_S, SHARE_MAX_S
        ),
        vol.Optional("share_audio", default=False): boolean,
    }
)

CAMERAS_SCHEMA = vol.All(vol.Schema([CAMERA_SCHEMA]), _unique_ids("camera"))

AGENCY_SCHEMA = vol.Schema(
    {
        vol.Required("id"): identifier,
        vol.Required("name"): text(200),
        vol.Required("public_key"): _public_key,
        vol.Optional("rate_limit_per_minute", default=30): integer(1, 100000),
    }
)

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("public"): {
            vol.Optional("host", default="0.0.0.0"): _host,  # noqa: S104 - the city's door
            vol.Optional("port", default=8443): _port,
            vol.Optional("rtsp_port", default=8554): _port,
            vol.Required("base_url"): _base_url,
            vol.Required("rtsp_base_url"): _rtsp_base_url,
            vol.Optional("tls", default=None): vol.Any(
                None, {vol.Required("cert"): str, vol.Required("key"): str}
            ),
            vol.Optional("insecure_http", default=False): boolean,
        },
        vol.Required("owner"): {
            vol.Optional("host", default="127.0.0.1"): _host,
            vol.Optional("port", default=8099): _port,
            vol.Required("token"): _token,
        },
        vol.Optional("data_dir", default="/data"): text(4096),
        vol.Optional("restreamer", default="auto"): vol.In(
            ["auto", "go2rtc", "direct"], msg="expected 'auto', 'go2rtc' or 'direct'"
        ),
        vol.Optional("go2rtc_bin", default=None): vol.Any(None, text(4096)),
        vol.Optional("agencies", default=list): vol.All(
            vol.Schema([AGENCY_SCHEMA]), _unique_ids("agency")
        ),
        vol.Required("policy"): POLICY_SCHEMA,
        vol.Optional("cameras", default=list): CAMERAS_SCHEMA,
    }
)
