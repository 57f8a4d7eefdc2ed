"""Websocket commands for the "City sharing" panel: the state of every gateway, and acting on it.

`rtcc_share/subscribe` pushes the same snapshot as `rtcc_share/state` whenever a coordinator
updates (its listeners, no polling). Actions go through `coordinator.controls`, the same code the
integration's actions use. Every command is for administrators only.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Final

import probatio as vol
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.config_entries import SIGNAL_CONFIG_ENTRY_CHANGED, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .coordinator import RtccShareCoordinator
from .data import RtccShareConfigEntry
from .gateway_client import GatewayError, GatewayNotFoundError

AUDIT_LATEST: Final = 20  # records the panel shows
AUDIT_EXPORT_MAX: Final = 5000  # records one export answer carries at most
AUDIT_PAGE: Final = 1000  # the gateway's largest page

_ENTRY: Final[dict[Any, Any]] = {vol.Required("entry_id"): cv.string}


class _NotFoundError(Exception):
    """A command named something that does not exist; the message says what."""


def _loaded(hass: HomeAssistant) -> list[RtccShareConfigEntry]:
    return [
        e for e in hass.config_entries.async_entries(DOMAIN) if e.state is ConfigEntryState.LOADED
    ]


def _coordinator(hass: HomeAssistant, entry_id: str) -> RtccShareCoordinator:
    entry: RtccShareConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        raise _NotFoundError(f"No loaded RTCC Share gateway has the entry id {entry_id!r}")
    return entry.runtime_data.coordinator


def _camera_id(coordinator: RtccShareCoordinator, name: str) -> str:
    camera_id = coordinator.camera_id_of(name)
    if camera_id is None:
        raise _NotFoundError(f"No shareable camera {name!r} on this gateway")
    return camera_id


# --- the snapshot ------------------------------------------------------------------------------


def _cameras(coordinator: RtccShareCoordinator, data: dict[str, Any]) -> list[dict[str, Any]]:
    on_gateway = {c.get("id"): c for c in data.get("cameras") or [] if isinstance(c, dict)}
    cameras = []
    for camera in sorted(coordinator.registry.values(), key=lambda c: c.name.lower()):
        settings = coordinator.controls.camera_settings(camera.camera_id)
        shown = on_gateway.get(camera.camera_id, {})
        if not camera.shareable:
            status = "unavailable"
        elif not settings.consent:
            status = "not_shared"
        elif not coordinator.connected:
            status = "unknown"
        else:
            status = str(shown.get("status") or "unknown")
        cameras.append(
            {
                "camera_id": camera.camera_id,
                "entity_id": camera.entity_id or None,
                "name": camera.name,
                "shareable": camera.shareable,
                "reason": camera.reason,
                "consent": settings.consent,
                "approval": settings.approval,
                "max_minutes": settings.max_minutes,
                "status": status,
                "blocked_reason": shown.get("blocked_reason"),
                "viewers": shown.get("viewers", 0),
            }
        )
    return cameras


async def _audit(coordinator: RtccShareCoordinator) -> dict[str, Any]:
    client = coordinator.client
    verify = await client.audit_verify(coordinator.settings.audit_head)
    last = 0 if verify.head is None else int(verify.head.partition(":")[0])
    records = await client.audit_records(max(0, last - AUDIT_LATEST), AUDIT_LATEST)
    return {
        "ok": verify.ok,
        "count": verify.count,
        "head": verify.head,
        "first_bad": verify.first_bad,
        "records": list(reversed(records)),  # newest first
    }


async def _gateway_reads(coordinator: RtccShareCoordinator) -> tuple[Any, Any]:
    """The audit summary and the transparency figures, each a dict or {"error": why}."""
    if not coordinator.connected:
        gone = {"error": f"Cannot reach the gateway at {coordinator.client.base_url}"}
        return gone, gone
    audit, transparency = await asyncio.gather(
        _audit(coordinator), coordinator.client.transparency(), return_exceptions=True
    )
    if isinstance(audit, BaseException):
        audit = {"error": str(audit) or type(audit).__name__}
    if isinstance(transparency, BaseException):
        transparency = {"error": str(transparency) or type(transparency).__name__}
    else:
        transparency = {"agencies": transparency}
    return audit, transparency


async def async_gateway_snapshot(entry: RtccShareConfigEntry) -> dict[str, Any]:
    """One gateway, as the panel shows it."""
    coordinator = entry.runtime_data.coordinator
    data: dict[str, Any] = coordinator.data or {}
    settings = coordinator.settings
    names = {c.camera_id: c.name for c in coordinator.registry.values()}
    audit, transparency = await _gateway_reads(coordinator)
    return {
        "entry_id": entry.entry_id,
        "title": entry.title,
        "gateway_id": coordinator.info.gateway_id,
        "version": coordinator.info.version,
        "connected": coordinator.connected,
        "camera_names": names,
        "cameras": _cameras(coordinator, data),
        "pending_requests": [r for r in data.get("pending_requests") or [] if isinstance(r, dict)],
        "shares": [s for s in data.get("shares") or [] if isinstance(s, dict)],
        "paused": settings.is_paused(),
        "paused_until": None
        if settings.paused_until is None
        else settings.paused_until.isoformat(),
        "gateway_paused": data.get("paused"),
        "stale": data.get("stale"),
        "lease_ends_at": data.get("lease_ends_at"),
        "privacy_windows": [w.to_json() for w in settings.privacy_windows],
        "nightly": {
            "enabled": settings.nightly_enabled,
            "start": settings.nightly_start,
            "end": settings.nightly_end,
        },
        "audit": audit,
        "transparency": transparency,
    }


async def async_snapshot(hass: HomeAssistant) -> dict[str, Any]:
    """Every loaded gateway, and the time it was taken (the panel's clock reference)."""
    entries = _loaded(hass)
    gateways = await asyncio.gather(*(async_gateway_snapshot(e) for e in entries))
    return {"now": dt_util.utcnow().isoformat(), "gateways": list(gateways)}


# --- reading -----------------------------------------------------------------------------------


@require_admin
@websocket_command({vol.Required("type"): "rtcc_share/state"})
@async_response
async def ws_state(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The snapshot, once."""
    connection.send_result(msg["id"], await async_snapshot(hass))


class _Subscription:
    """Sends a fresh snapshot after every coordinator update; one build at a time, none lost."""

    def __init__(self, hass: HomeAssistant, connection: ActiveConnection, msg_id: int) -> None:
        self._hass = hass
        self._connection = connection
        self._msg_id = msg_id
        self._listeners: dict[str, CALLBACK_TYPE] = {}
        self._unsub_entries: CALLBACK_TYPE | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False

    @callback
    def start(self) -> None:
        self._unsub_entries = async_dispatcher_connect(
            self._hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._entry_changed
        )
        self._follow_entries()
        self.changed()

    @callback
    def _entry_changed(self, _change: Any, entry: Any) -> None:
        if getattr(entry, "domain", None) == DOMAIN:
            self._follow_entries()
            self.changed()

    @callback
    def _follow_entries(self) -> None:
        loaded = {e.entry_id: e for e in _loaded(self._hass)}
        for entry_id in set(self._listeners) - set(loaded):
            self._listeners.pop(entry_id)()
        for entry_id, entry in loaded.items():
            if entry_id not in self._listeners:
                coordinator = entry.runtime_data.coordinator
                self._listeners[entry_id] = coordinator.async_add_listener(self.changed)

    @callback
    def changed(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = self._hass.async_create_background_task(
            self._send(), f"{DOMAIN} panel snapshot"
        )

    async def _send(self) -> None:
        while True:
            self._again = False
            try:
                snapshot = await async_snapshot(self._hass)
            except Exception:  # noqa: BLE001 - one failed build must not end the subscription
                LOGGER.exception("Building the panel's snapshot failed")
                return
            self._connection.send_message(event_message(self._msg_id, snapshot))
            if not self._again:
                return

    @callback
    def stop(self) -> None:
        if self._unsub_entries is not None:
            self._unsub_entries()
        while self._listeners:
            self._listeners.popitem()[1]()
        if self._task is not None:
            self._task.cancel()


@require_admin
@websocket_command({vol.Required("type"): "rtcc_share/subscribe"})
@callback
def ws_subscribe(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The snapshot now, then again after every update."""
    subscription = _Subscription(hass, connection, msg["id"])
    connection.subscriptions[msg["id"]] = subscription.stop
    connection.send_result(msg["id"])
    subscription.start()


@require_admin
@websocket_command({vol.Required("type"): "rtcc_share/audit_export", **_ENTRY})
@async_response
async def ws_audit_export(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The audit log in the gateway's export format, oldest first (at most AUDIT_EXPORT_MAX)."""
    try:
        coordinator = _coordinator(hass, msg["entry_id"])
        records: list[dict[str, Any]] = []
        after = 0
        while len(records) < AUDIT_EXPORT_MAX:
            page = await coordinator.client.audit_records(after, AUDIT_PAGE)
            records.extend(page)
            if len(page) < AUDIT_PAGE:
                break
            after = int(page[-1]["seq"])
    except _NotFoundError as err:
        connection.send_error(msg["id"], ERR_NOT_FOUND, str(err))
        return
    except GatewayError as err:
        connection.send_error(msg["id"], "cannot_connect", f"The gateway did not answer: {err}")
        return
    truncated = len(records) > AUDIT_EXPORT_MAX
    connection.send_result(
        msg["id"], {"records": records[:AUDIT_EXPORT_MAX], "truncated": truncated}
    )


# --- acting ------------------------------------------------------------------------------------


async def _approve_or_deny(hass: HomeAssistant, msg: dict[str, Any]) -> None:
    coordinator = _coordinator(hass, msg["entry_id"])
    names = msg.get("camera_ids") or []
    camera_ids = [_camera_id(coordinator, n) for n in names] or None
    request_id = msg["request_id"]
    decide = (
        coordinator.controls.async_approve
        if msg["type"] == "rtcc_share/approve"
        else coordinator.controls.async_deny
    )
    try:
        await decide(request_id, camera_ids)
    except GatewayNotFoundError as err:
        why = f"The gateway knows no request {request_id!r} (it may have ended)"
        raise _NotFoundError(why) from err


async def _revoke(hass: HomeAssistant, msg: dict[str, Any]) -> None:
    coordinator = _coordinator(hass, msg["entry_id"])
    share_id, camera = msg.get("share_id"), msg.get("camera_id")
    if share_id is not None:
        try:
            await coordinator.controls.async_revoke_share(share_id)
        except GatewayNotFoundError as err:
            why = f"The gateway knows no share {share_id!r} (it may have ended)"
            raise _NotFoundError(why) from err
    else:
        await coordinator.controls.async_revoke(
            None if camera is None else _camera_id(coordinator, camera)
        )


async def _pause(hass: HomeAssistant, msg: dict[str, Any]) -> None:
    coordinator = _coordinator(hass, msg["entry_id"])
    minutes = msg.get("minutes")
    until = None if minutes is None else dt_util.utcnow() + timedelta(minutes=minutes)
    await coordinator.controls.async_set_paused(paused=True, until=until)


async def _resume(hass: HomeAssistant, msg: dict[str, Any]) -> None:
    await _coordinator(hass, msg["entry_id"]).controls.async_set_paused(paused=False)


async def _set_consent(hass: HomeAssistant, msg: dict[str, Any]) -> None:
    coordinator = _coordinator(hass, msg["entry_id"])
    if msg["consent"]:
        camera_id = _camera_id(coordinator, msg["camera_id"])
    else:
        # Consent off is always allowed, even for a camera that can no longer be shared.
        camera_id = coordinator.camera_id_of(msg["camera_id"]) or msg["camera_id"]
        if camera_id not in coordinator.registry and camera_id not in coordinator.settings.cameras:
            raise _NotFoundError(f"No camera {msg['camera_id']!r} on this gateway")
    await coordinator.controls.async_update_camera(camera_id, consent=msg["consent"])


_CAMERAS: Final[dict[Any, Any]] = {vol.Optional("camera_ids"): [cv.string]}
_ACTIONS: Final[list[tuple[str, Any, dict[Any, Any]]]] = [
    ("approve", _approve_or_deny, {vol.Required("request_id"): cv.string, **_CAMERAS}),
    ("deny", _approve_or_deny, {vol.Required("request_id"): cv.string, **_CAMERAS}),
    (
        "revoke",
        _revoke,
        {
            vol.Exclusive("share_id", "what"): cv.string,
            vol.Exclusive("camera_id", "what"): cv.string,
        },
    ),
    ("pause", _pause, {vol.Optional("minutes"): vol.All(int, vol.Range(min=1, max=7 * 24 * 60))}),
    ("resume", _resume, {}),
    (
        "set_consent",
        _set_consent,
        {vol.Required("camera_id"): cv.string, vol.Required("consent"): bool},
    ),
]


def _action_command(name: str, run: Any, schema: dict[Any, Any]) -> Any:
    @require_admin
    @websocket_command({vol.Required("type"): f"rtcc_share/{name}", **_ENTRY, **schema})
    @async_response
    async def handler(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        try:
            await run(hass, msg)
        except _NotFoundError as err:
            connection.send_error(msg["id"], ERR_NOT_FOUND, str(err))
            return
        # HomeAssistantError (the gateway cannot be reached, refused...) is answered by
        # async_response as home_assistant_error with its translated message.
        connection.send_result(msg["id"])

    return handler


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register the panel's commands (once per Home Assistant)."""
    async_register_command(hass, ws_state)
    async_register_command(hass, ws_subscribe)
    async_register_command(hass, ws_audit_export)
    for name, run, schema in _ACTIONS:
        async_register_command(hass, _action_command(name, run, schema))
