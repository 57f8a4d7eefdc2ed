"""Diagnostics redact tokens, camera URLs (with their credentials) and links."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.rtcc_share.diagnostics import async_get_config_entry_diagnostics

from ..conftest import OWNER_TOKEN
from .conftest import FRONT_SOURCE, GARAGE_SOURCE, Loaded, cam


async def test_diagnostics_redact_secrets(hass: HomeAssistant, loaded: Loaded) -> None:
    entry, gw, _ = loaded
    assert await async_setup_component(hass, "diagnostics", {})
    diag = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diag)
    for secret in (OWNER_TOKEN, FRONT_SOURCE, GARAGE_SOURCE, "frontpass", "expiring-1"):
        assert secret not in text
    assert diag["entry"]["data"]["token"] == "**REDACTED**"
    assert diag["gateway"]["gateway_id"] == gw.gateway_id
    reasons = {c["camera_id"]: c["not_shareable_reason"] for c in diag["cameras"]}
    assert reasons[cam(hass, "cloud_doorbell")] == "no_stream_source"
    assert reasons[cam(hass, "front_door")] is None
    assert diag["connected"] is True
    assert {c["id"] for c in diag["state"]["cameras"]} == {
        cam(hass, "front_door"),
        cam(hass, "garage"),
    }
