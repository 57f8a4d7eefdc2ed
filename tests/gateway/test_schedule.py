"""Privacy windows: weekly wall-clock windows in the owner's timezone, across midnight and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rtcc_gateway.config import DAYS, Policy, PrivacyWindow
from rtcc_gateway.schedule import (
    HORIZON,
    current_window_end,
    in_privacy_window,
    next_window_start,
)

CHICAGO = "America/Chicago"
BERLIN = "Europe/Berlin"
TICK = timedelta(microseconds=1)
EVERY_DAY = DAYS


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(  # noqa: PLR0917 - mirrors datetime()
    zone: str,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """A wall-clock time in `zone`; `fold=1` is the second reading of a repeated time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold)


def window(days: tuple[str, ...] | str, start: str, end: str) -> PrivacyWindow:
    return PrivacyWindow(
        days=(days,) if isinstance(days, str) else days,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
    )


def policy(*windows: PrivacyWindow, zone: str = CHICAGO) -> Policy:
    return Policy(timezone=zone, privacy_windows=windows)


# --- no windows --------------------------------------------------------------------------------


def test_without_windows_nothing_is_private_and_nothing_begins() -> None:
    p = policy()
    at = utc(2026, 6, 15, 12, 0)
    assert not in_privacy_window(p, at)
    assert current_window_end(p, at) is None
    assert next_window_start(p, at) is None


def test_naive_datetimes_are_refused() -> None:
    p = policy(window("mon", "09:00", "17:00"))
    naive = datetime(2026, 6, 15, 12, 0)  # noqa: DTZ001 - the point of the test
    for check in (in_privacy_window, current_window_end, next_window_start):
        with pytest.raises(ValueError, match="timezone-aware"):
            check(p, naive)


# --- a plain window (2026-06-15 is a Monday; Chicago is on CDT, UTC-5) ---------------------------

OFFICE = policy(window("mon", "09:00", "17:00"))


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        pytest.param(local(CHICAGO, 2026, 6, 15, 8, 59, 59), False, id="just before start"),
        pytest.param(local(CHICAGO, 2026, 6, 15, 9, 0), True, id="start is inclusive"),
        pytest.param(local(CHICAGO, 2026, 6, 15, 12, 0), True, id="middle"),
        pytest.param(local(CHICAGO, 2026, 6, 15, 17, 0) - TICK, True, id="last instant"),
        pytest.param(local(CHICAGO, 2026, 6, 15, 17, 0), False, id="end is exclusive"),
        pytest.param(local(CHICAGO, 2026, 6, 16, 12, 0), False, id="tuesday is not a day"),
        pytest.param(local(CHICAGO, 2026, 6, 22, 12, 0), True, id="next monday"),
    ],
)
def test_a_window_covers_its_day_from_start_inclusive_to_end_exclusive(
    at: datetime, inside: bool
) -> None:
    assert in_privacy_window(OFFICE, at) is inside
    assert (current_window_end(OFFICE, at) is not None) is inside


def test_the_answer_does_not_depend_on_the_timezone_the_caller_uses() -> None:
    at_local = local(CHICAGO, 2026, 6, 15, 9, 0)
    at_utc = utc(2026, 6, 15, 14, 0)
    at_tokyo = at_utc.astimezone(ZoneInfo("Asia/Tokyo"))
    assert at_local == at_utc == at_tokyo
    assert in_privacy_window(OFFICE, at_utc)
    assert in_privacy_window(OFFICE, at_tokyo)
    assert current_window_end(OFFICE, at_tokyo) == utc(2026, 6, 15, 22, 0)


def test_answers_are_utc() -> None:
    end = current_window_end(OFFICE, local(CHICAGO, 2026, 6, 15, 10, 0))
    start = next_window_start(OFFICE, local(CHICAGO, 2026, 6, 15, 18, 0))
    assert end is not None
    assert start is not None
    assert end.tzinfo is UTC
    assert start.tzinfo is UTC
    assert end == utc(2026, 6, 15, 22, 0)
    assert start == utc(2026, 6, 22, 14, 0)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(
            local(CHICAGO, 2026, 6, 15, 8, 0), local(CHICAGO, 2026, 6, 15, 9, 0), id="later today"
        ),
        pytest.param(
            local(CHICAGO, 2026, 6, 15, 9, 0) - TICK,
            local(CHICAGO, 2026, 6, 15, 9, 0),
            id="an instant before",
        ),
        pytest.param(
            local(CHICAGO, 2026, 6, 15, 9, 0),
            local(CHICAGO, 2026, 6, 22, 9, 0),
            id="strictly after: at the start means next week",
        ),
        pytest.param(
            local(CHICAGO, 2026, 6, 15, 12, 0),
            local(CHICAGO, 2026, 6, 22, 9, 0),
            id="inside means the next one",
        ),
        pytest.param(
            local(CHICAGO, 2026, 6, 17, 12, 0), local(CHICAGO, 2026, 6, 22, 9, 0), id="wednesday"
        ),
    ],
)
def test_next_window_start_is_strictly_after(after: datetime, expected: datetime) -> None:
    assert next_window_start(OFFICE, after) == expected


