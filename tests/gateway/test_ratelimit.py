"""The sliding one-minute window behind the per-agency rate limit and the audit caps."""

from __future__ import annotations

from rtcc_gateway.ratelimit import WINDOW_S, RateLimiter

from ..conftest import Clock


def test_calls_up_to_the_limit_pass_and_the_next_waits_for_the_oldest_to_leave() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.hit("jpd", 3) for _ in range(3)] == [0, 0, 0]
    clock.advance(20)
    assert limiter.hit("jpd", 3) == 40, "the first call leaves the window 40 s from now"
    clock.advance(40)
    assert limiter.hit("jpd", 3) == 0


def test_a_refused_call_is_not_counted() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.hit("jpd", 1) == 0
    for _ in range(10):
        assert limiter.hit("jpd", 1) > 0
    clock.advance(WINDOW_S)
    assert limiter.hit("jpd", 1) == 0, "the refused calls did not push the window on"


def test_keys_are_counted_apart() -> None:
    limiter = RateLimiter(Clock())
    assert limiter.hit("jpd", 1) == 0
    assert limiter.hit("jpd", 1) > 0
    assert limiter.hit("fire", 1) == 0


def test_retry_after_is_at_least_one_second() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limiter.hit("jpd", 1)
    clock.advance(WINDOW_S - 0.01)
    assert limiter.hit("jpd", 1) == 1


def test_a_clock_set_back_forgets_the_window_rather_than_block_until_then() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limiter.hit("jpd", 1)
    clock.advance(-3600)
    assert limiter.hit("jpd", 1) == 0


def test_the_limiter_forgets_idle_keys() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    for n in range(5000):
        assert limiter.hit(f"10.0.{n // 256}.{n % 256}", 30) == 0
    assert len(limiter) == 5000
    # A minute later every one of them is idle: a sweep (due once the table doubles) drops them.
    clock.advance(WINDOW_S)
    for n in range(10000):
        limiter.hit(f"10.1.{n // 256}.{n % 256}", 30)
    assert len(limiter) == 10000
