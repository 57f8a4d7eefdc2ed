"""What the gateway had before Home Assistant connected, shown in the config flow and kept.

A gateway that ran on its own file has privacy windows, maybe a pause, and cameras of its own.
The first push from Home Assistant replaces all of it, so the flow shows it first, and the
windows and the pause are imported into Home Assistant's store instead of being dropped. The
file's cameras are not imported: from then on Home Assistant decides which cameras are offered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.util import dt as dt_util

from .settings import OwnerSettings, parse_window

CONF_IMPORTED: Final = "imported_policy"  # entry data key, removed once the import is done


def snapshot(state: dict[str, Any]) -> dict[str, Any]:
    """The parts of `GET /api/v1/state` the flow shows and imports."""
    raw_policy = state.get("policy")
    policy: dict[str, Any] = raw_policy if isinstance(raw_policy, dict) else {}
    cameras = [c for c in state.get("cameras") or [] if isinstance(c, dict)]
    return {
        "privacy_windows": [w for w in policy.get("privacy_windows") or [] if isinstance(w, dict)],
        "paused": bool(policy.get("paused")),
        "paused_until": policy.get("paused_until"),
        "cameras": [{"id": str(c.get("id")), "label": str(c.get("label") or "")} for c in cameras],
    }


def placeholders(snap: dict[str, Any] | None) -> dict[str, str]:
    """`windows`, `pause` and `cameras` for the confirmation step's text."""
    if snap is None:
        return {"windows": "unknown", "pause": "unknown", "cameras": "unknown"}
    windows = [
        f"{w.get('start')} to {w.get('end')} ({', '.join(w.get('days') or [])})"
        for w in snap["privacy_windows"]
    ]
    if not snap["paused"]:
        pause = "not paused"
    elif snap["paused_until"]:
        pause = f"paused until {snap['paused_until']}"
    else:
        pause = "paused"
    cameras = [f"{c['label'] or c['id']} ({c['id']})" for c in snap["cameras"]]
    return {
        "windows": "; ".join(windows) or "none",
        "pause": pause,
        "cameras": ", ".join(cameras) or "none",
    }


def import_into(settings: OwnerSettings, snap: dict[str, Any]) -> int:
    """Add the gateway's windows and pause to the owner's settings; how many windows came in.

    A window the store cannot take is skipped (the gateway validated its own file, so this is
    only a guard against a gateway of another version).
    """
    taken = 0
    for raw in snap.get("privacy_windows") or []:
        try:
            window = parse_window(raw)
        except (TypeError, ValueError):
            continue
        if window not in settings.privacy_windows:
            settings.privacy_windows.append(window)
            taken += 1
    if snap.get("paused"):
        until: datetime | None = None
        if isinstance(snap.get("paused_until"), str):
            until = dt_util.parse_datetime(snap["paused_until"])
        settings.paused = True
        settings.paused_until = until
    return taken