# --- windows crossing midnight -----------------------------------------------------------------

NIGHT_MON = policy(window("mon", "22:00", "07:00"))


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        pytest.param(local(CHICAGO, 2026, 6, 15, 3, 0), False, id="monday early: sunday not a day"),
        pytest.param(local(CHICAGO, 2026, 6, 15, 21, 59), False, id="monday before 22:00"),
        pytest.param(local(CHICAGO, 2026, 6, 15, 22, 0), True, id="monday 22:00"),
        pytest.param(local(CHICAGO, 2026, 6, 16, 0, 0), True, id="midnight"),
        pytest.param(local(CHICAGO, 2026, 6, 16, 6, 59, 59), True, id="tuesday 06:59:59"),
        pytest.param(local(CHICAGO, 2026, 6, 16, 7, 0), False, id="tuesday 07:00"),
        pytest.param(local(CHICAGO, 2026, 6, 16, 23, 0), False, id="tuesday night"),
    ],
)
def test_a_window_crossing_midnight_belongs_to_the_day_it_starts(
    at: datetime, inside: bool
) -> None:
    assert in_privacy_window(NIGHT_MON, at) is inside


def test_a_window_crossing_midnight_ends_the_next_morning() -> None:
    at = local(CHICAGO, 2026, 6, 15, 23, 0)
    assert current_window_end(NIGHT_MON, at) == local(CHICAGO, 2026, 6, 16, 7, 0)


def test_a_sunday_night_window_wraps_into_monday() -> None:
    p = policy(window("sun", "22:00", "07:00"))
    assert in_privacy_window(p, local(CHICAGO, 2026, 6, 15, 3, 0))
    assert current_window_end(p, local(CHICAGO, 2026, 6, 15, 3, 0)) == local(
        CHICAGO, 2026, 6, 15, 7, 0
    )
    assert next_window_start(p, local(CHICAGO, 2026, 6, 15, 3, 0)) == local(
        CHICAGO, 2026, 6, 21, 22, 0
    )


def test_a_window_with_end_equal_to_start_lasts_a_whole_day() -> None:
    p = policy(window("wed", "12:00", "12:00"))
    assert in_privacy_window(p, local(CHICAGO, 2026, 6, 18, 11, 59))
    assert current_window_end(p, local(CHICAGO, 2026, 6, 17, 12, 0)) == local(
        CHICAGO, 2026, 6, 18, 12, 0
    )


# --- chained and overlapping windows -----------------------------------------------------------


def test_chained_windows_end_at_the_end_of_the_whole_span() -> None:
    p = policy(window("mon", "22:00", "07:00"), window("tue", "07:00", "09:00"))
    at = local(CHICAGO, 2026, 6, 15, 23, 0)
    assert current_window_end(p, at) == local(CHICAGO, 2026, 6, 16, 9, 0)
    # 07:00 Tuesday is no new beginning: privacy never paused there.
    assert next_window_start(p, at) == local(CHICAGO, 2026, 6, 22, 22, 0)
    assert next_window_start(p, local(CHICAGO, 2026, 6, 16, 6, 0)) == local(
        CHICAGO, 2026, 6, 22, 22, 0
    )


MONDAY = (2026, 6, 15)  # a Monday
OVERLAPPING = (window("mon", "09:00", "12:00"), window("mon", "11:00", "14:00"))
NESTED = (window("mon", "08:00", "18:00"), window("mon", "10:00", "11:00"))
APART = (window("mon", "09:00", "10:00"), window("mon", "10:01", "11:00"))


@pytest.mark.parametrize(
    ("windows", "at", "end"),
    [
        pytest.param(OVERLAPPING, (9, 30), (14, 0), id="overlapping windows merge (in the first)"),
        pytest.param(OVERLAPPING, (13, 0), (14, 0), id="overlapping windows merge (in the second)"),
        pytest.param(NESTED, (10, 30), (18, 0), id="a window inside another does not shorten it"),
        pytest.param(APART, (9, 30), (10, 0), id="separate windows the same day end apart"),
    ],
)
def test_a_window_ends_where_its_merged_span_ends(
    windows: tuple[PrivacyWindow, ...], at: tuple[int, int], end: tuple[int, int]
) -> None:
    assert current_window_end(policy(*windows), local(CHICAGO, *MONDAY, *at)) == local(
        CHICAGO, *MONDAY, *end
    )


