"""The owner document's parts on their own: a viewer now is what the registry reports (whole
seconds, UTC, one of the link formats), and the event replay is exactly what the event bus
answers, with a cursor the document describes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from rtcc_gateway.events import EVENT_TYPES, EventBus
from rtcc_gateway.openapi_owner_parts import (
    EVENT_REPLAY,
    EVENTS_PARAMETERS,
    EVENTS_SUMMARY,
    VIEWER_NOW,
    VIEWERS_NOW,
)
from rtcc_gateway.store import iso

CONNECTED = datetime(2026, 11, 25, 14, 0, 5, tzinfo=UTC)


def allowed(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema.Draft202012Validator(schema).is_valid(value))


def viewer(**changes: Any) -> dict[str, Any]:
    return {"viewer_id": "vwr_1", "connected_at": iso(CONNECTED), "via": "rtsp", **changes}


def test_a_viewer_now_is_who_since_when_and_through_which_link() -> None:
    assert allowed(VIEWER_NOW, viewer())
    assert all(allowed(VIEWER_NOW, viewer(via=via)) for via in ("rtsp", "mp4", "hls"))
    assert not allowed(VIEWER_NOW, viewer(via="webrtc"))
    assert not allowed(VIEWER_NOW, viewer(remote="203.0.113.9"))  # the owner's view names no IP
    assert not allowed(VIEWER_NOW, {"viewer_id": "vwr_1", "via": "rtsp"})


@pytest.mark.parametrize(
    "when", ["2026-11-25T14:00:05.120Z", "2026-11-25T08:00:05-06:00", "2026-11-25 14:00:05Z"]
)
def test_a_viewers_connect_time_is_whole_seconds_in_utc(when: str) -> None:
    assert not allowed(VIEWER_NOW, viewer(connected_at=when))


def test_the_viewers_now_are_a_list_of_them() -> None:
    assert allowed(VIEWERS_NOW, [])
    assert allowed(VIEWERS_NOW, [viewer(), viewer(viewer_id="vwr_2", via="hls")])
    assert not allowed(VIEWERS_NOW, [viewer(via="ftp")])


def replay_answer(bus: EventBus, after: int, stream: str | None = None) -> dict[str, Any]:
    """What GET /api/v1/events?after= answers (api/owner.py)."""
    replay = bus.replay(after, stream)
    return {**replay.hello(), "events": replay.events}


def test_the_replay_the_event_bus_answers_is_what_the_document_says() -> None:
    bus = EventBus(lambda: CONNECTED)
    assert allowed(EVENT_REPLAY, replay_answer(bus, 0))  # nothing yet: seq 0
    bus.publish("share_started", share_id="shr_1")
    bus.publish("share_ended", share_id="shr_1", reason="revoked")
    answer = replay_answer(bus, 1)
    assert (answer["seq"], answer["replayed"], answer["gap"]) == (2, 1, False)
    assert allowed(EVENT_REPLAY, answer)
    other_run = replay_answer(bus, 1, "evs_another_run")
    assert (other_run["gap"], other_run["replayed"]) == (True, 2)
    assert allowed(EVENT_REPLAY, other_run)


def test_a_replay_without_its_fields_or_with_more_is_not_the_documents() -> None:
    answer = replay_answer(EventBus(), 0)
    assert not allowed(EVENT_REPLAY, {**answer, "type": "hello"})
    assert not allowed(EVENT_REPLAY, {**answer, "secret": "x"})
    assert not allowed(EVENT_REPLAY, {k: v for k, v in answer.items() if k != "gap"})


def test_the_cursor_is_a_number_and_this_runs_stream_id() -> None:
    params = {p["name"]: p for p in EVENTS_PARAMETERS}
    assert set(params) == {"after", "stream"}
    assert all(p["in"] == "query" for p in params.values())
    assert params["after"]["schema"] == {"type": "integer", "minimum": 0}
    pattern = re.compile(params["stream"]["schema"]["pattern"])
    assert pattern.fullmatch(EventBus().stream)
    assert not pattern.fullmatch("evs_" + "a" * 33)
    assert not pattern.fullmatch("run_1")


def test_the_summary_names_every_event_type_the_bus_sends() -> None:
    for kind in EVENT_TYPES:
        assert kind in EVENTS_SUMMARY, kind
