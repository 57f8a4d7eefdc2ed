"""Every input rule in one voice: each refusal is the rule, and a schema's error is `field: rule`."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
import voluptuous as vol
from rtcc_gateway.limits import SHARE_MAX_S, SHARE_MIN_S
from rtcc_gateway.validators import (
    FORBIDDEN_RULE,
    ISO_TIME_RULE,
    ascii_int,
    boolean,
    camera_id,
    camera_ids,
    format_path,
    identifier,
    incident_id,
    instant,
    integer,
    number,
    problems_of,
    query_int,
    text,
    time_of_day,
    validated,
)


def refusal(check: Any, value: Any) -> str:
    with pytest.raises(vol.Invalid) as err:
        check(value)
    return str(err.value.error_message)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (True, "expected an integer"),
        (60.0, "expected an integer"),
        ("60", "expected an integer"),
        (59, f"expected an integer from {SHARE_MIN_S} to {SHARE_MAX_S}"),
        (43201, "expected an integer from 60 to 43200"),
    ],
)
def test_a_duration_is_an_integer_within_the_share_limits(value: Any, rule: str) -> None:
    assert refusal(integer(SHARE_MIN_S, SHARE_MAX_S), value) == rule


def test_integers_at_the_bounds_pass_and_an_open_bound_says_so() -> None:
    assert integer(60, 43200)(60) == 60
    assert integer(60, 43200)(43200) == 43200
    assert refusal(integer(1), 0) == "expected an integer of at least 1"
    assert integer(1)(10**12) == 10**12


def test_numbers_take_ints_and_floats_but_not_booleans() -> None:
    assert number(-90, 90)(45) == 45.0
    assert isinstance(number(-90, 90)(45), float)
    assert refusal(number(-90, 90), False) == "expected a number"
    assert refusal(number(-90, 90), 90.5) == "expected a number from -90 to 90"


def test_booleans_are_true_or_false_only() -> None:
    assert boolean(True) is True
    for value in (0, 1, "yes", None):
        assert refusal(boolean, value) == "expected true or false"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "expected a non-empty string"),
        ("   ", "expected a non-empty string"),
        (7, "expected a non-empty string"),
        ("x" * 11, "must be at most 10 characters"),
        ("bad\x1bname", FORBIDDEN_RULE),
        ("evil\u202etxt", FORBIDDEN_RULE),
    ],
)
def test_text_is_short_non_blank_and_free_of_controls(value: Any, rule: str) -> None:
    assert refusal(text(10), value) == rule


def test_text_keeps_what_it_was_given() -> None:
    assert text(10)(" Front ") == " Front "


def test_configured_ids_are_lower_case_and_start_with_a_letter_or_digit() -> None:
    assert identifier("front-door_2") == "front-door_2"
    for bad in ("Front", "-front", "", "a" * 65, "front\n"):
        assert "expected 1-64 of a-z" in refusal(identifier, bad)


def test_incident_ids_refuse_a_trailing_newline() -> None:
    assert incident_id("INC-2026.11:7") == "INC-2026.11:7"
    assert "expected 1-64 characters" in refusal(incident_id, "INC-1\n")


def test_camera_ids_are_listed_once_each_in_the_order_given() -> None:
    assert camera_ids(["b", "a", "b"]) == ["b", "a"]
    assert refusal(camera_ids, []) == "expected a list of 1-100 camera ids"
    assert refusal(camera_ids, ["a"] * 101) == "expected a list of 1-100 camera ids"
    assert refusal(camera_ids, ["a", 7]) == "expected a camera id (a string of 1-64 characters)"
    assert refusal(camera_id, "x" * 65) == "expected a camera id (a string of 1-64 characters)"


def test_an_instant_is_iso_8601_with_an_offset_in_utc() -> None:
    assert instant("2026-11-26T14:00:00-06:00") == datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    assert (
        refusal(instant, "2026-11-26T20:00:00")
        == "must include a timezone offset (e.g. Z or -06:00)"
    )
    assert refusal(instant, "tomorrow") == ISO_TIME_RULE
    assert refusal(instant, "\uff12026-11-26T20:00:00Z") == ISO_TIME_RULE  # a full-width digit
    assert (
        refusal(instant, "0001-01-01T00:00:00+14:00")
        == "must lie between the years 1 and 9999 in UTC"
    )


def test_a_time_of_day_is_hh_mm() -> None:
    assert time_of_day("07:30") == time(7, 30)
    assert refusal(time_of_day, "7:30") == "expected a time of day as HH:MM"
    assert refusal(time_of_day, "24:00") == "expected a time of day from 00:00 to 23:59"


def test_integers_in_a_query_are_ascii_digits_only() -> None:
    assert ascii_int("0042") == 42
    for bad in ("", "-1", "+1", " 1", "²", "٣", "1" * 19):
        assert ascii_int(bad) is None, bad
    assert query_int("60", 1, 60) == 60
    rule = "expected an integer from 1 to 60 in ASCII digits"
    assert refusal(lambda raw: query_int(raw, 1, 60), "61") == rule
    assert refusal(lambda raw: query_int(raw, 1, 60), "²") == rule


def test_a_schema_error_names_each_field_with_its_rule() -> None:
    schema = vol.Schema(
        {
            vol.Required("cameras"): [{vol.Required("max_duration_s"): integer(60, 43200)}],
            vol.Required("label"): text(10),
        }
    )
    with pytest.raises(vol.Invalid) as err:
        schema({"cameras": [{"max_duration_s": 5}], "extra": 1})
    assert problems_of(err.value) == [
        "cameras[0].max_duration_s: expected an integer from 60 to 43200",
        "extra: unknown field",
        "label: required field is missing",
    ]


def test_voluptuous_type_errors_are_put_in_the_same_words() -> None:
    schema = vol.Schema({vol.Required("location"): {"lat": float}, vol.Required("ids"): [str]})
    with pytest.raises(vol.Invalid) as err:
        schema({"location": 1, "ids": "a"})
    assert problems_of(err.value) == ["ids: expected a list", "location: expected a mapping"]


def test_an_empty_path_is_the_top_level() -> None:
    assert format_path([]) == "(top level)"
    assert format_path(["policy", "privacy_windows", 0, "end"]) == "policy.privacy_windows[0].end"


class RefusedError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


SCHEMA = vol.Schema({vol.Required("port"): integer(1, 65535), vol.Optional("name"): text(10)})


def test_validated_gives_what_the_schema_makes() -> None:
    assert validated(SCHEMA, {"port": 8099}, fail=RefusedError, not_a_mapping="x") == {"port": 8099}


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (["port", 8099], ["(top level): expected a mapping"]),
        (None, ["(top level): expected a mapping"]),
        (
            {"port": 0, "name": "far too long a name"},
            ["name: must be at most 10 characters", "port: expected an integer from 1 to 65535"],
        ),
        ({}, ["port: required field is missing"]),
    ],
)
def test_validated_names_every_problem_in_the_callers_error(raw: Any, problems: list[str]) -> None:
    with pytest.raises(RefusedError) as err:
        validated(SCHEMA, raw, fail=RefusedError, not_a_mapping="(top level): expected a mapping")
    assert err.value.problems == problems
