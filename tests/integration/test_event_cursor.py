"""The event cursor: which events are new, which become bus events, and its stored shape."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.rtcc_share.event_cursor import ANNOUNCED_KEPT, EventCursor, pending_ids


def hello(stream: str = "evs_a", seq: int = 5, *, gap: bool = False) -> dict[str, Any]:
    return {"type": "replay", "stream": stream, "seq": seq, "gap": gap, "replayed": 0}


def received(seq: int, request_id: str) -> dict[str, Any]:
    return {"type": "request_received", "seq": seq, "request_id": request_id}


def test_a_fresh_cursor_trusts_no_replay_and_asks_for_the_state() -> None:
    cursor = EventCursor()
    assert cursor.query() == (0, None)
    assert cursor.opened(hello()) is True, "nothing known yet: the state says what waits"
    assert cursor.take(received(3, "r1"))
    assert not cursor.should_fire(received(3, "r1"), ["r1"]), "history is not announced"
    assert cursor.take(received(6, "r2"))
    assert cursor.should_fire(received(6, "r2"), []), "a live request is"


def test_a_known_cursor_takes_only_newer_events_and_replays_what_still_waits() -> None:
    cursor = EventCursor(stream="evs_a", seq=2)
    assert cursor.opened(hello()) is False
    assert not cursor.take(received(2, "old")), "handled before the reconnect"
    assert cursor.take(received(3, "gone"))
    assert not cursor.should_fire(received(3, "gone"), ["waits"]), "decided meanwhile"
    assert cursor.take(received(4, "waits"))
    assert cursor.should_fire(received(4, "waits"), ["waits"])
    assert not cursor.should_fire(received(4, "waits"), ["waits"]), "once"
    assert cursor.take({"type": "share_started", "seq": 5})
    assert cursor.should_fire({"type": "share_started", "seq": 5}, [])
    assert cursor.query() == (5, "evs_a")


def test_a_gap_or_another_run_starts_the_numbers_again() -> None:
    cursor = EventCursor(stream="evs_a", seq=40)
    assert cursor.opened(hello("evs_b", 3)) is True
    assert cursor.query() == (0, "evs_b")
    assert cursor.take(received(1, "r1"))
    assert not cursor.should_fire(received(1, "r1"), ["r1"]), "the state announces after a gap"
    again = EventCursor(stream="evs_a", seq=4)
    assert again.opened(hello(gap=True)) is True


def test_announced_requests_are_bounded_newest_kept() -> None:
    cursor = EventCursor()
    for n in range(ANNOUNCED_KEPT + 5):
        assert cursor.announce(f"r{n}")
    assert len(cursor.announced) == ANNOUNCED_KEPT
    assert cursor.announced[-1] == f"r{ANNOUNCED_KEPT + 4}"
    assert not cursor.announce(f"r{ANNOUNCED_KEPT + 4}")
    assert not cursor.announce("")


def test_the_stored_shape_round_trips_and_junk_is_a_fresh_cursor() -> None:
    cursor = EventCursor(stream="evs_a", seq=9, announced=["r1"])
    assert EventCursor.from_json(cursor.to_json()) == cursor
    assert cursor.to_json() == {"stream": "evs_a", "seq": 9, "announced": ["r1"]}


@pytest.mark.parametrize(
    "raw",
    [None, "junk", {"seq": -1}, {"seq": True}, {"seq": "9"}, {"stream": 3, "announced": "r1"}],
)
def test_an_unreadable_stored_cursor_is_a_fresh_one(raw: Any) -> None:
    cursor = EventCursor.from_json(raw)
    assert (cursor.seq, cursor.announced) == (0, [])
    assert cursor.stream is None or isinstance(cursor.stream, str)


def test_pending_ids_come_from_the_state_in_its_order() -> None:
    state = {"pending_requests": [{"request_id": "b"}, {"request_id": "a"}, "junk", {}]}
    assert pending_ids(state) == ["b", "a"]
    assert pending_ids(None) == []
