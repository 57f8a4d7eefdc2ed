"""Diagnostics: connection, camera registry, owner settings and gateway state, redacted.

Tokens, camera URLs (with their credentials) and links never appear; each camera that cannot be
shared says why.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .data import RtccShareConfigEntry

TO_REDACT = {
    CONF_TOKEN,
    CONF_PASSWORD,
    CONF_USERNAME,
    "source",
    "stream_source",
    "links",
    "rtsp",
    "mp4",
    "hls",
    "url",
    "token",
    "public_base_url",
    "rtsp_base_url",
    "remote",
}


async def async_get_config_entry_diagnostics(
    _hass: HomeAssistant, entry: RtccShareConfigEntry
) -> dict[str, Any]:
    """What a bug report needs, nothing that would let anyone reach a camera."""
    data = entry.runtime_data
    coordinator = data.coordinator
    cameras = [
        {
            "camera_id": cam.camera_id,
            "entity_id": cam.entity_id,
            "onvif_subentry_id": cam.subentry_id,
            "shareable": cam.shareable,
            "not_shareable_reason": cam.reason,
            "source": cam.source,
        }
        for cam in coordinator.registry.values()
    ]
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "gateway": asdict(data.info),
            "connected": coordinator.connected,
            "onvif_cameras": [
                {"title": sub.title, "unique_id": sub.unique_id, "data": dict(sub.data)}
                for sub in entry.subentries.values()
            ],
            "onvif_discovered": [asdict(device) for device in coordinator.discovered.values()],
            "cameras": cameras,
            "settings": coordinator.settings.to_json(),
            "state": coordinator.data,
        },
        TO_REDACT,
    )
