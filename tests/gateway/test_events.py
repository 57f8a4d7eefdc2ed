"""The owner's event stream: numbered, stamped by the gateway's clock, never blocked by a reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rtcc_gateway.events import HELD, QUEUE_SIZE, EventBus

T0 = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_events_are_numbered_and_stamped_by_the_injected_clock_in_the_audit_format() -> None:
    now = [T0]
    bus = EventBus(lambda: now[0])
    first = bus.publish("policy_stale", since=None)
    now[0] += timedelta(seconds=1)
    second = bus.publish("audit_head", head=None)
    assert (first["seq"], first["ts"], first["type"]) == (
        1,
        "2026-05-01T12:00:00.123Z",
        "policy_stale",
    )
    assert (second["seq"], second["ts"]) == (2, "2026-05-01T12:00:01.123Z")


def test_every_subscriber_gets_every_event_until_it_unsubscribes() -> None:
    bus = EventBus(lambda: T0)
    one, two = bus.subscribe(), bus.subscribe()
    bus.publish("storage_failed")
    bus.unsubscribe(two)
    bus.publish("storage_recovered")
    assert [one.get_nowait()["type"], one.get_nowait()["type"]] == [
        "storage_failed",
        "storage_recovered",
    ]
    assert two.get_nowait()["type"] == "storage_failed"
    assert two.empty()


def test_a_subscriber_too_far_behind_is_dropped_with_a_goodbye_and_the_rest_go_on() -> None:
    bus = EventBus(lambda: T0)
    slow, fast = bus.subscribe(), bus.subscribe()
    for n in range(QUEUE_SIZE):
        bus.publish("audit_head", head={"seq": n})
        fast.get_nowait()
    bus.publish("audit_head", head={"seq": QUEUE_SIZE})  # one more than the slow one can hold
    assert fast.get_nowait()["seq"] == QUEUE_SIZE + 1
    items = [slow.get_nowait() for _ in range(slow.qsize())]
    assert items[-1] is None, "the last thing a dropped subscriber reads says: re-read the state"
    bus.publish("audit_head", head=None)
    assert slow.empty()


def test_closing_tells_every_subscriber_the_stream_ends() -> None:
    bus = EventBus(lambda: T0)
    queue = bus.subscribe()
    bus.close()
    assert queue.get_nowait() is None


def test_the_held_events_after_a_cursor_are_replayed_with_no_gap() -> None:
    bus = EventBus(lambda: T0)
    for n in range(5):
        bus.publish("audit_head", head={"seq": n})
    replay = bus.replay(3, bus.stream)
    assert [e["seq"] for e in replay.events] == [4, 5]
    assert (replay.stream, replay.seq, replay.gap) == (bus.stream, 5, False)
    assert bus.replay(5).events == []
    assert bus.replay(5).gap is False
    assert [e["seq"] for e in bus.replay(0).events] == [1, 2, 3, 4, 5]


def test_a_cursor_older_than_what_is_held_says_gap_and_replays_all_held() -> None:
    bus = EventBus(lambda: T0)
    for _ in range(HELD + 10):
        bus.publish("policy_stale", since=None)
    replay = bus.replay(5, bus.stream)
    assert replay.gap is True
    assert [e["seq"] for e in replay.events] == list(range(11, HELD + 11))
    assert bus.replay(10).gap is False, "event 11 is the oldest held: nothing after 10 is lost"


def test_a_cursor_of_another_run_says_gap_and_replays_this_runs_events() -> None:
    before, bus = EventBus(lambda: T0), EventBus(lambda: T0)
    assert before.stream != bus.stream, "each run numbers its own stream"
    bus.publish("storage_failed")
    bus.publish("storage_recovered")
    for replay in (bus.replay(1, before.stream), bus.replay(7)):  # named, or a number not reached
        assert replay.gap is True
        assert [e["seq"] for e in replay.events] == [1, 2]
    assert EventBus(lambda: T0).replay(0).gap is False, "nothing happened yet: nothing lost"


def test_a_subscriber_with_a_replay_reads_the_hello_then_the_replay_then_live_events() -> None:
    bus = EventBus(lambda: T0)
    bus.publish("storage_failed")
    bus.publish("storage_recovered")
    queue = bus.subscribe(bus.replay(1))
    bus.publish("policy_stale", since=None)
    hello = queue.get_nowait()
    assert hello == {"type": "replay", "stream": bus.stream, "seq": 2, "gap": False, "replayed": 1}
    assert [queue.get_nowait()["seq"], queue.get_nowait()["seq"]] == [2, 3]
    assert queue.empty()
