"""The share manager as the API and the app use it: a city request is decided per camera, stored,
recorded and streamed; only its agency may read or cancel it; a restart resumes what is still
live and closes what ended while down; camera sources become secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.audit import AuditLog
from rtcc_gateway.config import Agency
from rtcc_gateway.events import EventBus
from rtcc_gateway.policy import OwnerState
from rtcc_gateway.redact import Secrets
from rtcc_gateway.shares.book import MAX_PENDING_PER_AGENCY, NotFoundError, TooManyPendingError
from rtcc_gateway.shares.manager import ShareManager
from rtcc_gateway.shares.status import ShareStatus
from rtcc_gateway.storage_guard import StorageGuard, StorageUnavailableError
from rtcc_gateway.store import Store

from ..conftest import RecordingRestreamer
from .share_rig import HOME, INCIDENT, NOW, SetClock, camera, owner

JPD = Agency(id="jpd", name="JPD", public_key=b"", rate_limit_per_minute=60)
HCSO = Agency(id="hcso", name="HCSO", public_key=b"", rate_limit_per_minute=60)
BODY: dict[str, Any] = {**INCIDENT, "location": {"lat": HOME.lat, "lon": HOME.lon}, "radius_m": 300}
ASKING = replace(camera("porch"), approval="ask")


@dataclass
class Site:
    """One data folder, and managers started on it (a second one is a restart)."""

    store: Store
    audit: AuditLog
    guard: StorageGuard
    clock: SetClock
    make: Callable[[OwnerState], ShareManager]
    restreamers: list[RecordingRestreamer] = field(default_factory=list)
    secrets: list[Secrets] = field(default_factory=list)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    store = await Store.open(tmp_path)
    audit = AuditLog(store.conn)
    await audit.setup()
    clock = SetClock()
    guard = StorageGuard(tmp_path, lambda *_a, **_k: None, clock=lambda: 0.0, reserve_bytes=4096)
    assert await guard.ensure_reserve()

    def make(state: OwnerState) -> ShareManager:
        made.restreamers.append(RecordingRestreamer())
        made.secrets.append(Secrets())
        return ShareManager(
            store=store,
            audit=audit,
            events=EventBus(clock),
            restreamer=made.restreamers[-1],
            agencies={"jpd": JPD, "hcso": HCSO},
            owner=state,
            public_base_url="https://gw.example",
            rtsp_base_url="rtsp://gw.example:8554",
            http_links=False,
            guard=guard,
            secrets=made.secrets[-1],
            clock=clock,
        )

    made = Site(store, audit, guard, clock, make)
    yield made
    await store.close()


async def kinds(site: Site) -> list[str]:
    return [r.kind for r in await site.audit.records()]


async def test_a_request_for_an_auto_camera_is_live_at_once_on_the_record(site: Site) -> None:
    manager = site.make(owner(camera(), ASKING))
    state = await manager.submit(JPD, BODY)
    live, waiting = state.shares
    assert (live.status, waiting.status) == (ShareStatus.LIVE, ShareStatus.PENDING)
    assert manager.live_share(live.token or "") is live
    assert live.token in site.restreamers[-1].streams
    view = manager.city_view(state)
    assert view["status"] == "pending"
    assert view["shares"][0]["links"] == {"rtsp": f"rtsp://gw.example:8554/{live.token}"}
    assert await kinds(site) == [
        "request_received",
        "request_decided",
        "request_decided",
        "share_started",
    ]
    assert manager.owner_state({})["pending_requests"][0]["request_id"] == state.row.id


async def test_only_the_agency_that_asked_may_read_or_cancel_its_request(site: Site) -> None:
    manager = site.make(owner(camera()))
    state = await manager.submit(JPD, BODY)
    assert await manager.request_for(state.row.id, "jpd") is state
    with pytest.raises(NotFoundError):
        await manager.request_for(state.row.id, "hcso")
    with pytest.raises(NotFoundError):
        await manager.city_cancel(state.row.id, "hcso")
    assert state.shares[0].status == ShareStatus.LIVE


async def test_the_citys_cancel_ends_live_shares_and_declines_waiting_ones(site: Site) -> None:
    manager = site.make(owner(camera(), ASKING))
    state = await manager.submit(JPD, BODY)
    await manager.city_cancel(state.row.id, "jpd")
    await manager.city_cancel(state.row.id, "jpd")  # again: nothing more
    assert [(s.status, s.reason) for s in state.shares] == [
        (ShareStatus.ENDED, "city_cancelled"),
        (ShareStatus.DECLINED, "city_cancelled"),
    ]
    assert manager.live_share(state.shares[0].token or "") is None
    assert (await kinds(site)).count("share_ended") == 1


async def test_an_agency_with_too_many_requests_waiting_is_told_when_to_ask_again(
    site: Site,
) -> None:
    manager = site.make(owner(ASKING))
    for _ in range(MAX_PENDING_PER_AGENCY):
        await manager.submit(JPD, BODY)
    with pytest.raises(TooManyPendingError) as refused:
        await manager.submit(JPD, BODY)
    assert refused.value.limit == MAX_PENDING_PER_AGENCY
    assert refused.value.retry_after >= 1
    await manager.submit(HCSO, BODY)  # another agency still may


async def test_no_request_is_taken_while_its_ends_could_not_be_recorded(site: Site) -> None:
    manager = site.make(owner(camera()))
    site.guard.enter_failed(OSError(28, "No space left on device"))
    with pytest.raises(StorageUnavailableError):
        await manager.submit(JPD, BODY)
    assert await kinds(site) == []


async def test_a_restart_resumes_live_shares_and_closes_those_that_ended_while_down(
    site: Site,
) -> None:
    first = site.make(owner(camera(), camera("porch")))
    short = await first.submit(JPD, {**BODY, "camera_ids": ["porch"], "duration_s": 60})
    long = await first.submit(JPD, {**BODY, "camera_ids": ["front_door"]})
    site.clock.now = NOW + timedelta(seconds=120)  # the gateway was down meanwhile
    again = site.make(owner(camera(), camera("porch")))
    await again.load()
    (resumed,) = (await again.request_for(long.row.id, "jpd")).shares
    (closed,) = (await again.request_for(short.row.id, "jpd")).shares
    assert (resumed.status, closed.status, closed.reason) == ("live", "ended", "window_ended")
    streams = site.restreamers[-1]
    assert set(streams.streams) == {resumed.token}
    assert ("reconcile", {resumed.token}) in streams.calls
    ended = [r.detail for r in await site.audit.records() if r.kind == "share_ended"]
    assert [e["note"] for e in ended] == ["ended while the gateway was not running"]


async def test_a_pushed_policy_is_saved_and_its_sources_become_secrets(site: Site) -> None:
    manager = site.make(owner(camera()))
    renewed = replace(camera("porch"), source="rtsp://admin:s3cret@127.0.0.1/renewed")
    await manager.set_policy(manager.owner.policy, (camera(), renewed))
    assert renewed.source in site.secrets[-1]  # redacted from now on
    again = site.make(owner(camera()))
    await again.load()
    assert [c.id for c in again.owner.cameras] == ["front_door", "porch"]
    assert renewed.source in site.secrets[-1]  # and after a restart


async def test_the_city_is_offered_consenting_cameras_only(site: Site) -> None:
    manager = site.make(owner(camera(), camera("yard", consent=False)))
    assert [c.id for c in manager.offered_cameras()] == ["front_door"]
    assert manager.camera("yard") is not None
    assert manager.camera("attic") is None


async def test_the_timer_runs_between_start_and_stop(site: Site) -> None:
    manager = site.make(owner(camera()))
    manager.start()
    await manager.stop()
    await manager.stop()  # twice is fine
    assert manager.memory() == {
        "requests": 0,
        "shares": 0,
        "active": 0,
        "pending": 0,
        "deadlines": 0,
    }
