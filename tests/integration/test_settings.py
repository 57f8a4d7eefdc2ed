"""The owner's stored settings: what is read back from storage, whatever it holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.util import dt as dt_util

from custom_components.rtcc_share.settings import OwnerSettings, parse_window


def test_unreadable_storage_falls_back_to_safe_defaults() -> None:
    settings = OwnerSettings.from_json(
        {
            "cameras": {"a": {"consent": "yes", "approval": "sometimes"}, "b": "garbage"},
            "paused": "true",
            "paused_until": 12,
            "privacy_windows": [
                {"start": "7", "end": "8"},
                "x",
                {"start": "01:00", "end": "02:00"},
            ],
            "audit_head": 7,
            "nightly": {"enabled": True, "start": "late", "end": "early"},
        }
    )
    assert settings.cameras["a"].consent is False
    assert settings.cameras["a"].approval == "ask"
    assert "b" not in settings.cameras
    assert settings.paused is False
    assert settings.paused_until is None
    assert [w.to_json()["start"] for w in settings.privacy_windows] == ["01:00"]
    assert settings.audit_head is None
    assert (settings.nightly_start, settings.nightly_end) == ("22:00", "07:00")
    assert OwnerSettings.from_json(None) == OwnerSettings()


def test_round_trip_and_pause_end() -> None:
    until = dt_util.utcnow() + timedelta(minutes=5)
    settings = OwnerSettings(paused=True, paused_until=until, nightly_enabled=True)
    again = OwnerSettings.from_json(settings.to_json())
    assert again == settings
    assert again.is_paused()
    assert not again.is_paused(until + timedelta(seconds=1))
    assert [w.to_json() for w in again.all_windows()] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "22:00",
            "end": "07:00",
        }
    ]


@pytest.mark.parametrize(
    "raw",
    [
        {"days": [], "start": "01:00", "end": "02:00"},
        {"days": "funday", "start": "01:00", "end": "02:00"},
        {"days": 3, "start": "01:00", "end": "02:00"},
        {"start": "24:00", "end": "02:00"},
    ],
)
def test_bad_windows_are_named(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_window(raw)


def test_a_single_day_may_be_given_as_text() -> None:
    assert parse_window({"days": "Friday", "start": "01:00:00", "end": "02:00"}).days == ("fri",)