def test_separate_windows_the_same_day_leave_a_gap() -> None:
    p = policy(*APART)
    assert not in_privacy_window(p, local(CHICAGO, *MONDAY, 10, 0, 30))
    assert next_window_start(p, local(CHICAGO, *MONDAY, 9, 30)) == local(CHICAGO, *MONDAY, 10, 1)


def test_windows_covering_the_whole_week_never_let_up() -> None:
    p = policy(window(EVERY_DAY, "00:00", "12:00"), window(EVERY_DAY, "12:00", "00:00"))
    at = utc(2026, 6, 15, 12, 0)
    assert in_privacy_window(p, at)
    assert current_window_end(p, at) == at + HORIZON
    assert next_window_start(p, at) is None


# --- daylight saving time: America/Chicago -----------------------------------------------------
# 2026-03-08 (Sunday): 02:00 CST -> 03:00 CDT at 08:00Z. 2026-11-01 (Sunday): 02:00 CDT -> 01:00
# CST at 07:00Z.

NIGHTLY = (window(EVERY_DAY, "22:00", "07:00"),)


@pytest.mark.parametrize(
    ("zone", "night_before", "start", "end", "hours"),
    [
        pytest.param(
            CHICAGO, date(2026, 3, 7), utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 12, 0), 8, id="chicago spring"
        ),
        pytest.param(
            CHICAGO, date(2026, 10, 31), utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 13, 0), 10, id="chicago fall"
        ),
        pytest.param(
            BERLIN, date(2026, 3, 28), utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 5, 0), 8, id="berlin spring"
        ),
        pytest.param(
            BERLIN, date(2026, 10, 24), utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 6, 0), 10, id="berlin fall"
        ),
    ],
)  # fmt: skip
def test_a_night_window_across_a_dst_change_follows_the_wall_clock(
    zone: str, night_before: date, start: datetime, end: datetime, hours: int
) -> None:
    p = policy(*NIGHTLY, zone=zone)
    evening = datetime.combine(night_before, time(21, 0), ZoneInfo(zone))
    assert next_window_start(p, evening) == start
    assert start.astimezone(ZoneInfo(zone)).time() == time(22, 0)
    assert end.astimezone(ZoneInfo(zone)).time() == time(7, 0)
    assert end - start == timedelta(hours=hours)
    assert not in_privacy_window(p, start - TICK)
    assert in_privacy_window(p, start)
    assert in_privacy_window(p, end - TICK)
    assert not in_privacy_window(p, end)
    for probe in (start, start + timedelta(hours=3), end - TICK):
        assert current_window_end(p, probe) == end


def test_chicago_window_starting_in_the_spring_forward_gap_starts_when_the_clock_jumps() -> None:
    # 02:30 does not exist on 2026-03-08; the first valid instant after it is 03:00 CDT (08:00Z).
    p = policy(window("sun", "02:30", "04:00"))
    assert next_window_start(p, local(CHICAGO, 2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 8, 0)
    assert not in_privacy_window(p, utc(2026, 3, 8, 8, 0) - TICK)  # 01:59:59.999999 CST
    assert in_privacy_window(p, utc(2026, 3, 8, 8, 0))
    assert current_window_end(p, utc(2026, 3, 8, 8, 0)) == utc(2026, 3, 8, 9, 0)  # 04:00 CDT
    # Other Sundays it starts at 02:30 as usual.
    assert next_window_start(p, utc(2026, 3, 8, 9, 0)) == local(CHICAGO, 2026, 3, 15, 2, 30)


def test_chicago_window_ending_in_the_spring_forward_gap_ends_when_the_clock_jumps() -> None:
    p = policy(window("sat", "22:00", "02:30"))
    at = local(CHICAGO, 2026, 3, 8, 1, 0)
    assert current_window_end(p, at) == utc(2026, 3, 8, 8, 0)
    assert not in_privacy_window(p, local(CHICAGO, 2026, 3, 8, 3, 0))


def test_chicago_window_wholly_inside_the_gap_does_not_happen_that_day() -> None:
    p = policy(window("sun", "02:10", "02:50"))
    assert next_window_start(p, local(CHICAGO, 2026, 3, 8, 0, 0)) == local(
        CHICAGO, 2026, 3, 15, 2, 10
    )
    assert not in_privacy_window(p, utc(2026, 3, 8, 8, 0))


def test_chicago_window_starting_in_the_repeated_hour_starts_at_the_first_reading() -> None:
    # 01:30 happens twice on 2026-11-01: 01:30 CDT (06:30Z) and 01:30 CST (07:30Z).
    p = policy(window("sun", "01:30", "03:00"))
    assert next_window_start(p, local(CHICAGO, 2026, 11, 1, 0, 0)) == utc(2026, 11, 1, 6, 30)
    assert current_window_end(p, utc(2026, 11, 1, 6, 30)) == utc(2026, 11, 1, 9, 0)  # 03:00 CST
    assert in_privacy_window(p, local(CHICAGO, 2026, 11, 1, 1, 10, fold=1))  # 01:10 CST, inside


def test_chicago_window_ending_in_the_repeated_hour_ends_at_the_second_reading() -> None:
    p = policy(window("sat", "22:00", "01:30"))
    # Compared in UTC: Python never equates a repeated-hour local time with another zone's.
    first = local(CHICAGO, 2026, 11, 1, 1, 30).astimezone(UTC)
    second = local(CHICAGO, 2026, 11, 1, 1, 30, fold=1).astimezone(UTC)
    assert (first, second) == (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30))
    assert current_window_end(p, local(CHICAGO, 2026, 10, 31, 23, 0)) == second
    assert in_privacy_window(p, first)  # the clock still has to show 01:30 once more
    assert in_privacy_window(p, local(CHICAGO, 2026, 11, 1, 1, 15, fold=1))
    assert not in_privacy_window(p, second)


