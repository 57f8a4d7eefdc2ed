"""Rule 2: city input never becomes a restreamer source or stream name (a property test)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import CAMERA_SOURCE
from .conftest import HarnessFactory

HOSTILE = st.sampled_from(
    [
        "exec:ffmpeg -i x -f rtsp {output}",
        "echo:/bin/sh",
        "expr:1+1",
        "rtsp://attacker.example/steal",
        "front_door",
        "../../etc/passwd",
        "front_door#exec:id",
        "ffmpeg:rtsp://x#video=copy",
    ]
)
TEXT = st.one_of(HOSTILE, st.text(min_size=1, max_size=64))

BODIES = st.fixed_dictionaries(
    {
        "incident_id": st.one_of(HOSTILE, st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)),
        "offense": TEXT,
        "reason": TEXT,
        "location": st.fixed_dictionaries(
            {"lat": st.floats(32.29, 32.31), "lon": st.floats(-90.19, -90.18)}
        ),
    },
    optional={
        "camera_ids": st.lists(
            st.one_of(HOSTILE, st.just("front_door"), TEXT), min_size=1, max_size=4
        ),
        "radius_m": st.integers(1, 1000),
        "duration_s": st.integers(60, 43200),
        "extra": TEXT,
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES)
async def test_no_city_field_ever_reaches_a_source(
    auto_harness: HarnessFactory, body: dict[str, Any]
) -> None:
    h = await auto_harness()
    answer = await h.city.call("POST", "/api/v1/requests", body)
    assert answer.status in (201, 400), answer.body
    city_text = json.dumps(body)
    for call, spec in h.restreamer.calls:
        if call != "add":
            continue
        assert spec.source == CAMERA_SOURCE
        assert spec.token not in city_text
        assert len(spec.token) >= 22
    await h.gateway.stop()


async def test_a_hostile_request_still_streams_only_the_registry_camera(
    auto_harness: HarnessFactory,
) -> None:
    h = await auto_harness()
    body = {
        "incident_id": "exec:id",
        "offense": "rtsp://attacker.example/steal",
        "reason": "echo:/bin/sh",
        "location": {"lat": 32.2988, "lon": -90.1848},
        "camera_ids": ["front_door", "exec:ffmpeg -i x", "rtsp://attacker.example/x"],
    }
    answer = await h.city.call("POST", "/api/v1/requests", body)
    assert answer.status == 201
    assert [s["status"] for s in answer.body["shares"]] == ["live", "declined", "declined"]
    adds = [spec for call, spec in h.restreamer.calls if call == "add"]
    assert [spec.source for spec in adds] == [CAMERA_SOURCE]
