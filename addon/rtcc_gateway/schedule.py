"""Privacy windows: when the owner's weekly "never share" schedule is in force.

A `PrivacyWindow` is wall-clock time in the policy's IANA timezone. `days` are the days a window
starts on; a window whose end is not after its start crosses midnight (22:00 `mon` -> 07:00 Tue;
end == start is a whole 24 h). Every function takes timezone-aware datetimes and answers in UTC.

Daylight saving time, decided on purpose (the window follows the wall clock, and when the wall clock
is unclear the window is the longer reading, since it protects the owner):
- A wall-clock time that does not exist (inside the spring-forward gap) is the first instant after
  the gap, whether it starts or ends a window: a window starting at 02:30 on the US spring-forward
  day starts at 03:00 CDT; one ending at 02:30 ends at 03:00 CDT; one lying wholly inside the gap
  does not happen that day (the clock never shows any of its times).
- A wall-clock time that exists twice (the fall-back hour) starts a window at its first occurrence
  and ends one at its second, so every instant whose clock reading lies inside the window is
  covered (and the few minutes between the two readings with it).
- Otherwise a window is just its wall-clock span, so 22:00 -> 07:00 lasts 8 h across spring forward
  and 10 h across fall back.

Windows that overlap or touch count as one span: `current_window_end` is the end of that span and
`next_window_start` only reports instants where privacy begins after a time without it.

Pure: no I/O, no clock; the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from .config import DAYS, Policy, PrivacyWindow

if TYPE_CHECKING:
    from collections.abc import Iterator

# How far ahead spans are followed. A schedule keeping the owner private for longer than this
# without a break (windows covering the whole week) reports the window as ending at `at + HORIZON`.
HORIZON: Final = timedelta(days=400)

# A window starting on day D ends on D+1 at the latest, so windows from two local days back are
# the earliest ones that can still cover an instant.
_LOOKBACK_DAYS: Final = 2


@dataclass(frozen=True, slots=True)
class _Span:
    """A half-open interval [start, end) of UTC instants."""

    start: datetime
    end: datetime


def in_privacy_window(policy: Policy, at: datetime) -> bool:
    """Whether `at` lies inside a privacy window (start inclusive, end exclusive)."""
    at = _utc(at)
    tz = ZoneInfo(policy.timezone)
    first = _local_day(at, tz) - timedelta(days=_LOOKBACK_DAYS)
    return any(
        span.start <= at < span.end
        for day in _days(first, first + timedelta(days=_LOOKBACK_DAYS))
        for span in _occurrences(policy.privacy_windows, day, tz)
    )


def current_window_end(policy: Policy, at: datetime) -> datetime | None:
    """When the privacy span around `at` ends (chained windows merged); None when not inside one."""
    at = _utc(at)
    for span in _spans(policy, at):
        if span.start > at:
            return None
        if at < span.end:
            return min(span.end, at + HORIZON)
    return None


def next_window_start(policy: Policy, after: datetime) -> datetime | None:
    """The first instant strictly after `after` at which privacy begins; None when none does.

    None means there are no windows (or none within `HORIZON`, i.e. they never let up).
    """
    after = _utc(after)
    for span in _spans(policy, after):
        if span.start > after:
            return span.start
    return None


# --- internals ---------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    # A naive time would silently be read as the host's local time: refuse it.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")
    return moment.astimezone(UTC)


def _local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _occurrences(windows: tuple[PrivacyWindow, ...], day: date, tz: ZoneInfo) -> list[_Span]:
    """The windows starting on local `day`, as UTC spans sorted by start; empty ones dropped."""
    weekday = DAYS[day.weekday()]
    spans: list[_Span] = []
    for window in windows:
        if weekday not in window.days:
            continue
        start_time = window.start.replace(tzinfo=None)
        end_time = window.end.replace(tzinfo=None)
        end_day = day if end_time > start_time else day + timedelta(days=1)
        start = _instant(datetime.combine(day, start_time), tz, last=False)
        end = _instant(datetime.combine(end_day, end_time), tz, last=True)
        if start < end:  # a window wholly inside a spring-forward gap does not happen
            spans.append(_Span(start, end))
    spans.sort(key=lambda span: (span.start, span.end))
    return spans


def _spans(policy: Policy, around: datetime) -> Iterator[_Span]:
    """Merged privacy spans in time order, from shortly before `around` to `HORIZON` after it.

    The last span yielded may be cut at the horizon (it may go on).
    """
    if not policy.privacy_windows:
        return
    tz = ZoneInfo(policy.timezone)
    first = _local_day(around, tz) - timedelta(days=_LOOKBACK_DAYS)
    last = _local_day(around + HORIZON, tz) + timedelta(days=1)
    current: _Span | None = None
    # Starts never go backwards from one day to the next (the DST rules above are monotone), so
    # a span can be handed out as soon as a later window starts after its end.
    for day in _days(first, last):
        for span in _occurrences(policy.privacy_windows, day, tz):
            if current is None:
                current = span
            elif span.start <= current.end:
                current = _Span(current.start, max(current.end, span.end))
            else:
                yield current
                current = span
    if current is not None:
        yield current


def _instant(local: datetime, tz: ZoneInfo, *, last: bool) -> datetime:
    """The UTC instant of a naive local wall-clock time, by the DST rules in the module docstring.

    `last` picks the second reading of a time that exists twice (for window ends).
    """
    first_reading = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second_reading = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first_reading == second_reading:
        return first_reading
    earlier, later = sorted((first_reading, second_reading))
    if first_reading.astimezone(tz).replace(tzinfo=None) == local:
        # Exists twice (fall back).
        return later if last else earlier
    # Does not exist (spring forward): `earlier` reads the time with the new offset and lies before
    # the gap, `later` with the old offset and lies after it; the transition is in between.
    return _transition(earlier, later, tz)


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (before, after] with `after`'s UTC offset (whole seconds)."""
    target = after.astimezone(tz).utcoffset()
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        mid = (low + high) // 2
        if (before + timedelta(seconds=mid)).astimezone(tz).utcoffset() == target:
            high = mid
        else:
            low = mid
    return before + timedelta(seconds=high)
