"""Bus events and the book of requests behind them (custom_components/rtcc_share/bus_events.py)."""

from __future__ import annotations

import pytest

from custom_components.rtcc_share.bus_events import (
    RequestBook,
    city_event_type,
    event_camera_ids,
    event_data,
)


def test_the_request_book_forgets_the_oldest_first() -> None:
    book = RequestBook(limit=3)
    for n in range(5):
        book.remember({"request_id": f"r{n}", "agency": "jpd"})
    assert len(book) == 3
    assert book.get("r0") == {}
    assert book.get("r1") == {}
    assert book.get("r4")["agency"] == "jpd"


def test_a_refreshed_request_counts_as_new() -> None:
    book = RequestBook(limit=2)
    book.remember({"request_id": "old"})
    book.remember({"request_id": "mid"})
    book.remember({"request_id": "old", "status": "approved"})
    book.remember({"request_id": "new"})
    assert book.get("mid") == {}
    assert book.get("old") == {"request_id": "old", "status": "approved"}


def test_pending_requests_of_a_state_are_remembered() -> None:
    book = RequestBook()
    book.remember_state({"pending_requests": [{"request_id": "r1", "offense": "burglary"}, "junk"]})
    book.remember({"no": "id"})
    assert len(book) == 1
    assert book.get("r1")["offense"] == "burglary"


def test_share_events_take_the_request_they_belong_to() -> None:
    request = {
        "request_id": "r1",
        "agency": "jpd",
        "incident_id": "I-1",
        "offense": "burglary",
        "reason": "break-in",
        "camera_ids": ["front", "garage"],
        "start": "now",
        "duration_s": 600,
    }
    event = {
        "type": "share_ended",
        "request_id": "r1",
        "camera_id": "front",
        "share_id": "s1",
        "reason": "window_end",
        "ends_at": "T",
        "token": "never-shown",
    }
    data = event_data(event, request, entry_id="e", gateway_id="g", entity_ids=["camera.front"])
    assert data["camera_ids"] == ["front"]
    assert data["cameras"] == ["camera.front"]
    assert (data["agency"], data["incident_id"], data["end_reason"]) == ("jpd", "I-1", "window_end")
    assert data["window"] == {"start": "now", "duration_s": 600, "starts_at": None, "ends_at": "T"}
    assert "token" not in data
    assert "never-shown" not in str(data)


def test_an_event_without_cameras_names_its_requests() -> None:
    assert event_camera_ids({}, {"camera_ids": ["a"]}) == ["a"]
    assert event_camera_ids({"camera_ids": ["b"]}, {"camera_ids": ["a"]}) == ["b"]


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        ({"type": "request_received"}, "received"),
        ({"type": "request_decided", "status": "approved"}, "approved"),
        ({"type": "request_decided", "status": "partially_approved"}, "approved"),
        ({"type": "request_decided", "status": "declined"}, "declined"),
        ({"type": "request_decided", "status": "ended"}, "declined"),
        ({"type": "request_decided", "status": "pending"}, None),
        ({"type": "share_started"}, "started"),
        ({"type": "share_ended"}, "ended"),
        ({"type": "viewer_connected"}, "viewer_connected"),
        ({"type": "viewer_disconnected"}, None),
        ({"type": "audit_head"}, None),
    ],
)
def test_city_request_event_types(event: dict[str, str], shown: str | None) -> None:
    assert city_event_type(event) == shown
