"""The owner's transparency figures per agency: requests in memory plus those already let go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rtcc_gateway.store import AgencyTotals, RequestRow, ShareRow
from rtcc_gateway.transparency import Figures, report

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def share(
    status: str,
    token: str | None = None,
    *,
    live_s: int = 600,
    ended_after_s: int | None = None,
) -> ShareRow:
    starts = T0 if token else None
    return ShareRow(
        id=f"shr_{status}_{token}",
        request_id="req_1",
        camera_id="front",
        status=status,
        token=token,
        duration_s=live_s,
        cut=False,
        starts_at=starts,
        ends_at=T0 + timedelta(seconds=live_s) if token else None,
        ended_at=T0 + timedelta(seconds=ended_after_s) if ended_after_s is not None else None,
    )


def request(agency: str) -> RequestRow:
    return RequestRow(id="req_1", agency_id=agency, created_at=T0, body={})


def test_a_request_counts_its_approved_and_declined_shares() -> None:
    figures = Figures()
    shares = [share("live", "t1"), share("declined"), share("expired")]
    figures.add_request(shares, T0 + timedelta(seconds=60), {})
    assert (figures.requests, figures.approved, figures.declined) == (1, 1, 1)


def test_live_time_runs_to_now_the_end_or_the_early_end_whichever_is_first() -> None:
    now = T0 + timedelta(seconds=120)
    live = Figures()
    live.add_request([share("live", "t1")], now, {})
    assert live.seconds_live == 120, "still live: up to now"
    revoked = Figures()
    revoked.add_request([share("ended", "t1", ended_after_s=30)], now, {})
    assert revoked.seconds_live == 30, "ended early: up to the end"
    over = Figures()
    over.add_request([share("ended", "t1", live_s=60)], now, {})
    assert over.seconds_live == 60, "window over: its length"


def test_viewers_and_their_seconds_come_from_the_door_by_token() -> None:
    figures = Figures()
    figures.add_request([share("live", "t1"), share("live", "t2")], T0, {"t1": (2, 90.0)})
    assert (figures.viewers, figures.seconds_viewed) == (2, 90.0)


def test_the_report_lists_every_configured_agency_and_adds_the_archive() -> None:
    archive = {
        "jpd": Figures.from_totals(
            AgencyTotals(requests=4, approved=3, declined=1, seconds_live=600)
        ),
        "gone": Figures(requests=1),
    }
    recent = [(request("jpd"), "Jackson PD", [share("live", "t1")])]
    body = report(
        {"jpd": "Jackson PD", "fire": "Fire Dept"},
        archive,
        recent,
        T0 + timedelta(seconds=300),
        {"t1": (1, 150.0)},
    )
    assert body == {
        "agencies": [
            {
                "agency": "fire",
                "name": "Fire Dept",
                "requests": 0,
                "approved": 0,
                "declined": 0,
                "minutes_live": 0.0,
                "minutes_viewed": 0.0,
                "viewers": 0,
            },
            {
                "agency": "gone",
                "name": "gone",
                "requests": 1,
                "approved": 0,
                "declined": 0,
                "minutes_live": 0.0,
                "minutes_viewed": 0.0,
                "viewers": 0,
            },
            {
                "agency": "jpd",
                "name": "Jackson PD",
                "requests": 5,
                "approved": 4,
                "declined": 1,
                "minutes_live": 15.0,
                "minutes_viewed": 2.5,
                "viewers": 1,
            },
        ]
    }
