"""What the gateway had before Home Assistant connected (first_connection.py)."""

from __future__ import annotations

from custom_components.rtcc_share.first_connection import import_into, placeholders, snapshot
from custom_components.rtcc_share.settings import OwnerSettings, PrivacyWindow


def test_a_timed_pause_is_shown_and_kept_with_its_end() -> None:
    snap = snapshot(
        {
            "policy": {"paused": True, "paused_until": "2026-12-02T07:00:00+00:00"},
            "cameras": [{"id": "cam1", "label": ""}, "junk"],
        }
    )
    assert placeholders(snap) == {
        "windows": "none",
        "pause": "paused until 2026-12-02T07:00:00+00:00",
        "cameras": "cam1 (cam1)",
    }
    settings = OwnerSettings()
    assert import_into(settings, snap) == 0
    assert settings.paused is True
    assert settings.paused_until is not None
    assert settings.paused_until.isoformat() == "2026-12-02T07:00:00+00:00"


def test_windows_the_store_cannot_take_or_has_already_are_skipped() -> None:
    settings = OwnerSettings(privacy_windows=[PrivacyWindow(("mon",), "22:00", "07:00")])
    snap = snapshot(
        {
            "policy": {
                "privacy_windows": [
                    {"days": ["mon"], "start": "22:00", "end": "07:00"},
                    {"days": ["xyz"], "start": "22:00", "end": "07:00"},
                    {"days": ["sun"], "start": "01:00", "end": "02:00"},
                ]
            }
        }
    )
    assert import_into(settings, snap) == 1
    assert [w.days for w in settings.privacy_windows] == [("mon",), ("sun",)]
    assert settings.paused is False


def test_a_state_without_a_policy_is_an_empty_snapshot() -> None:
    snap = snapshot({"policy": "nonsense"})
    assert placeholders(snap) == {"windows": "none", "pause": "not paused", "cameras": "none"}
