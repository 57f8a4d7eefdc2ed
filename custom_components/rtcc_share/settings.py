"""What the owner decided, kept by Home Assistant (not by the gateway) across restarts.

One `Store` per config entry (`.storage/rtcc_share.<entry_id>`) holds consent, approval mode and
maximum minutes per camera, the pause, the privacy schedule, and the latest audit head seen. The
gateway gets all of it in every policy push, so Home Assistant is the source of truth and the
gateway enforces it even while Home Assistant restarts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DAYS, DOMAIN, STORAGE_VERSION
from .event_cursor import EventCursor

_CLOCK: Final = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(slots=True)
class CameraSettings:
    """The owner's choices for one camera."""

    consent: bool = False
    approval: str = "ask"
    max_minutes: int = 60


@dataclass(frozen=True, slots=True)
class PrivacyWindow:
    """A weekly window (policy timezone); `days` are the days it starts on."""

    days: tuple[str, ...]
    start: str
    end: str

    def to_json(self) -> dict[str, Any]:
        """The gateway's (and the store's) shape."""
        return {"days": list(self.days), "start": self.start, "end": self.end}


def parse_window(raw: Any) -> PrivacyWindow:
    """A window from user input or storage; raises ValueError naming what is wrong."""
    if not isinstance(raw, dict):
        raise TypeError("a window must be a mapping with days, start and end")
    days = raw.get("days", list(DAYS))
    if isinstance(days, str):
        days = [days]
    if not isinstance(days, list) or not days:
        raise ValueError("days must be a non-empty list")
    days = [str(d).lower()[:3] for d in days]
    if any(d not in DAYS for d in days) or len(set(days)) != len(days):
        raise ValueError("days must be distinct values of mon, tue, wed, thu, fri, sat, sun")
    start, end = _clock(raw.get("start")), _clock(raw.get("end"))
    if start == end:
        raise ValueError("start and end are equal")
    return PrivacyWindow(tuple(sorted(days, key=DAYS.index)), start, end)


def _clock(value: Any) -> str:
    text = str(value or "")
    # Accept HH:MM and HH:MM:SS (what a time selector gives).
    if re.fullmatch(r"\d{2}:\d{2}:\d{2}", text):
        text = text[:5]
    if not _CLOCK.match(text):
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return text


@dataclass(slots=True)
class OwnerSettings:
    """Everything the owner decides; serialised as the store's data."""

    cameras: dict[str, CameraSettings] = field(default_factory=dict)
    paused: bool = False
    paused_until: datetime | None = None
    privacy_windows: list[PrivacyWindow] = field(default_factory=list)
    audit_head: str | None = None
    event_cursor: EventCursor = field(default_factory=EventCursor)
    nightly_enabled: bool = False
    nightly_start: str = "22:00"
    nightly_end: str = "07:00"

    def all_windows(self) -> list[PrivacyWindow]:
        """The windows the gateway enforces: the list, plus the nightly window when on."""
        windows = list(self.privacy_windows)
        if self.nightly_enabled and self.nightly_start != self.nightly_end:
            windows.append(PrivacyWindow(DAYS, self.nightly_start, self.nightly_end))
        return windows

    def is_paused(self, now: datetime | None = None) -> bool:
        """Paused now (a pause with an end is over once that time has passed)."""
        if not self.paused:
            return False
        if self.paused_until is None:
            return True
        return (now or dt_util.utcnow()) < self.paused_until

    def to_json(self) -> dict[str, Any]:
        """The store's shape."""
        return {
            "cameras": {cid: asdict(c) for cid, c in self.cameras.items()},
            "paused": self.paused,
            "paused_until": None if self.paused_until is None else self.paused_until.isoformat(),
            "privacy_windows": [w.to_json() for w in self.privacy_windows],
            "audit_head": self.audit_head,
            "event_cursor": self.event_cursor.to_json(),
            "nightly": {
                "enabled": self.nightly_enabled,
                "start": self.nightly_start,
                "end": self.nightly_end,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> OwnerSettings:
        """Read the store's shape; anything unreadable falls back to the safe default."""
        if not data:
            return cls()
        cameras: dict[str, CameraSettings] = {}
        for cid, raw in (data.get("cameras") or {}).items():
            if isinstance(raw, dict):
                cameras[str(cid)] = CameraSettings(
                    consent=raw.get("consent") is True,
                    approval="auto" if raw.get("approval") == "auto" else "ask",
                    max_minutes=int(raw.get("max_minutes") or 60),
                )
        windows = []
        for raw in data.get("privacy_windows") or []:
            try:
                windows.append(parse_window(raw))
            except (TypeError, ValueError):
                continue
        until = data.get("paused_until")
        head = data.get("audit_head")
        nightly = data.get("nightly") or {}
        try:
            start, end = _clock(nightly.get("start", "22:00")), _clock(nightly.get("end", "07:00"))
        except ValueError:
            start, end = "22:00", "07:00"
        return cls(
            nightly_enabled=nightly.get("enabled") is True,
            nightly_start=start,
            nightly_end=end,
            cameras=cameras,
            paused=data.get("paused") is True,
            paused_until=dt_util.parse_datetime(until) if isinstance(until, str) else None,
            privacy_windows=windows,
            audit_head=head if isinstance(head, str) else None,
            event_cursor=EventCursor.from_json(data.get("event_cursor")),
        )


class SettingsStore:
    """Loads and saves one entry's OwnerSettings."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")

    async def async_load(self) -> OwnerSettings:
        """The stored settings, or the defaults (nothing shared)."""
        return OwnerSettings.from_json(await self._store.async_load())

    async def async_save(self, settings: OwnerSettings) -> None:
        """Write the settings now."""
        await self._store.async_save(settings.to_json())

    async def async_remove(self) -> None:
        """Forget everything (the entry was removed)."""
        await self._store.async_remove()
