"""What each side sees of requests and shares: the city no reasons, the owner no sources."""

from __future__ import annotations

import json
from datetime import timedelta

from rtcc_gateway.policy import Reason, decide
from rtcc_gateway.shares.book import RequestState
from rtcc_gateway.shares.links import Links
from rtcc_gateway.shares.owner_policy import lease_end
from rtcc_gateway.shares.status import end_row, new_share
from rtcc_gateway.shares.views import city_ask, city_view, not_offered, owner_state
from rtcc_gateway.store import RequestRow

from .test_policy import ACROSS_TOWN, INCIDENT, NOW, ask, camera, state

LINKS = Links("rtsp://gw:8554", "https://gw", http_links=True)
BODY = {
    "incident_id": "inc-1",
    "offense": "burglary",
    "reason": "suspect seen",
    "location": {"lat": INCIDENT.lat, "lon": INCIDENT.lon},
    "radius_m": 300,
    "start": "2026-11-25T14:00:00Z",
}


def request_of(owner_cameras: tuple[str, ...] = ("front_door", "porch")) -> RequestState:
    owner = state(camera("front_door"), camera("porch", approval="ask"))
    decisions = decide(owner, ask(*owner_cameras), NOW)
    shares = [new_share("req_1", d, NOW, NOW, 300) for d in decisions]
    row = RequestRow(id="req_1", agency_id="cpd", created_at=NOW, body=BODY)
    return RequestState(row=row, agency_name="CPD", shares=shares)


def test_the_city_sees_links_for_live_shares_and_no_reasons() -> None:
    view = city_view(request_of(), LINKS)
    live, waiting = view["shares"]
    assert view["status"] == "pending"
    assert live["status"] == "live"
    assert set(live["links"]) == {"rtsp", "mp4", "hls"}
    assert waiting == {"share_id": waiting["share_id"], "camera_id": "porch", "status": "pending"}
    assert "reason" not in json.dumps(view)


def test_an_ended_share_keeps_its_window_but_loses_its_links() -> None:
    request = request_of(("front_door",))
    end_row(request.shares[0], Reason.REVOKED, NOW)
    (ended,) = city_view(request, LINKS)["shares"]
    assert ended["status"] == "ended"
    assert "links" not in ended
    assert ended["starts_at"] == "2026-11-25T14:00:00Z"


def test_the_owner_sees_every_camera_with_its_status_and_viewers_but_no_source() -> None:
    owner = state(camera("front_door"), camera("porch", approval="ask"), camera("yard"))
    request = request_of()
    live = request.shares[0]
    assert live.token is not None
    seen = owner_state(owner, [live], [request], {live.token: 2}, NOW)
    statuses = {c["id"]: (c["status"], c["viewers"]) for c in seen["cameras"]}
    assert statuses == {"front_door": ("live", 2), "porch": ("pending", 0), "yard": ("idle", 0)}
    assert seen["pending_requests"][0]["pending_camera_ids"] == ["porch"]
    assert seen["shares"][0]["viewers"] == 2
    assert "rtsp://user:pass" not in json.dumps(seen)


def test_the_owner_sees_when_the_lease_of_the_last_push_ends() -> None:
    owner = state(pushed_at=NOW, owner_lease_s=900)
    assert lease_end(owner) == NOW + timedelta(seconds=900)
    assert owner_state(owner, [], [], {}, NOW)["lease_ends_at"] == "2026-11-25T14:15:00Z"
    assert lease_end(state(pushed_at=None)) is None


def test_the_owners_log_says_why_cameras_were_left_out_of_an_open_request() -> None:
    owner = state(
        camera("front_door"), camera("far", location=ACROSS_TOWN), camera("off", consent=False)
    )
    decisions = decide(owner, ask(), NOW)
    assert not_offered(owner, ask(), decisions) == {"far": "outside_radius", "off": "consent_off"}
    assert not_offered(owner, ask("front_door"), decisions) == {}


def test_the_policy_decides_on_the_body_the_city_sent() -> None:
    asked = city_ask({**BODY, "camera_ids": ["porch"], "duration_s": 60}, NOW)
    assert (asked.camera_ids, asked.duration_s, asked.radius_m) == (("porch",), 60, 300)
    assert city_ask(BODY, NOW).camera_ids is None


def test_a_request_with_nothing_left_waiting_is_not_listed_as_pending() -> None:
    """It was decided a moment ago (the state must not fail on it: it once answered 500)."""
    owner = state(camera("front_door"), camera("porch", approval="ask"))
    request = request_of()
    for share in request.shares:
        end_row(share, Reason.OWNER_DENIED, NOW)
    seen = owner_state(owner, [], [request], {}, NOW)
    assert seen["pending_requests"] == []