def test_chicago_window_inside_the_repeated_hour_covers_both_readings() -> None:
    p = policy(window("sun", "01:00", "01:45"))
    assert next_window_start(p, local(CHICAGO, 2026, 11, 1, 0, 0)) == utc(2026, 11, 1, 6, 0)
    assert current_window_end(p, utc(2026, 11, 1, 6, 0)) == utc(2026, 11, 1, 7, 45)
    assert in_privacy_window(p, local(CHICAGO, 2026, 11, 1, 1, 20))  # first 01:20 (CDT)
    assert in_privacy_window(p, local(CHICAGO, 2026, 11, 1, 1, 20, fold=1))  # second (CST)


# --- daylight saving time: Europe/Berlin -------------------------------------------------------
# 2026-03-29 (Sunday): 02:00 CET -> 03:00 CEST at 01:00Z. 2026-10-25 (Sunday): 03:00 CEST -> 02:00
# CET at 01:00Z.


def test_berlin_window_starting_in_the_spring_forward_gap() -> None:
    p = policy(window("sun", "02:30", "06:00"), zone=BERLIN)
    assert next_window_start(p, local(BERLIN, 2026, 3, 29, 0, 0)) == utc(2026, 3, 29, 1, 0)
    assert not in_privacy_window(p, utc(2026, 3, 29, 1, 0) - TICK)
    assert in_privacy_window(p, local(BERLIN, 2026, 3, 29, 3, 0))
    assert current_window_end(p, local(BERLIN, 2026, 3, 29, 3, 0)) == utc(2026, 3, 29, 4, 0)


def test_berlin_window_in_the_repeated_hour() -> None:
    # 02:30 happens at 00:30Z (CEST) and 01:30Z (CET) on 2026-10-25.
    p = policy(window("sun", "02:30", "04:00"), zone=BERLIN)
    assert next_window_start(p, local(BERLIN, 2026, 10, 25, 0, 0)) == utc(2026, 10, 25, 0, 30)
    assert current_window_end(p, utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 3, 0)
    night = policy(window("sat", "23:00", "02:30"), zone=BERLIN)
    assert current_window_end(night, local(BERLIN, 2026, 10, 24, 23, 30)) == utc(
        2026, 10, 25, 1, 30
    )


def test_a_gap_at_midnight_is_handled_the_same_way() -> None:
    # America/Santiago skips 00:00-01:00 on Sunday 2026-09-06 (04:00Z).
    p = policy(window("sun", "00:00", "06:00"), zone="America/Santiago")
    assert next_window_start(p, local("America/Santiago", 2026, 9, 5, 12, 0)) == utc(
        2026, 9, 6, 4, 0
    )
    assert current_window_end(p, utc(2026, 9, 6, 4, 0)) == utc(2026, 9, 6, 9, 0)


