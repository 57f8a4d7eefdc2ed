"""The "City sharing" sidebar panel: a web component the integration ships and serves itself.

One panel per Home Assistant (it shows every gateway), there while at least one entry is loaded.
The module is served from the integration's own folder: nothing comes from outside at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from homeassistant.components import frontend, panel_custom
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

PANEL_URL_PATH: Final = "rtcc-share"
PANEL_TITLE: Final = "City sharing"
PANEL_ICON: Final = "mdi:cctv"
WEBCOMPONENT: Final = "rtcc-share-panel"
STATIC_URL: Final = "/rtcc_share_static"
FRONTEND_DIR: Final = Path(__file__).parent / "frontend"
_STATE: HassKey[PanelState] = HassKey(f"{DOMAIN}_panel")


class PanelState:
    """Whether the static path is served (it cannot be unregistered) and which entries use it."""

    def __init__(self) -> None:
        self.static_served = False
        self.entries: set[str] = set()


def _version() -> str:
    # A new version changes the module's URL, so browsers never keep an old panel.
    manifest = json.loads((Path(__file__).parent / "manifest.json").read_text())
    return str(manifest.get("version", "0"))


async def async_register_panel(hass: HomeAssistant, entry_id: str) -> None:
    """Show the panel (once, however many gateways are loaded)."""
    state = hass.data.setdefault(_STATE, PanelState())
    first = not state.entries
    state.entries.add(entry_id)
    if not first:
        return
    if not state.static_served:
        await hass.http.async_register_static_paths(
            [StaticPathConfig(STATIC_URL, str(FRONTEND_DIR), cache_headers=False)]
        )
        state.static_served = True
    version = await hass.async_add_executor_job(_version)
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=WEBCOMPONENT,
        sidebar_title=PANEL_TITLE,
        sidebar_icon=PANEL_ICON,
        module_url=f"{STATIC_URL}/{WEBCOMPONENT}.js?v={version}",
        embed_iframe=False,
        require_admin=True,
    )


def async_unregister_panel(hass: HomeAssistant, entry_id: str) -> None:
    """Hide the panel when the last gateway's entry unloads."""
    state = hass.data.get(_STATE)
    if state is None or entry_id not in state.entries:
        return
    state.entries.discard(entry_id)
    if not state.entries:
        frontend.async_remove_panel(hass, PANEL_URL_PATH)
