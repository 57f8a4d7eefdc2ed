"""What both APIs check of a body before its fields: strict JSON (no duplicate keys, NaN or huge
integers) and no forbidden character anywhere, each refusal naming the field without echoing it."""

from __future__ import annotations

import pytest
from rtcc_gateway.api.validate import (
    MAX_NAME_CHARS,
    BodyError,
    forbidden_text,
    parse_json_object,
    safe_name,
)
from rtcc_gateway.validators import FORBIDDEN_RULE


def test_a_strict_object_is_parsed() -> None:
    assert parse_json_object(b'{"a": [1, 2.5, null, true], "b": {"c": "d"}}') == {
        "a": [1, 2.5, None, True],
        "b": {"c": "d"},
    }


@pytest.mark.parametrize(
    ("body", "name", "reason"),
    [
        (b"\xff{}", "(body)", "is not valid UTF-8"),
        (b'{"a": 1', "(body)", "is not valid JSON (line 1, column 8)"),
        (b'{"a": 1, "a": 2}', "a", "appears more than once in an object"),
        (b'{"n": ' + b"9" * 21 + b"}", "(body)", "holds an integer of more than 20 digits"),
        (b'{"n": Infinity}', "(body)", "holds NaN or Infinity, which JSON does not allow"),
        (b"[" * 100_000 + b"]" * 100_000, "(body)", "is nested too deeply"),
        (b"[1]", "(body)", "must be a JSON object"),
    ],
)
def test_anything_else_is_refused_naming_where(body: bytes, name: str, reason: str) -> None:
    with pytest.raises(BodyError) as err:
        parse_json_object(body)
    assert (err.value.name, err.value.reason) == (name, reason)


def test_a_duplicate_key_is_named_safely() -> None:
    with pytest.raises(BodyError) as err:
        parse_json_object(b'{"x\\u001b[31m": 1, "x\\u001b[31m": 2}')
    assert err.value.name == "x\\u001b[31m"


def test_forbidden_characters_are_found_in_keys_and_values_at_any_depth() -> None:
    body = {
        "reason": "ok",
        "location": {"note": "a\u202eb"},
        "tags": ["fine", "bad\x07"],
        "k\x00": 1,
    }
    assert forbidden_text(body) == [
        {"name": "k\\u0000", "reason": FORBIDDEN_RULE},
        {"name": "location.note", "reason": FORBIDDEN_RULE},
        {"name": "tags[1]", "reason": FORBIDDEN_RULE},
    ]
    assert forbidden_text({"reason": "Break-in at 123 Main St — twice"}) == []


def test_a_field_name_echoed_is_escaped_and_cut() -> None:
    assert safe_name("a\x1bb") == "a\\u001bb"
    long = safe_name("x" * 500)
    assert len(long) == MAX_NAME_CHARS
    assert long.endswith("…")