def test_a_half_hour_dst_shift_is_handled_the_same_way() -> None:
    # Australia/Lord_Howe skips 02:00-02:30 on Sunday 2026-10-04 (15:30Z on the 3rd).
    p = policy(window("sun", "02:15", "05:00"), zone="Australia/Lord_Howe")
    assert next_window_start(p, local("Australia/Lord_Howe", 2026, 10, 4, 0, 0)) == utc(
        2026, 10, 3, 15, 30
    )


# --- properties --------------------------------------------------------------------------------

# The 2026 transitions of each zone: instants are often drawn near them, so DST is hit on purpose
# rather than by luck.
TRANSITIONS: dict[str, tuple[datetime, ...]] = {
    CHICAGO: (utc(2026, 3, 8, 8, 0), utc(2026, 11, 1, 7, 0)),
    BERLIN: (utc(2026, 3, 29, 1, 0), utc(2026, 10, 25, 1, 0)),
    "America/Santiago": (utc(2026, 4, 5, 3, 0), utc(2026, 9, 6, 4, 0)),
    "Australia/Lord_Howe": (utc(2026, 4, 4, 15, 0), utc(2026, 10, 3, 15, 30)),
    "Asia/Kolkata": (),
    "UTC": (),
}

# Hours around midnight and the small hours (where DST happens) come up more often than by chance.
clock_times = st.builds(
    time,
    st.one_of(st.integers(0, 23), st.sampled_from([0, 1, 2, 3, 23])),
    st.sampled_from([0, 1, 15, 30, 45, 59]),
)
windows = st.builds(
    PrivacyWindow,
    days=st.one_of(
        st.just(DAYS),
        st.sets(st.sampled_from(DAYS), min_size=1).map(lambda s: tuple(d for d in DAYS if d in s)),
    ),
    start=clock_times,
    end=clock_times,
)
any_instant = st.datetimes(
    datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; `timezones` makes them UTC
    datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@st.composite
def policy_and_instant(draw: st.DrawFn) -> tuple[Policy, datetime]:
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    p = Policy(timezone=zone, privacy_windows=tuple(draw(st.lists(windows, max_size=3))))
    if not TRANSITIONS[zone] or draw(st.booleans()):
        return p, draw(any_instant)
    seconds = draw(st.one_of(st.integers(-2 * 86400, 2 * 86400), st.integers(-3600, 3600)))
    return p, draw(st.sampled_from(TRANSITIONS[zone])) + timedelta(seconds=seconds)


def wall_clock_says_private(p: Policy, at: datetime) -> bool:
    """The plain reading: the local clock shows a time inside some window."""
    reading = at.astimezone(ZoneInfo(p.timezone))
    today, clock = DAYS[reading.weekday()], reading.time().replace(tzinfo=None)
    yesterday = DAYS[(reading.weekday() - 1) % 7]
    for w in p.privacy_windows:
        if w.end > w.start:
            if today in w.days and w.start <= clock < w.end:
                return True
        elif (today in w.days and clock >= w.start) or (yesterday in w.days and clock < w.end):
            return True
    return False


def is_repeated_hour(at: datetime, zone: str) -> bool:
    reading = at.astimezone(ZoneInfo(zone))
    return reading.replace(fold=1 - reading.fold).utcoffset() != reading.utcoffset()


@settings(max_examples=1500, deadline=None)
@given(policy_and_instant())
def test_agrees_with_the_wall_clock(case: tuple[Policy, datetime]) -> None:
    p, at = case
    # Whenever the clock shows a private time it is private; in the repeated fall-back hour the
    # schedule may cover more than the clock reading (it takes the longer reading on purpose).
    if wall_clock_says_private(p, at):
        assert in_privacy_window(p, at)
    elif not is_repeated_hour(at, p.timezone):
        assert not in_privacy_window(p, at)


@settings(max_examples=300, deadline=None)
@given(policy_and_instant())
def test_window_end_and_next_start_are_consistent(case: tuple[Policy, datetime]) -> None:
    p, at = case
    inside = in_privacy_window(p, at)
    end = current_window_end(p, at)
    assert (end is not None) is inside
    if end is not None:
        assert end > at
        assert in_privacy_window(p, end - TICK)
        assert in_privacy_window(p, at + (end - at) / 2)
        assert end == at + HORIZON or not in_privacy_window(p, end)

    start = next_window_start(p, at)
    if not p.privacy_windows:
        assert start is None
    elif start is None:
        assert end == at + HORIZON  # private for good: nothing ever begins
    else:
        assert start > at
        assert in_privacy_window(p, start)
        assert not in_privacy_window(p, start - TICK)
        if not inside:
            assert not in_privacy_window(p, at + (start - at) / 2)
        assert start <= at + timedelta(days=15)  # weekly, give or take a skipped gap week
