"""The owner's side, through Home Assistant's own HTTP API (what its UI calls): the integration's
config flow against the gateway, the camera added from ONVIF discovery, consent, approval."""

from __future__ import annotations

import asyncio
from typing import Any

from ..real_hass import RealHass
from .stack import CAMERA_NAME, CAMERA_PASSWORD, CAMERA_USER, Stack
from .steps import StepFailedError

DOMAIN = "rtcc_share"
SUBENTRY_ONVIF = "onvif_camera"
FLOW_TIMEOUT_S = 120.0  # discovery and flows on a loaded 2-core machine; fails a broken run only


def _confirm(step: dict[str, Any]) -> dict[str, Any]:
    """A confirmation step (what sharing means, what the gateway had): its defaults."""
    return {
        f["name"]: f.get("default", True if f.get("type") == "boolean" else None)
        for f in step.get("data_schema") or []
        if f.get("required")
    }


async def configure_integration(hass: RealHass, stack: Stack) -> str:
    """RTCC Share's config flow against the gateway's owner port; returns the entry id."""
    step_name = "integration configured"

    def answer(step: dict[str, Any]) -> dict[str, Any]:
        if step.get("errors"):
            raise StepFailedError(step_name, f"the config flow said {step['errors']}")
        if step["step_id"] == "user":
            return {
                "host": "127.0.0.1",
                "port": stack.gateway.owner_port,
                "token": stack.owner_token,
            }
        return _confirm(step)

    result = await hass.config_flow(DOMAIN, answer)
    if result.get("type") != "create_entry":
        raise StepFailedError(step_name, f"the config flow ended with {result}")
    entry_id = str(result["result"]["entry_id"])
    await _until(step_name, lambda: _entry_loaded(hass, entry_id))
    return entry_id


async def _entry_loaded(hass: RealHass, entry_id: str) -> bool:
    entries = await hass.entry_state(DOMAIN)
    return any(e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries)


async def add_discovered_camera(hass: RealHass, entry_id: str) -> str:
    """The "Add ONVIF camera" flow, picking the camera WS-Discovery found; returns its title."""
    step_name = "camera added through ONVIF discovery"
    base = "/api/config/config_entries/subentries/flow"
    loop = asyncio.get_running_loop()
    end = loop.time() + FLOW_TIMEOUT_S
    while True:
        status, step = await hass.api("POST", base, {"handler": [entry_id, SUBENTRY_ONVIF]})
        if status != 200:
            raise StepFailedError(step_name, f"HTTP {status}: {step}")
        if step.get("step_id") == "user":
            break
        # Nothing discovered yet (the flow went to the manual address form): drop it; the flow
        # started a fresh probe, whose answers the next try lists.
        await hass.api("DELETE", f"{base}/{step['flow_id']}")
        if loop.time() > end:
            raise StepFailedError(step_name, "WS-Discovery found no camera")
        await asyncio.sleep(1)
    options = _device_options(step)
    chosen = [o["value"] for o in options if CAMERA_NAME in o["label"]]
    if not chosen:
        raise StepFailedError(step_name, f"discovery listed {options}, not {CAMERA_NAME!r}")
    status, step = await hass.api("POST", f"{base}/{step['flow_id']}", {"device": chosen[0]})
    if step.get("step_id") != "credentials":
        raise StepFailedError(step_name, f"expected the credentials form, got {step}")
    status, step = await hass.api(
        "POST",
        f"{base}/{step['flow_id']}",
        {"username": CAMERA_USER, "password": CAMERA_PASSWORD},
    )
    if step.get("type") != "create_entry":
        raise StepFailedError(step_name, f"the flow ended with {step}")
    return str(step.get("title", CAMERA_NAME))


def _device_options(step: dict[str, Any]) -> list[dict[str, str]]:
    for field in step.get("data_schema") or []:
        if field.get("name") == "device":
            select = field.get("selector", {}).get("select", {})
            return [
                o if isinstance(o, dict) else {"value": o, "label": o} for o in select["options"]
            ]
    return []


async def consent_switch(hass: RealHass) -> str:
    """The camera's "Share with city" switch, once Home Assistant has made it."""
    found: list[str] = []

    async def made() -> bool:
        status, states = await hass.api("GET", "/api/states")
        found[:] = [
            s["entity_id"]
            for s in states
            if status == 200
            and s["entity_id"].startswith("switch.")
            and s["entity_id"].endswith("_share_with_city")
            and s["state"] in ("on", "off")
        ]
        return bool(found)

    await _until("camera added through ONVIF discovery", made)
    return found[0]


async def set_consent(hass: RealHass, entity_id: str, on: bool) -> None:
    service = "turn_on" if on else "turn_off"
    status, body = await hass.api(
        "POST", f"/api/services/switch/{service}", {"entity_id": entity_id}
    )
    if status != 200:
        raise StepFailedError("consent", f"switch.{service} answered HTTP {status}: {body}")
    want = "on" if on else "off"

    async def switched() -> bool:
        status, state = await hass.api("GET", f"/api/states/{entity_id}")
        return status == 200 and state["state"] == want

    await _until("consent", switched)


async def approve(hass: RealHass, request_id: str) -> None:
    """The owner's approval through the integration's action (what the panel's button does)."""
    status, body = await hass.api(
        "POST", f"/api/services/{DOMAIN}/approve", {"request_id": request_id}
    )
    if status != 200:
        raise StepFailedError("owner approved", f"{DOMAIN}.approve answered HTTP {status}: {body}")


async def _until(step: str, check: Any, timeout: float = FLOW_TIMEOUT_S) -> None:
    """Wait until `await check()` holds (Home Assistant tells no one: ask again)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():
        if loop.time() > end:
            raise StepFailedError(step, f"not so within {timeout:g} s")
        await asyncio.sleep(0.5)
