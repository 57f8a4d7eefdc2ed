"""Every input rule, in one place and one voice.

The configuration file, the owner's push and both APIs check ids, numbers, text and times with
these.
A refusal is `vol.Invalid` whose message is the rule ("expected an integer from 60 to 43200");
where it is shown it is prefixed with the field (`cameras[0].max_duration_s: ...`, or the
`name` beside the `reason` in an API's invalid_params). No message quotes the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any, Final

import voluptuous as vol

MAX_CAMERA_IDS: Final = 100
MAX_ID_CHARS: Final = 64
ID_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # always fullmatch()
INCIDENT_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # fullmatch(): `$` lets "\n" in
_ASCII_INT: Final = re.compile(r"[0-9]{1,18}")

# C0 and C1 controls, bidirectional embeddings/overrides/isolates, and lone surrogates: none has a
# place in an incident's text or a camera's label, and each can corrupt a log line or what the
# owner is shown.
FORBIDDEN_CHARS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
FORBIDDEN_RULE: Final = (
    "must not contain control characters (U+0000-U+001F, U+007F-U+009F), bidirectional controls "
    "(U+202A-U+202E, U+2066-U+2069) or unpaired surrogates"
)
ISO_TIME_RULE: Final = "expected an ISO 8601 time such as 2026-11-26T20:00:00Z"
OFFSET_RULE: Final = "must include a timezone offset (e.g. Z or -06:00)"


def integer(low: int, high: int | None = None) -> Any:
    """An int (not a bool) from `low` to `high` (no upper bound when None)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise vol.Invalid("expected an integer")
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise vol.Invalid(f"expected an integer {bound}")
        return value

    return check


def number(low: float, high: float) -> Any:
    """An int or float (not a bool) from `low` to `high`, as a float."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid("expected a number")
        if not low <= value <= high:
            raise vol.Invalid(f"expected a number from {low:g} to {high:g}")
        return float(value)

    return check


def boolean(value: Any) -> bool:
    """True or false (not 0, 1 or "yes")."""
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def text(max_len: int) -> Any:
    """Non-blank text of at most `max_len` characters, without forbidden characters."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid("expected a non-empty string")
        if len(value) > max_len:
            raise vol.Invalid(f"must be at most {max_len} characters")
        if FORBIDDEN_CHARS.search(value):
            raise vol.Invalid(FORBIDDEN_RULE)
        return value

    return check


def identifier(value: Any) -> str:
    """A configured id (camera, agency): lower-case letters, digits, '_' and '-'."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise vol.Invalid("expected 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit")
    return value


def camera_id(value: Any) -> str:
    """A camera id as a caller names it (unknown ids are the caller's problem, not a 400)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        raise vol.Invalid(f"expected a camera id (a string of 1-{MAX_ID_CHARS} characters)")
    return value


def camera_ids(value: Any) -> list[str]:
    """1-100 camera ids, each named once (in the order first given)."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_CAMERA_IDS:
        raise vol.Invalid(f"expected a list of 1-{MAX_CAMERA_IDS} camera ids")
    return list(dict.fromkeys(camera_id(v) for v in value))


def incident_id(value: Any) -> str:
    """The city's own incident id."""
    if not isinstance(value, str) or not INCIDENT_ID_PATTERN.fullmatch(value):
        raise vol.Invalid("expected 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
    return value


def instant(value: Any) -> datetime:
    """An ISO 8601 time with an offset, in UTC.

    ASCII only, and within the years 1-9999 once in UTC (`0001-01-01T00:00:00+14:00` is not).
    """
    if not isinstance(value, str) or not value.isascii():
        raise vol.Invalid(ISO_TIME_RULE)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise vol.Invalid(ISO_TIME_RULE) from None
    if parsed.tzinfo is None:
        raise vol.Invalid(OFFSET_RULE)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise vol.Invalid("must lie between the years 1 and 9999 in UTC") from None


def time_of_day(value: Any) -> time:
    """HH:MM, 00:00 to 23:59."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", value):
        raise vol.Invalid("expected a time of day as HH:MM")
    hour, minute = int(value[:2]), int(value[3:])
    if hour > 23 or minute > 59:  # noqa: PLR2004
        raise vol.Invalid("expected a time of day from 00:00 to 23:59")
    return time(hour, minute)


def ascii_int(raw: str) -> int | None:
    """An integer written in ASCII digits only (no sign, no spaces, at most 18 digits), or None.

    str.isdigit() takes "²" (which int() then refuses) and other scripts' digits.
    """
    return int(raw) if _ASCII_INT.fullmatch(raw) else None


def query_int(raw: str, low: int, high: int) -> int:
    """A query parameter's integer from `low` to `high`, in ASCII digits."""
    value = ascii_int(raw)
    if value is None or not low <= value <= high:
        raise vol.Invalid(f"expected an integer from {low} to {high} in ASCII digits")
    return value


# --- naming the field ---------------------------------------------------------------------------


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


def rule_of(error: vol.Invalid) -> str:
    """The rule an error broke, with voluptuous's own phrasings put in this module's words."""
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


def validated(
    schema: vol.Schema,
    raw: object,
    *,
    fail: Callable[[list[str]], Exception],
    not_a_mapping: str,
) -> dict[str, Any]:
    """`raw` as `schema` makes it, or `fail(problems)` raised with every problem named.

    Only `not_a_mapping` is named when `raw` is not a mapping at all.
    """
    if not isinstance(raw, dict):
        raise fail([not_a_mapping])
    try:
        data: dict[str, Any] = schema(raw)
    except vol.Invalid as err:
        raise fail(problems_of(err)) from None
    return data


def problems_of(error: vol.Invalid) -> list[str]:
    """One `field.path: rule` line per problem, in a stable order."""
    errors = error.errors if isinstance(error, vol.MultipleInvalid) else [error]
    return sorted({f"{format_path(e.path)}: {rule_of(e)}" for e in errors})
