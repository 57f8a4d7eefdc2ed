"""The share timer's heap: due keys in order, replaced and cancelled deadlines skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rtcc_gateway.deadlines import DeadlineHeap

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_due_keys_come_out_in_order_and_only_once() -> None:
    heap: DeadlineHeap[str] = DeadlineHeap()
    heap.set("b", at(2))
    heap.set("a", at(1))
    heap.set("c", at(3))
    assert heap.next() == at(1)
    assert heap.due(at(2)) == ["a", "b"]
    assert heap.due(at(2)) == []
    assert heap.next() == at(3)
    assert len(heap) == 1


def test_a_replaced_or_cancelled_deadline_never_fires() -> None:
    heap: DeadlineHeap[str] = DeadlineHeap()
    heap.set("moved", at(1))
    heap.set("moved", at(10))
    heap.set("gone", at(2))
    heap.cancel("gone")
    assert heap.next() == at(10)
    assert heap.due(at(5)) == []
    assert heap.due(at(10)) == ["moved"]
    assert "moved" not in heap


def test_stale_entries_do_not_pile_up() -> None:
    heap: DeadlineHeap[int] = DeadlineHeap()
    for round_ in range(50):
        for key in range(100):
            heap.set(key, at(round_ * 100 + key))
    assert len(heap) == 100
    assert len(heap._heap) <= max(256, 2 * 100) + 1  # the point of the test
    assert heap.due(at(10**6)) == list(range(100))
