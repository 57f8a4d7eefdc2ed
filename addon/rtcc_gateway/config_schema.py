"""The configuration's schema: validators, the voluptuous schemas and their error messages.

The same policy and camera schemas validate what the integration pushes over the owner API, so a
file and a push can never disagree about what is valid.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, time
from typing import Any, Final, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from rtcc_gateway.config_types import (
    DAYS,
    PrivacyWindow,
)
from rtcc_gateway.limits import (
    APPROVAL_TIMEOUT_MAX_S,
    APPROVAL_TIMEOUT_MIN_S,
    CAMERA_DEFAULT_MAX_S,
    CAMERA_LABEL_MAX_CHARS,
    MAX_LEASE_S,
    SHARE_MAX_S,
    SHARE_MIN_S,
)

ID_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # always fullmatch()
MIN_TOKEN_LENGTH: Final = 16
MAX_PORT: Final = 65535
# Controls and bidirectional overrides have no place in a label or a name (they reach the city's
# camera list, the owner's events and Home Assistant).
_CONTROL_CHARS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
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


def _int_range(low: int, high: int | None = None) -> vol.Schema:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise vol.Invalid("expected an integer")
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise vol.Invalid(f"expected an integer {bound}")
        return value

    return vol.Schema(check)


def _float_range(low: float, high: float) -> vol.Schema:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid("expected a number")
        if not low <= value <= high:
            raise vol.Invalid(f"expected a number from {low:g} to {high:g}")
        return float(value)

    return vol.Schema(check)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def _text(max_len: int) -> vol.Schema:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid("expected a non-empty string")
        if len(value) > max_len:
            raise vol.Invalid(f"must be at most {max_len} characters")
        if _CONTROL_CHARS.search(value):
            raise vol.Invalid("must not contain control or bidirectional-control characters")
        return value

    return vol.Schema(check)


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise vol.Invalid("expected 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit")
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


ISO_TIME_RULE: Final = "expected an ISO 8601 time such as 2026-11-26T20:00:00Z"


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 time with an offset, in UTC; vol.Invalid naming the rule otherwise.

    ASCII only, and within the years 1-9999 once in UTC (`0001-01-01T00:00:00+14:00` is not).
    """
    if not isinstance(value, str) or not value.isascii():
        raise vol.Invalid(ISO_TIME_RULE)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise vol.Invalid(ISO_TIME_RULE) from None
    if parsed.tzinfo is None:
        raise vol.Invalid("must include a timezone offset (e.g. Z or -06:00)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise vol.Invalid("must lie between the years 1 and 9999 in UTC") from None


def _aware_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise vol.Invalid("must include a timezone offset (e.g. Z or -06:00)")
        return value
    if not isinstance(value, str):
        raise vol.Invalid("expected an ISO 8601 time or null")
    parse_instant(value)  # the checks; the owner's own offset is kept for display
    return datetime.fromisoformat(value)


def _clock(value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", value):
        raise vol.Invalid("expected a time of day as HH:MM")
    hour, minute = int(value[:2]), int(value[3:])
    if hour > 23 or minute > 59:  # noqa: PLR2004
        raise vol.Invalid("expected a time of day from 00:00 to 23:59")
    return time(hour, minute)


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
    {vol.Required("days"): _days, vol.Required("start"): _clock, vol.Required("end"): _clock}
)

LOCATION_SCHEMA = vol.Schema(
    {vol.Required("lat"): _float_range(-90, 90), vol.Required("lon"): _float_range(-180, 180)}
)

POLICY_SCHEMA = vol.Schema(
    {
        vol.Required("timezone"): _timezone,
        vol.Optional("paused", default=False): _bool,
        vol.Optional("paused_until", default=None): _aware_datetime,
        vol.Optional("privacy_windows", default=list): vol.All(list, [_window]),
        vol.Optional("approval_timeout_s", default=600): _int_range(
            APPROVAL_TIMEOUT_MIN_S, APPROVAL_TIMEOUT_MAX_S
        ),
        vol.Optional("owner_lease_s", default=900): _int_range(0, MAX_LEASE_S),
    }
)

CAMERA_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _identifier,
        vol.Required("label"): _text(CAMERA_LABEL_MAX_CHARS),
        vol.Required("source"): _camera_source,
        vol.Required("location"): LOCATION_SCHEMA,
        vol.Optional("consent", default=False): _bool,
        vol.Optional("approval", default="ask"): vol.In(
            ["ask", "auto"], msg="expected 'ask' or 'auto'"
        ),
        vol.Optional("max_duration_s", default=CAMERA_DEFAULT_MAX_S): _int_range(
            SHARE_MIN_S, SHARE_MAX_S
        ),
        vol.Optional("share_audio", default=False): _bool,
    }
)

CAMERAS_SCHEMA = vol.All(vol.Schema([CAMERA_SCHEMA]), _unique_ids("camera"))

AGENCY_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _identifier,
        vol.Required("name"): _text(200),
        vol.Required("public_key"): _public_key,
        vol.Optional("rate_limit_per_minute", default=30): _int_range(1, 100000),
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
            vol.Optional("insecure_http", default=False): _bool,
        },
        vol.Required("owner"): {
            vol.Optional("host", default="127.0.0.1"): _host,
            vol.Optional("port", default=8099): _port,
            vol.Required("token"): _token,
        },
        vol.Optional("data_dir", default="/data"): _text(4096),
        vol.Optional("restreamer", default="auto"): vol.In(
            ["auto", "go2rtc", "direct"], msg="expected 'auto', 'go2rtc' or 'direct'"
        ),
        vol.Optional("go2rtc_bin", default=None): vol.Any(None, _text(4096)),
        vol.Optional("agencies", default=list): vol.All(
            vol.Schema([AGENCY_SCHEMA]), _unique_ids("agency")
        ),
        vol.Required("policy"): POLICY_SCHEMA,
        vol.Optional("cameras", default=list): CAMERAS_SCHEMA,
    }
)


# --- error formatting --------------------------------------------------------------------------


def format_path(path: list[Any]) -> str:
    """Render a voluptuous path as `cameras[0].source`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = str(part.schema if isinstance(part, vol.Marker) else part)
            out += f".{key}" if out else key
    return out or "(top level)"


def _message(error: vol.Invalid) -> str:
    msg = error.error_message
    # Voluptuous says "not a valid option" for an extra key inside a list item; every vol.In here
    # carries its own message, so both phrasings mean an unknown field.
    if msg in ("extra keys not allowed", "not a valid option"):
        return "unknown field"
    if msg == "required key not provided":
        return "required field is missing"
    if msg.startswith("expected dict"):
        return "expected a mapping"
    if msg.startswith("expected list"):
        return "expected a list"
    return msg


def problems_of(error: vol.Invalid) -> list[str]:
    """One `field.path: what is wrong` line per problem, in a stable order."""
    errors = error.errors if isinstance(error, vol.MultipleInvalid) else [error]
    lines = {f"{format_path(e.path)}: {_message(e)}" for e in errors}
    return sorted(lines)
