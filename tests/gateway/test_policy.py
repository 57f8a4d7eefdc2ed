"""Who may see what: default deny, the order of the owner's checks, radius and the duration cap."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rtcc_gateway.config import Camera, Location, Policy, PrivacyWindow
from rtcc_gateway.policy import (
    EARTH_RADIUS_M,
    CameraDecision,
    CityAsk,
    OwnerState,
    Reason,
    blocking_reason,
    decide,
    distance_m,
    is_paused,
    is_stale,
)

# Jackson, MS. The incident of CITY-API.md's example, and cameras around it.
INCIDENT = Location(32.2988, -90.1848)
NEAR = Location(32.2990, -90.1850)  # ~29 m away
BLOCK_AWAY = Location(32.3008, -90.1826)  # ~300 m away
ACROSS_TOWN = Location(32.3170, -90.1848)  # ~2 km away

# 2026-11-25 is a Wednesday; Chicago is on CST (UTC-6), so 14:00Z is 08:00 local.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
NIGHTS = (PrivacyWindow(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                        start=time(22, 0), end=time(7, 0)),)  # fmt: skip


def camera(
    camera_id: str = "front_door",
    *,
    location: Location = NEAR,
    consent: bool = True,
    approval: str = "auto",
    max_duration_s: int = 3600,
) -> Camera:
    return Camera(
        id=camera_id,
        label=camera_id.replace("_", " ").title(),
        source=f"rtsp://user:pass@192.168.1.20:554/{camera_id}",
        location=location,
        consent=consent,
        approval=approval,  # type: ignore[arg-type]
        max_duration_s=max_duration_s,
    )


def state(
    *cameras: Camera,
    paused: bool = False,
    paused_until: datetime | None = None,
    windows: tuple[PrivacyWindow, ...] = (),
    owner_lease_s: int = 900,
    pushed_at: datetime | None = None,
) -> OwnerState:
    policy = Policy(
        timezone="America/Chicago",
        paused=paused,
        paused_until=paused_until,
        privacy_windows=windows,
        owner_lease_s=owner_lease_s,
    )
    return OwnerState(policy=policy, cameras=cameras or (camera(),), pushed_at=pushed_at)


def ask(
    *camera_ids: str,
    radius_m: int = 300,
    start: datetime = NOW,
    duration_s: int | None = 900,
    location: Location = INCIDENT,
) -> CityAsk:
    return CityAsk(
        location=location,
        radius_m=radius_m,
        camera_ids=camera_ids or None,
        start=start,
        duration_s=duration_s,
    )


def only(decisions: list[CameraDecision]) -> CameraDecision:
    assert len(decisions) == 1
    return decisions[0]


# --- reasons -----------------------------------------------------------------------------------


def test_reasons_are_their_lowercase_names() -> None:
    assert {reason.name.lower() for reason in Reason} == {reason.value for reason in Reason}
    assert set(Reason) == {
        "consent_off",
        "paused",
        "privacy_window",
        "outside_radius",
        "stale_policy",
        "unknown_camera",
        "owner_denied",
        "approval_timeout",
        "revoked",
        "window_ended",
        "city_cancelled",
    }
    assert f"{Reason.PRIVACY_WINDOW}" == "privacy_window"  # written as-is to the audit log


# --- distance ----------------------------------------------------------------------------------


def wgs84_local_distance(a: Location, b: Location) -> float:
    """Short distances on the WGS84 ellipsoid (metres per degree at the mean latitude)."""
    phi = math.radians((a.lat + b.lat) / 2)
    per_deg_lat = 111_132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    per_deg_lon = 111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    return math.hypot((b.lat - a.lat) * per_deg_lat, (b.lon - a.lon) * per_deg_lon)


@pytest.mark.parametrize(
    ("other", "about_m"),
    [(NEAR, 29), (BLOCK_AWAY, 300), (ACROSS_TOWN, 2020)],
    ids=["next door", "a block away", "across town"],
)
def test_distance_matches_the_ellipsoid_within_one_percent(other: Location, about_m: int) -> None:
    measured = distance_m(INCIDENT, other)
    assert measured == pytest.approx(wgs84_local_distance(INCIDENT, other), rel=0.01)
    assert measured == pytest.approx(about_m, rel=0.05)


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    assert distance_m(INCIDENT, INCIDENT) == 0
    assert distance_m(INCIDENT, BLOCK_AWAY) == pytest.approx(distance_m(BLOCK_AWAY, INCIDENT))


def test_distance_to_the_antipode_is_half_the_circumference() -> None:
    antipode = Location(-INCIDENT.lat, INCIDENT.lon + 180)
    assert distance_m(INCIDENT, antipode) == pytest.approx(math.pi * EARTH_RADIUS_M)


# --- pause -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paused", "paused_until", "expected"),
    [
        pytest.param(False, None, False, id="not paused"),
        pytest.param(False, NOW + timedelta(hours=1), False, id="until without the switch"),
        pytest.param(True, None, True, id="paused until further notice"),
        pytest.param(True, NOW + timedelta(seconds=1), True, id="until the future"),
        pytest.param(True, NOW, False, id="until now: resumed"),
        pytest.param(True, NOW - timedelta(minutes=5), False, id="until the past: resumed"),
    ],
)
def test_pause(paused: bool, paused_until: datetime | None, expected: bool) -> None:
    policy = Policy(timezone="America/Chicago", paused=paused, paused_until=paused_until)
    assert is_paused(policy, NOW) is expected


# --- owner lease -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner_lease_s", "pushed_at", "expected"),
    [
        pytest.param(900, None, False, id="from the file: never stale"),
        pytest.param(900, NOW - timedelta(seconds=60), False, id="fresh"),
        pytest.param(900, NOW - timedelta(seconds=900), False, id="exactly the lease: fresh"),
        pytest.param(900, NOW - timedelta(seconds=901), True, id="past the lease: stale"),
        pytest.param(900, NOW - timedelta(days=3650), True, id="pushed long ago: stale"),
        pytest.param(0, NOW - timedelta(days=3650), False, id="lease 0: no lease"),
    ],
)
def test_owner_lease(owner_lease_s: int, pushed_at: datetime | None, expected: bool) -> None:
    s = state(owner_lease_s=owner_lease_s, pushed_at=pushed_at)
    assert is_stale(s, NOW) is expected


def test_a_policy_from_the_file_never_goes_stale() -> None:
    s = state(pushed_at=None)
    assert not is_stale(s, NOW + timedelta(days=3650))
    assert only(decide(s, ask(), NOW + timedelta(days=3650))).outcome == "approve"


# --- decide: what is offered -------------------------------------------------------------------


def test_an_auto_camera_in_reach_is_approved() -> None:
    assert decide(state(), ask(), NOW) == [
        CameraDecision("front_door", "approve", None, duration_s=900, cut=False)
    ]


def test_an_ask_camera_waits_for_the_owner() -> None:
    decision = only(decide(state(camera(approval="ask")), ask(), NOW))
    assert (decision.outcome, decision.reason, decision.duration_s) == ("ask", None, 900)


def test_by_default_only_consenting_cameras_within_the_radius_are_offered() -> None:
    s = state(
        camera("front_door"),
        camera("porch", consent=False),
        camera("garage", location=BLOCK_AWAY, approval="ask"),
        camera("shop", location=ACROSS_TOWN),
    )
    decisions = decide(s, ask(radius_m=500), NOW)
    assert [(d.camera_id, d.outcome) for d in decisions] == [
        ("front_door", "approve"),
        ("garage", "ask"),
    ]


def test_no_camera_within_the_radius_means_an_empty_answer() -> None:
    s = state(camera("shop", location=ACROSS_TOWN), camera("porch", consent=False))
    assert decide(s, ask(), NOW) == []


@pytest.mark.parametrize(
    ("radius_m", "offered"),
    [(20, []), (250, ["front_door"]), (350, ["front_door", "garage"])],
)
def test_the_radius_decides_what_is_offered(radius_m: int, offered: list[str]) -> None:
    s = state(camera("front_door"), camera("garage", location=BLOCK_AWAY))
    assert [d.camera_id for d in decide(s, ask(radius_m=radius_m), NOW)] == offered


def test_a_camera_exactly_on_the_radius_is_within_it() -> None:
    # On the equator a longitude offset of r/R radians is exactly r metres, even in floating point.
    origin = Location(0.0, 0.0)
    edge = Location(0.0, math.degrees(300 / EARTH_RADIUS_M))
    assert distance_m(origin, edge) == 300.0
    s = state(camera("buoy", location=edge))
    assert only(decide(s, ask(radius_m=300, location=origin), NOW)).outcome == "approve"
    assert decide(s, ask(radius_m=299, location=origin), NOW) == []
    assert only(decide(s, ask("buoy", radius_m=299, location=origin), NOW)).reason is (
        Reason.OUTSIDE_RADIUS
    )


def test_offered_cameras_that_are_blocked_are_declined_not_hidden() -> None:
    # The city's camera list shows consenting cameras whatever the schedule; so does the answer.
    decision = only(decide(state(paused=True), ask(), NOW))
    assert (decision.outcome, decision.reason) == ("decline", Reason.PAUSED)


# --- decide: named cameras ---------------------------------------------------------------------


def test_named_cameras_get_one_decision_each_in_the_order_asked_without_repeats() -> None:
    s = state(camera("front_door"), camera("garage", location=BLOCK_AWAY, approval="ask"))
    decisions = decide(s, ask("garage", "nope", "front_door", "garage", radius_m=500), NOW)
    assert [(d.camera_id, d.outcome, d.reason) for d in decisions] == [
        ("garage", "ask", None),
        ("nope", "decline", Reason.UNKNOWN_CAMERA),
        ("front_door", "approve", None),
    ]


@pytest.mark.parametrize(
    ("s", "the_ask", "reason"),
    [
        pytest.param(state(), ask("back_door"), Reason.UNKNOWN_CAMERA, id="unknown_camera"),
        pytest.param(
            state(camera(consent=False)), ask("front_door"), Reason.CONSENT_OFF, id="consent_off"
        ),
        pytest.param(
            state(pushed_at=NOW - timedelta(hours=1)),
            ask("front_door"),
            Reason.STALE_POLICY,
            id="stale_policy",
        ),
        pytest.param(state(paused=True), ask("front_door"), Reason.PAUSED, id="paused"),
        pytest.param(
            state(paused=True, paused_until=NOW + timedelta(hours=2)),
            ask("front_door"),
            Reason.PAUSED,
            id="paused until later",
        ),
        pytest.param(
            state(windows=NIGHTS),
            ask("front_door", start=NOW + timedelta(hours=15)),  # 23:00 local: inside
            Reason.PRIVACY_WINDOW,
            id="privacy_window",
        ),
        pytest.param(
            state(camera(location=ACROSS_TOWN)),
            ask("front_door"),
            Reason.OUTSIDE_RADIUS,
            id="outside_radius",
        ),
    ],
)
def test_every_decline_reason(s: OwnerState, the_ask: CityAsk, reason: Reason) -> None:
    assert the_ask.camera_ids is not None
    assert decide(s, the_ask, NOW) == [
        CameraDecision(the_ask.camera_ids[0], "decline", reason, duration_s=0, cut=False)
    ]


def test_a_paused_until_in_the_past_shares_again() -> None:
    s = state(paused=True, paused_until=NOW - timedelta(seconds=1))
    assert only(decide(s, ask("front_door"), NOW)).outcome == "approve"


def test_a_fresh_push_shares() -> None:
    s = state(pushed_at=NOW - timedelta(minutes=10))
    assert only(decide(s, ask("front_door"), NOW)).outcome == "approve"


def test_a_lease_of_zero_never_goes_stale() -> None:
    s = state(owner_lease_s=0, pushed_at=NOW - timedelta(days=30))
    assert only(decide(s, ask("front_door"), NOW)).outcome == "approve"


# --- decide: the order of checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "reason"),
    [
        pytest.param(
            state(
                camera(consent=False, location=ACROSS_TOWN),
                paused=True,
                windows=NIGHTS,
                pushed_at=NOW - timedelta(days=1),
            ),
            Reason.CONSENT_OFF,
            id="consent before everything",
        ),
        pytest.param(
            state(
                camera(location=ACROSS_TOWN),
                paused=True,
                windows=NIGHTS,
                pushed_at=NOW - timedelta(days=1),
            ),
            Reason.STALE_POLICY,
            id="stale before pause",
        ),
        pytest.param(
            state(camera(location=ACROSS_TOWN), paused=True, windows=NIGHTS),
            Reason.PAUSED,
            id="pause before privacy window",
        ),
        pytest.param(
            state(camera(location=ACROSS_TOWN), windows=NIGHTS),
            Reason.PRIVACY_WINDOW,
            id="privacy window before radius",
        ),
        pytest.param(
            state(camera(location=ACROSS_TOWN, approval="ask")),
            Reason.OUTSIDE_RADIUS,
            id="radius before approval mode",
        ),
    ],
)
def test_checks_run_in_order(s: OwnerState, reason: Reason) -> None:
    night = NOW - timedelta(hours=2)  # 06:00 local, inside NIGHTS
    assert only(decide(s, ask("front_door", start=night), night)).reason is reason


# --- decide: the privacy window is read when the share would start -------------------------------


@pytest.mark.parametrize(
    ("now", "start", "outcome"),
    [
        pytest.param(NOW, NOW, "approve", id="now, daytime"),
        pytest.param(NOW, NOW + timedelta(hours=15), "decline", id="now for tonight 23:00"),
        pytest.param(
            NOW - timedelta(hours=2), NOW + timedelta(hours=1), "approve", id="asked at night for 09:00"
        ),
        pytest.param(
            NOW - timedelta(hours=2), NOW - timedelta(hours=2), "decline", id="asked at night for now"
        ),
        pytest.param(
            NOW, NOW - timedelta(hours=2), "approve", id="a start in the past counts as now"
        ),
    ],
)  # fmt: skip
def test_the_privacy_window_is_read_at_the_start_of_the_share(
    now: datetime, start: datetime, outcome: str
) -> None:
    decision = only(decide(state(windows=NIGHTS), ask("front_door", start=start), now))
    assert decision.outcome == outcome
    if outcome == "decline":
        assert decision.reason is Reason.PRIVACY_WINDOW


def test_the_privacy_window_is_read_in_the_owners_timezone() -> None:
    # 22:00 Chicago is 04:00Z the next day: a window there is not a window in UTC.
    ten_pm = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    assert only(decide(state(windows=NIGHTS), ask(start=ten_pm), ten_pm)).outcome == "decline"
    nine_pm = ten_pm - timedelta(seconds=1)
    assert only(decide(state(windows=NIGHTS), ask(start=nine_pm), nine_pm)).outcome == "approve"


# --- decide: duration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "max_duration_s", "duration_s", "cut"),
    [
        pytest.param(None, 3600, 3600, False, id="none asked: the camera's maximum"),
        pytest.param(None, 600, 600, False, id="none asked, short maximum"),
        pytest.param(900, 3600, 900, False, id="less than the maximum"),
        pytest.param(3600, 3600, 3600, False, id="exactly the maximum"),
        pytest.param(7200, 3600, 3600, True, id="more: cut"),
        pytest.param(43200, 60, 60, True, id="the longest ask, the shortest maximum"),
    ],
)
@pytest.mark.parametrize("approval", ["auto", "ask"])
def test_duration_is_capped_by_the_owner(
    asked: int | None, max_duration_s: int, duration_s: int, cut: bool, approval: str
) -> None:
    s = state(camera(max_duration_s=max_duration_s, approval=approval))
    decision = only(decide(s, ask(duration_s=asked), NOW))
    assert (decision.duration_s, decision.cut) == (duration_s, cut)


def test_a_decline_has_no_duration_even_when_the_ask_was_too_long() -> None:
    s = state(camera(max_duration_s=600), paused=True)
    decision = only(decide(s, ask(duration_s=7200), NOW))
    assert (decision.outcome, decision.duration_s, decision.cut) == ("decline", 0, False)


def test_each_camera_gets_its_own_cap() -> None:
    s = state(camera("front_door", max_duration_s=600), camera("side", max_duration_s=7200))
    decisions = decide(s, ask(duration_s=3600), NOW)
    assert [(d.camera_id, d.duration_s, d.cut) for d in decisions] == [
        ("front_door", 600, True),
        ("side", 3600, False),
    ]


# --- blocking_reason ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "camera_id", "reason"),
    [
        pytest.param(state(), "front_door", None, id="nothing blocks"),
        pytest.param(
            state(camera(location=ACROSS_TOWN)), "front_door", None, id="radius no matter"
        ),
        pytest.param(state(), "gone", Reason.UNKNOWN_CAMERA, id="camera removed"),
        pytest.param(state(camera(consent=False)), "front_door", Reason.CONSENT_OFF, id="consent"),
        pytest.param(
            state(pushed_at=NOW - timedelta(hours=1)), "front_door", Reason.STALE_POLICY, id="stale"
        ),
        pytest.param(state(paused=True), "front_door", Reason.PAUSED, id="paused"),
        pytest.param(
            state(paused=True, paused_until=NOW - timedelta(seconds=1)),
            "front_door",
            None,
            id="pause ran out",
        ),
        pytest.param(state(windows=NIGHTS), "front_door", None, id="daytime"),
    ],
)
def test_blocking_reason(s: OwnerState, camera_id: str, reason: Reason | None) -> None:
    assert blocking_reason(s, camera_id, NOW) is reason


def test_a_privacy_window_blocks_from_its_first_instant() -> None:
    ten_pm = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    s = state(windows=NIGHTS)
    assert blocking_reason(s, "front_door", ten_pm - timedelta(microseconds=1)) is None
    assert blocking_reason(s, "front_door", ten_pm) is Reason.PRIVACY_WINDOW


def test_a_share_outlives_a_fresh_push_but_not_a_stale_one() -> None:
    s = state(pushed_at=NOW)
    assert blocking_reason(s, "front_door", NOW + timedelta(seconds=900)) is None
    assert blocking_reason(s, "front_door", NOW + timedelta(seconds=901)) is Reason.STALE_POLICY


# --- properties --------------------------------------------------------------------------------

locations = st.builds(
    Location,
    st.floats(32.28, 32.32, allow_nan=False),
    st.floats(-90.21, -90.16, allow_nan=False),
)
cameras = st.builds(
    camera,
    camera_id=st.sampled_from(["front_door", "garage", "porch", "yard"]),
    location=locations,
    consent=st.booleans(),
    approval=st.sampled_from(["ask", "auto"]),
    max_duration_s=st.integers(60, 43200),
)
asks = st.builds(
    CityAsk,
    location=locations,
    radius_m=st.integers(1, 1000),
    camera_ids=st.none() | st.lists(st.sampled_from(["front_door", "garage", "x"])).map(tuple),
    start=st.sampled_from([NOW, NOW + timedelta(hours=15)]),
    duration_s=st.none() | st.integers(60, 43200),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(cameras, max_size=4, unique_by=lambda c: c.id).map(tuple),
    asks,
    st.booleans(),
    st.booleans(),
)
def test_nothing_is_ever_approved_against_the_owner(
    cams: tuple[Camera, ...], the_ask: CityAsk, paused: bool, nights: bool
) -> None:
    s = replace(state(*cams, paused=paused, windows=NIGHTS if nights else ()), cameras=cams)
    by_id = {c.id: c for c in cams}
    for d in decide(s, the_ask, NOW):
        cam = by_id.get(d.camera_id)
        if d.outcome == "decline":
            assert d.reason is not None
            assert (d.duration_s, d.cut) == (0, False)
            continue
        assert cam is not None
        assert cam.consent
        assert not paused
        assert not (nights and the_ask.start != NOW)  # the later start is 23:00 local
        assert distance_m(cam.location, the_ask.location) <= the_ask.radius_m
        assert d.outcome == ("approve" if cam.approval == "auto" else "ask")
        assert d.reason is None
        assert 0 < d.duration_s <= cam.max_duration_s
        assert d.duration_s <= (the_ask.duration_s or cam.max_duration_s)
