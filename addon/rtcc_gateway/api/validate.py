"""What both APIs check of a body before its fields: strict JSON, no forbidden characters.

The field rules themselves (ids, numbers, text, times) are validators.py's.

Every refusal names the field and the rule; none carries an exception's own text (which may echo
the input or name internals).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

from rtcc_gateway.validators import FORBIDDEN_CHARS, FORBIDDEN_RULE

MAX_INT_DIGITS: Final = 20  # more than any field allows; keeps int() cheap and its errors ours
MAX_NAME_CHARS: Final = 100  # a field name echoed in invalid_params is cut to this


class BodyError(ValueError):
    """A body that is not a strict JSON object: `name` is the field (or `(body)`), `reason` why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _LongNumberError(Exception):
    pass


class _ConstantError(Exception):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _LongNumberError
    return int(text)


def _constant(_text: str) -> Any:
    raise _ConstantError


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, refusing duplicate keys, NaN/Infinity and huge integers."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("(body)", "is not valid UTF-8") from None
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as err:
        raise BodyError(
            "(body)", f"is not valid JSON (line {err.lineno}, column {err.colno})"
        ) from None
    except _DuplicateKeyError as err:
        raise BodyError(safe_name(err.key), "appears more than once in an object") from None
    except _LongNumberError:
        raise BodyError(
            "(body)", f"holds an integer of more than {MAX_INT_DIGITS} digits"
        ) from None
    except _ConstantError:
        raise BodyError("(body)", "holds NaN or Infinity, which JSON does not allow") from None
    except RecursionError:
        raise BodyError("(body)", "is nested too deeply") from None
    except ValueError:
        raise BodyError("(body)", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise BodyError("(body)", "must be a JSON object")
    return data


def safe_name(name: str) -> str:
    """A field name fit to echo: forbidden characters escaped, cut to MAX_NAME_CHARS."""
    escaped = FORBIDDEN_CHARS.sub(lambda m: f"\\u{ord(m[0]):04x}", name)
    if len(escaped) > MAX_NAME_CHARS:
        escaped = escaped[: MAX_NAME_CHARS - 1] + "…"
    return escaped


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) for every key and string value in a parsed JSON tree."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else key
                yield child_path, key
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def forbidden_text(value: Any) -> list[dict[str, str]]:
    """invalid_params for every string (or key) holding a forbidden character, by field."""
    names = {safe_name(path) for path, text in _strings(value, "") if FORBIDDEN_CHARS.search(text)}
    return [{"name": name, "reason": FORBIDDEN_RULE} for name in sorted(names)]
