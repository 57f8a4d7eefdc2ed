"""Actions: approve, deny, revoke, revoke_all, pause, resume, set_privacy_schedule."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial
from typing import Any, Final

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import RtccShareCoordinator
from .gateway_client import GatewayConflictError, GatewayNotFoundError
from .settings import PrivacyWindow, parse_window

type Handler = Callable[[HomeAssistant, ServiceCall], Coroutine[Any, Any, None]]

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_REQUEST_ID = "request_id"
ATTR_CAMERAS = "cameras"
ATTR_SHARE_ID = "share_id"
ATTR_CAMERA = "camera"
ATTR_DURATION = "duration"
ATTR_WINDOWS = "windows"

SERVICE_APPROVE = "approve"
SERVICE_DENY = "deny"
SERVICE_REVOKE = "revoke"
SERVICE_REVOKE_ALL = "revoke_all"
SERVICE_PAUSE = "pause"
SERVICE_RESUME = "resume"
SERVICE_SET_PRIVACY_SCHEDULE = "set_privacy_schedule"

_ENTRY = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}

DECIDE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_REQUEST_ID): cv.string,
        vol.Optional(ATTR_CAMERAS): vol.All(cv.ensure_list, [cv.string]),
    }
)
REVOKE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Optional(ATTR_SHARE_ID): cv.string,
        vol.Optional(ATTR_CAMERA): cv.string,
    }
)
ENTRY_ONLY_SCHEMA = vol.Schema(_ENTRY)
PAUSE_SCHEMA = vol.Schema({**_ENTRY, vol.Optional(ATTR_DURATION): cv.positive_time_period})
SCHEDULE_SCHEMA = vol.Schema({**_ENTRY, vol.Required(ATTR_WINDOWS): vol.All(cv.ensure_list, list)})


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _coordinator(hass: HomeAssistant, call: ServiceCall) -> RtccShareCoordinator:
    """The loaded entry the call names, or the only one."""
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is not None:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise _error("unknown_entry", entry_id=str(entry_id))
        if entry.state is not ConfigEntryState.LOADED:
            raise _error("entry_not_loaded", entry_id=str(entry_id))
        return entry.runtime_data.coordinator  # type: ignore[no-any-return]
    loaded = [
        e for e in hass.config_entries.async_entries(DOMAIN) if e.state is ConfigEntryState.LOADED
    ]
    if not loaded:
        raise _error("no_gateway")
    if len(loaded) > 1:
        raise _error("entry_required")
    return loaded[0].runtime_data.coordinator  # type: ignore[no-any-return]


def _camera_ids(coordinator: RtccShareCoordinator, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        camera_id = coordinator.camera_id_of(name)
        if camera_id is None:
            raise _error("unknown_camera", camera=name)
        ids.append(camera_id)
    return ids


async def _decide(hass: HomeAssistant, call: ServiceCall) -> None:
    coordinator = _coordinator(hass, call)
    request_id = call.data[ATTR_REQUEST_ID]
    cameras = call.data.get(ATTR_CAMERAS)
    camera_ids = _camera_ids(coordinator, cameras) if cameras else None
    try:
        if call.service == SERVICE_APPROVE:
            await coordinator.controls.async_approve(request_id, camera_ids)
        else:
            await coordinator.controls.async_deny(request_id, camera_ids)
    except GatewayNotFoundError as err:
        raise _error("unknown_request", request_id=request_id) from err
    except GatewayConflictError as err:
        raise _error("already_decided", request_id=request_id) from err


async def _revoke(hass: HomeAssistant, call: ServiceCall) -> None:
    coordinator = _coordinator(hass, call)
    share_id: str | None = call.data.get(ATTR_SHARE_ID)
    camera: str | None = call.data.get(ATTR_CAMERA)
    if share_id is not None and camera is None:
        try:
            await coordinator.controls.async_revoke_share(share_id)
        except GatewayNotFoundError as err:
            raise _error("unknown_share", share_id=share_id) from err
        except GatewayConflictError as err:
            raise _error("already_ended", share_id=share_id) from err
    elif camera is not None and share_id is None:
        await coordinator.controls.async_revoke(_camera_ids(coordinator, [camera])[0])
    else:
        raise _error("revoke_needs_one")


async def _revoke_all(hass: HomeAssistant, call: ServiceCall) -> None:
    await _coordinator(hass, call).controls.async_revoke(None)


async def _pause(hass: HomeAssistant, call: ServiceCall) -> None:
    coordinator = _coordinator(hass, call)
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    if duration is not None and duration.total_seconds() <= 0:
        raise _error("bad_duration")
    until = None if duration is None else dt_util.utcnow() + duration
    await coordinator.controls.async_set_paused(paused=True, until=until)


async def _resume(hass: HomeAssistant, call: ServiceCall) -> None:
    await _coordinator(hass, call).controls.async_set_paused(paused=False)


async def _set_privacy_schedule(hass: HomeAssistant, call: ServiceCall) -> None:
    coordinator = _coordinator(hass, call)
    windows: list[PrivacyWindow] = []
    for index, raw in enumerate(call.data[ATTR_WINDOWS]):
        try:
            windows.append(parse_window(raw))
        except (TypeError, ValueError) as err:
            raise _error("bad_window", index=str(index + 1), problem=str(err)) from err
    await coordinator.controls.async_set_privacy_windows(windows)


_HANDLERS: Final[list[tuple[str, Handler, vol.Schema]]] = [
    (SERVICE_APPROVE, _decide, DECIDE_SCHEMA),
    (SERVICE_DENY, _decide, DECIDE_SCHEMA),
    (SERVICE_REVOKE, _revoke, REVOKE_SCHEMA),
    (SERVICE_REVOKE_ALL, _revoke_all, ENTRY_ONLY_SCHEMA),
    (SERVICE_PAUSE, _pause, PAUSE_SCHEMA),
    (SERVICE_RESUME, _resume, ENTRY_ONLY_SCHEMA),
    (SERVICE_SET_PRIVACY_SCHEDULE, _set_privacy_schedule, SCHEDULE_SCHEMA),
]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    for name, handler, schema in _HANDLERS:
        hass.services.async_register(DOMAIN, name, partial(handler, hass), schema=schema)
