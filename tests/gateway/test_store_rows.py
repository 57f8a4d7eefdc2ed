"""The store's rows survive the trip to SQLite values and back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rtcc_gateway.store_rows import (
    SHARE_COLUMNS,
    ShareRow,
    iso,
    parse_iso,
    request_from_row,
    share_from_row,
    share_values,
    viewer_closed,
    viewer_opened,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_times_are_utc_whole_seconds_with_a_z_and_read_back() -> None:
    local = NOW.astimezone(UTC) + timedelta(microseconds=900)
    assert iso(local) == "2026-05-01T12:00:00Z"
    assert parse_iso(iso(NOW)) == NOW
    assert iso(None) is None
    assert parse_iso(None) is None


def test_a_share_round_trips_in_column_order() -> None:
    share = ShareRow(
        id="shr_1",
        request_id="req_1",
        camera_id="porch",
        status="live",
        token="tok",
        duration_s=600,
        cut=True,
        starts_at=NOW,
        ends_at=NOW + timedelta(seconds=600),
        approve_by=None,
        ended_at=None,
        reason=None,
    )
    values = share_values(share)
    assert len(values) == len(SHARE_COLUMNS.split(","))
    assert values[6] == 1, "a bool is stored as an integer"
    assert share_from_row(values) == share


def test_a_request_row_reads_its_body_as_json() -> None:
    row = request_from_row(("req_1", "cpd", iso(NOW), '{"incident_id": "i"}', None))
    assert (row.id, row.agency_id, row.created_at, row.body, row.ended_at) == (
        "req_1",
        "cpd",
        NOW,
        {"incident_id": "i"},
        None,
    )


def test_a_connected_viewer_is_remembered_and_forgotten_by_its_id() -> None:
    sql, params = viewer_opened("v1", NOW, {"share_id": "shr_1"})
    assert sql.startswith("INSERT OR REPLACE INTO open_viewers")
    assert params == ("v1", "2026-05-01T12:00:00Z", '{"share_id": "shr_1"}')
    assert viewer_closed("v1") == ("DELETE FROM open_viewers WHERE viewer_id = ?", ("v1",))
