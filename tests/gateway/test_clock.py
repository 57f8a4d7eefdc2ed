"""The gateway's one clock: the wall clock given to `Gateway(clock=...)` is the one every part
reads, and a bare wall clock gets the real steady count beside it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rtcc_gateway.app import Gateway
from rtcc_gateway.audit_chain import format_ts
from rtcc_gateway.clock import Clock, utc_now
from rtcc_gateway.config import parse_config

from ..conftest import Clock as MovedClock


def test_the_default_reads_real_utc_time() -> None:
    before = datetime.now(UTC)
    now = Clock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)
    assert utc_now().tzinfo is UTC


def test_the_default_steady_count_never_goes_back() -> None:
    clock = Clock()
    first = clock.monotonic()
    assert clock.monotonic() >= first
    assert abs(first - time.monotonic()) < 3600, "it is time.monotonic's count"


def test_a_gateway_given_a_wall_clock_reads_that_clock(config_dict: dict[str, Any]) -> None:
    moved = MovedClock()
    gateway = Gateway(parse_config(config_dict), clock=moved)
    moved.advance(3600)
    assert gateway.clock.now() - datetime.now(UTC) > timedelta(minutes=59)
    assert gateway.clock.monotonic is time.monotonic


def test_a_gateway_given_a_whole_clock_uses_it_as_given(config_dict: dict[str, Any]) -> None:
    fixed = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    clock = Clock(now=lambda: fixed, monotonic=lambda: 42.0)
    gateway = Gateway(parse_config(config_dict), clock=clock)
    assert gateway.clock is clock
    event = gateway.events.publish("audit_head", head="1:ab")
    assert event["ts"] == format_ts(fixed), "the event stream stamps with the given clock"
