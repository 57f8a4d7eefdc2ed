"""The door's records for the owner are bounded per key, and say how many were held back."""

from __future__ import annotations

from typing import Any

from rtcc_gateway.door.rtsp.reports import PER_MINUTE, Reports


async def test_records_are_bounded_per_key_and_count_what_was_held_back() -> None:
    now = [0.0]
    written: list[tuple[str, dict[str, Any]]] = []

    async def sink(kind: str, detail: dict[str, Any]) -> None:
        written.append((kind, detail))

    reports = Reports(sink, clock=lambda: now[0])
    for i in range(PER_MINUTE + 5):
        await reports.report("share:a", "door_violation", {"n": i})
    await reports.report("share:b", "door_violation", {"n": "b"})
    assert len(written) == PER_MINUTE + 1, "share a is held to its budget; b has its own"
    now[0] = 60.0
    await reports.report("share:a", "door_violation", {"n": "later"})
    assert written[-1] == ("door_violation", {"n": "later", "suppressed_before": 5})
    assert reports.allow("camera:x", 1)
    assert not reports.allow("camera:x", 1)


async def test_without_an_audit_log_nothing_is_allowed() -> None:
    reports = Reports(None)
    assert not reports.allow("share:a")
    await reports.report("share:a", "door_violation", {})
