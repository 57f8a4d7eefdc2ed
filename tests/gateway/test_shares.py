"""The share state machine and the memory that indexes it, without a gateway around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rtcc_gateway.policy import CameraDecision, Outcome, Reason
from rtcc_gateway.shares.book import (
    KEEP_ENDED,
    MAX_PENDING_PER_AGENCY,
    RequestState,
    ShareBook,
    TooManyPendingError,
)
from rtcc_gateway.shares.status import (
    ShareStatus,
    decline_row,
    end_row,
    go_live,
    is_final,
    new_share,
    request_status,
)
from rtcc_gateway.store import RequestRow, ShareRow

NOW = datetime(2026, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC)


def decision(
    outcome: Outcome, camera_id: str = "front_door", reason: Reason | None = None
) -> CameraDecision:
    return CameraDecision(
        camera_id=camera_id,
        outcome=outcome,
        reason=reason,
        duration_s=600,
        cut=False,
    )


def share(
    outcome: Outcome = "approve", start: datetime = NOW, camera_id: str = "front_door"
) -> ShareRow:
    return new_share("req_1", decision(outcome, camera_id), start, NOW, approval_timeout_s=300)


def request(*shares: ShareRow, agency_id: str = "cpd", request_id: str = "req_1") -> RequestState:
    row = RequestRow(id=request_id, agency_id=agency_id, created_at=NOW, body={})
    return RequestState(row=row, agency_name=agency_id.upper(), shares=list(shares))


def test_an_approved_share_is_live_now_with_a_whole_second_window_and_a_long_token() -> None:
    live = share("approve")
    assert live.status == ShareStatus.LIVE
    assert live.starts_at == NOW.replace(microsecond=0)
    assert live.ends_at == live.starts_at + timedelta(seconds=600)
    assert live.token is not None
    assert len(live.token) >= 32
    assert share("approve").token != live.token


def test_an_approved_share_asked_for_later_is_scheduled() -> None:
    later = share("approve", start=NOW + timedelta(hours=1))
    assert later.status == ShareStatus.SCHEDULED
    go_live(later)
    assert later.status == ShareStatus.LIVE


def test_a_share_that_asks_the_owner_waits_with_a_deadline_and_no_link() -> None:
    waiting = share("ask")
    assert (waiting.status, waiting.token) == (ShareStatus.PENDING, None)
    assert waiting.approve_by == NOW + timedelta(seconds=300)
    decline_row(waiting, Reason.APPROVAL_TIMEOUT)
    assert (waiting.status, waiting.reason, waiting.approve_by) == (
        ShareStatus.DECLINED,
        "approval_timeout",
        None,
    )


def test_a_declined_decision_keeps_its_reason() -> None:
    declined = new_share("req_1", decision("decline", reason=Reason.CONSENT_OFF), NOW, NOW, 300)
    assert (declined.status, declined.reason, declined.token) == ("declined", "consent_off", None)


def test_ending_says_whether_there_were_viewers_to_cut() -> None:
    live, scheduled = share("approve"), share("approve", start=NOW + timedelta(hours=1))
    assert end_row(live, Reason.REVOKED, NOW) is True
    assert end_row(scheduled, Reason.REVOKED, NOW) is False
    assert (live.status, live.reason, live.ended_at) == (ShareStatus.ENDED, "revoked", NOW)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ((), "declined"),
        (("decline",), "declined"),
        (("ask", "approve"), "pending"),
        (("approve", "approve"), "approved"),
        (("approve", "decline"), "partially_approved"),
    ],
)
def test_the_request_status_follows_its_shares(
    outcomes: tuple[Outcome, ...], expected: str
) -> None:
    assert request_status([share(o) for o in outcomes]) == expected


def test_a_request_whose_shares_all_ended_is_ended_and_final() -> None:
    live = share("approve")
    assert not is_final([live])
    end_row(live, Reason.WINDOW_ENDED, NOW)
    assert request_status([live]) == "ended"
    assert is_final([live])


def test_the_book_finds_a_live_share_by_its_token_until_its_window_ends() -> None:
    book = ShareBook()
    live = share("approve")
    assert live.token is not None
    assert live.ends_at is not None
    book.add(request(live), now=NOW)
    assert book.live_share(live.token, NOW) is live
    assert book.live_share(live.token + "x", NOW) is None
    assert book.live_share(live.token, live.ends_at) is None
    end_row(live, Reason.REVOKED, NOW)
    book.index(live)
    assert book.live_share(live.token, NOW) is None
    assert book.memory()["active"] == 0


def test_the_book_keeps_one_deadline_per_thing_due() -> None:
    book = ShareBook()
    waiting, later = share("ask"), share("approve", start=NOW + timedelta(hours=1))
    book.add(request(waiting, later), now=NOW)
    # approve-by for the pending one; start and end for the scheduled one.
    assert book.memory()["deadlines"] == 3
    assert book.deadlines.next() == waiting.approve_by


def test_a_final_request_is_due_to_leave_memory_an_hour_after_it_ended() -> None:
    book = ShareBook()
    declined = share("decline")
    book.add(request(declined), now=NOW)
    assert book.ended_at["req_1"] == NOW
    assert list(book.deadlines.due(NOW + KEEP_ENDED)) == [("forget", "req_1")]
    book.drop("req_1")
    assert book.memory() == {"requests": 0, "shares": 0, "active": 0, "pending": 0, "deadlines": 0}


def test_an_agency_with_fifty_waiting_requests_is_told_when_to_retry() -> None:
    book = ShareBook()
    for n in range(MAX_PENDING_PER_AGENCY):
        book.add(request(share("ask"), request_id=f"req_{n}"), now=NOW)
    book.check_capacity("other", NOW)  # another agency has its own fifty
    with pytest.raises(TooManyPendingError) as refused:
        book.check_capacity("cpd", NOW)
    assert refused.value.limit == MAX_PENDING_PER_AGENCY
    assert refused.value.retry_after == 301  # the first approval timeout, rounded up
