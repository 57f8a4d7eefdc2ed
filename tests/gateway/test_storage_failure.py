"""A full disk never brings a revoked link back.

A revoke on a full data folder once answered 500, cut the viewer in memory only, and after the
disk was freed and the gateway restarted the link played again until `ends_at`. Now the end is
written with space kept in reserve; when even that is not enough the gateway cuts every share and
refuses new ones (503) until the records are written, and tells the owner once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.storage_guard import RESERVE_FILE

from ..conftest import Clock, RecordingRestreamer
from .conftest import Harness, HarnessFactory, incident, sharing_config
from .fs import fill, mounted_tmpfs


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "disk", size_kib=16 * 1024) as mount:
        yield mount


def on_disk(config: dict[str, Any], disk: Path) -> dict[str, Any]:
    config["data_dir"] = str(disk / "data")
    config["agencies"][0]["rate_limit_per_minute"] = 1000
    return sharing_config(config, approval="auto")


async def live_share(h: Harness) -> tuple[str, str]:
    answer = await h.city.call("POST", "/api/v1/requests", incident())
    assert answer.status == 201, answer.body
    share = answer.body["shares"][0]
    return share["share_id"], share["links"]["rtsp"].rsplit("/", 1)[1]


async def next_event(queue: asyncio.Queue[Any], kind: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            event = await queue.get()
            if event is not None and event["type"] == kind:
                return dict(event)


async def test_a_revoke_on_a_full_disk_is_recorded_and_never_comes_back(
    harness_factory: HarnessFactory, config_dict: dict[str, Any], disk: Path
) -> None:
    config = on_disk(config_dict, disk)
    h = await harness_factory(config)
    share_id, token = await live_share(h)
    reserve = disk / "data" / RESERVE_FILE
    assert reserve.stat().st_size > 0
    filler = fill(disk)

    revoked = await h.owner.call("POST", f"/api/v1/shares/{share_id}/revoke")
    assert revoked.status == 200
    assert h.gateway.shares.live_share(token) is None
    ended = [r for r in await h.audit("share_ended") if r["detail"]["share_id"] == share_id]
    assert [r["detail"]["reason"] for r in ended] == ["revoked"]
    assert not reserve.exists(), "the reserve paid for the record"
    # No reserve, no new share: its end could not be promised.
    refused = await h.city.call("POST", "/api/v1/requests", incident())
    assert refused.status == 503
    assert refused.headers["Retry-After"]
    await h.gateway.stop()

    filler.unlink()
    again = await harness_factory(config, restreamer=RecordingRestreamer())
    assert again.gateway.shares.live_share(token) is None
    assert token not in again.restreamer.streams
    assert reserve.stat().st_size > 0, "the reserve is back"
    assert (await again.owner.call("GET", "/api/v1/audit/verify")).body["ok"] is True
    assert (await again.city.call("POST", "/api/v1/requests", incident())).status == 201


async def test_when_even_the_reserve_is_not_enough_every_share_is_cut_until_recorded(
    harness_factory: HarnessFactory,
    config_dict: dict[str, Any],
    disk: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = on_disk(config_dict, disk)
    clock = Clock()
    h = await harness_factory(config, clock=clock)
    events = h.gateway.events.subscribe()
    first_id, first_token = await live_share(h)
    second_id, second_token = await live_share(h)
    fillers = [fill(disk, "filler-1")]
    assert (await h.owner.call("POST", f"/api/v1/shares/{first_id}/revoke")).status == 200
    fillers.append(fill(disk, "filler-2"))  # what the reserve freed is taken again

    with caplog.at_level(logging.WARNING):
        cancelled = await h.owner.call("POST", "/api/v1/revoke", {"camera_id": "front_door"})
        assert cancelled.status in (200, 503)
        failed = await next_event(events, "storage_failed")
        assert failed["reason"]
        assert h.gateway.shares.live_share(second_token) is None
        assert h.gateway.storage.failed
        for _ in range(5):
            answer = await h.city.call("POST", "/api/v1/requests", incident())
            assert answer.status == 503
            assert answer.body["status"] == 503
        state = await h.owner.call("GET", "/api/v1/state")
        assert (state.status, state.body["shares"]) == (200, [])
    said = [r for r in caplog.records if "every share is cut" in r.getMessage()]
    assert len(said) == 1, "said once, not per request"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) <= 2, errors  # the mode, and one line for the 503s of the minute
    assert not any(r.exc_info for r in caplog.records), "no tracebacks"

    for filler in fillers:
        filler.unlink()
    recovered = await next_event(events, "storage_recovered")
    assert recovered["records_written"] >= 1
    assert not h.gateway.storage.failed
    ended = {r["detail"]["share_id"]: r["detail"]["reason"] for r in await h.audit("share_ended")}
    assert ended[first_id] == "revoked"
    assert ended[second_id] in ("revoked", "storage_failed")
    await h.gateway.stop()

    again = await harness_factory(config, clock=clock, restreamer=RecordingRestreamer())
    for token in (first_token, second_token):
        assert again.gateway.shares.live_share(token) is None
    assert again.restreamer.streams == {}
    assert (await again.owner.call("GET", "/api/v1/audit/verify")).body["ok"] is True
