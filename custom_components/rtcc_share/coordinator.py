"""Live state of one gateway: its event stream, its state, and the owner's policy pushed to it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
    HomeAssistantError,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_added_domain,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import const
from .const import (
    BUS_EVENTS,
    CONF_APPROVAL,
    CONF_APPROVAL_TIMEOUT,
    CONF_MAX_MINUTES,
    DEFAULT_APPROVAL,
    DEFAULT_APPROVAL_TIMEOUT_MIN,
    DEFAULT_MAX_MINUTES,
    DISCOVERY_TIMEOUT_S,
    DOMAIN,
    LEASE_REFRESH_FRACTION,
    LOGGER,
    ONVIF_LOOKUP_TIMEOUT_S,
    OWNER_LEASE_S,
    REASON_ERROR,
    REASON_NO_STREAM,
    REASON_NOT_RTSP,
    REASON_ONVIF_AUTH,
    REASON_ONVIF_ERROR,
    REASON_ONVIF_UNREACHABLE,
    SUBENTRY_ONVIF,
)
from .discovery.onvif import (
    OnvifAuthError,
    OnvifConnectionError,
    OnvifError,
    lookup,
    with_credentials,
)
from .discovery.ws_discovery import probe as ws_probe
from .gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayError,
    GatewayInfo,
    GatewayInvalidError,
    GatewayNotFoundError,
)
from .settings import CameraSettings, OwnerSettings, PrivacyWindow, SettingsStore

STREAM_SOURCE_TIMEOUT_S = 10.0
CAMERA_SETTLE_S = 0.5
_ID_CLEAN = re.compile(r"[^a-z0-9_-]+")

type CityEventListener = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class RegisteredCamera:
    """A Home Assistant camera entity, or an ONVIF camera the owner added, as seen here."""

    camera_id: str
    entity_id: str  # "" for an ONVIF camera (it has no camera entity)
    name: str
    source: str | None
    reason: str | None  # why it cannot be shared; None when it can
    subentry_id: str | None = None  # the ONVIF camera's config subentry

    @property
    def shareable(self) -> bool:
        """Its stream source is an RTSP URL the gateway can take."""
        return self.reason is None


@dataclass(frozen=True, slots=True)
class DiscoveredCamera:
    """An ONVIF camera that answered WS-Discovery on the LAN."""

    address: str  # WS-Addressing endpoint reference (urn:uuid:...): its stable identity
    name: str
    host: str
    port: int


def onvif_camera_id(subentry_id: str) -> str:
    """The gateway camera id of an ONVIF camera: from its subentry id (stable, a-z0-9)."""
    return f"onvif_{_ID_CLEAN.sub('_', subentry_id.lower())}"[:64]


def onvif_issue_id(subentry_id: str) -> str:
    """The repair issue raised while an ONVIF camera refuses its stored credentials."""
    return f"onvif_invalid_auth_{subentry_id}"


def camera_id_for(entity_id: str) -> str:
    """The gateway camera id of a camera entity: its object id (a-z, 0-9, _ and -)."""
    object_id = entity_id.partition(".")[2].lower()
    cleaned = _ID_CLEAN.sub("_", object_id).strip("_-") or "camera"
    return cleaned[:64]


class RtccShareCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """Holds `GET /api/v1/state` as its data, kept current by the event stream."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: GatewayClient,
        info: GatewayInfo,
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {info.gateway_id}",
            update_interval=None,
        )
        self.client = client
        self.info = info
        self.store = SettingsStore(hass, entry.entry_id)
        self.settings = OwnerSettings()
        self.registry: dict[str, RegisteredCamera] = {}
        self.connected = False
        self._gone_logged = False
        self.failed_connects = 0  # consecutive failed (re)connects, for tests and diagnostics
        self.hub_device_id: str | None = None
        self._requests: dict[str, dict[str, Any]] = {}
        self._push_lock = asyncio.Lock()
        self._city_listeners: list[CityEventListener] = []
        self._camera_listeners: list[Callable[[], None]] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._camera_push_pending = False
        self._unsub_pause_end: CALLBACK_TYPE | None = None
        self.discovered: dict[str, DiscoveredCamera] = {}
        self._discovery_task: asyncio.Task[None] | None = None
        self._onvif_issues: set[str] = set()  # subentry ids with an open repair issue

    # --- lifecycle ---------------------------------------------------------------------------

    async def async_setup(self) -> None:
        """Load the owner's settings, push them, read the state (ConfigEntryNotReady if down)."""
        self.settings = await self.store.async_load()
        self._track_pause_end()
        try:
            await self.async_push_policy()
        except GatewayAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except GatewayError as err:
            key, placeholders = self._explain(err)
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err

    @callback
    def async_start(self) -> None:
        """Start the event stream, the lease refresh and the camera watch."""
        entry = self.config_entry
        entry.async_create_background_task(
            self.hass, self._run_events(), f"{DOMAIN} event stream {entry.entry_id}"
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._refresh_lease,
                timedelta(seconds=OWNER_LEASE_S / LEASE_REFRESH_FRACTION),
                name=f"{DOMAIN} lease refresh",
            )
        )
        self._unsubs.append(async_track_state_added_domain(self.hass, "camera", self._camera_added))

    @callback
    def async_start_discovery(self) -> None:
        """Look for ONVIF cameras on the LAN in the background (never holds anything up)."""
        if self._discovery_task is not None and not self._discovery_task.done():
            return
        entry = self.config_entry
        self._discovery_task = entry.async_create_background_task(
            self.hass, self._discover(), f"{DOMAIN} ONVIF discovery {entry.entry_id}"
        )

    async def _discover(self) -> None:
        try:
            devices = await ws_probe(timeout=DISCOVERY_TIMEOUT_S)
        except (OSError, ValueError) as err:
            LOGGER.debug("ONVIF discovery failed: %s", err)
            return
        found: dict[str, DiscoveredCamera] = {}
        for device in devices:
            host, port = device.host, device.port
            if not device.is_video_transmitter or host is None or port is None:
                continue
            found[device.address] = DiscoveredCamera(
                address=device.address, name=device.name or host, host=host, port=port
            )
        self.discovered = found
        LOGGER.debug("ONVIF discovery found %d camera(s)", len(found))

    @callback
    def async_stop(self) -> None:
        """Stop the timers (the background task ends with the entry)."""
        while self._unsubs:
            self._unsubs.pop()()
        if self._unsub_pause_end is not None:
            self._unsub_pause_end()
            self._unsub_pause_end = None

    @callback
    def _track_pause_end(self) -> None:
        """Show the pause switch off when a timed pause ends by itself."""
        if self._unsub_pause_end is not None:
            self._unsub_pause_end()
            self._unsub_pause_end = None
        until = self.settings.paused_until
        if self.settings.is_paused() and until is not None:
            self._unsub_pause_end = async_track_point_in_utc_time(
                self.hass, self._pause_ended, until
            )

    @callback
    def _pause_ended(self, _now: datetime) -> None:
        self._unsub_pause_end = None
        self.async_update_listeners()

    async def _async_update_data(self) -> dict[str, Any]:
        try:
            return await self.client.get_state()
        except GatewayAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except GatewayError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"url": self.client.base_url},
            ) from err

    # --- the owner's settings ----------------------------------------------------------------

    def camera_settings(self, camera_id: str) -> CameraSettings:
        """The owner's choices for a camera (the entry's defaults when none yet)."""
        settings = self.settings.cameras.get(camera_id)
        if settings is None:
            options = self.config_entry.options
            settings = CameraSettings(
                consent=False,
                approval=options.get(CONF_APPROVAL, DEFAULT_APPROVAL),
                max_minutes=int(options.get(CONF_MAX_MINUTES, DEFAULT_MAX_MINUTES)),
            )
            self.settings.cameras[camera_id] = settings
        return settings

    async def async_update_camera(self, camera_id: str, **changes: Any) -> None:
        """Change a camera's consent, approval or maximum minutes; store, then push."""
        settings = self.camera_settings(camera_id)
        for key, value in changes.items():
            setattr(settings, key, value)
        await self.async_save_and_push(reread=changes.get("consent") is not False)

    async def async_set_paused(self, *, paused: bool, until: datetime | None = None) -> None:
        """Pause (optionally until a time) or resume; store, then tell the gateway."""
        self.settings.paused = paused
        self.settings.paused_until = until if paused else None
        await self.store.async_save(self.settings)
        self._track_pause_end()
        self.async_update_listeners()
        await self._call(self.client.pause(until) if paused else self.client.resume())
        await self.async_push_policy_or_raise(reread=not paused)

    async def async_set_privacy_windows(self, windows: list[PrivacyWindow]) -> None:
        """Replace the privacy schedule; store, then push."""
        self.settings.privacy_windows = list(windows)
        await self.async_save_and_push()

    async def async_set_nightly(self, **changes: Any) -> None:
        """Change the nightly privacy window (enabled, start, end); store, then push."""
        for key, value in changes.items():
            setattr(self.settings, f"nightly_{key}", value)
        await self.async_save_and_push()

    async def async_approve(self, request_id: str, camera_ids: list[str] | None) -> None:
        """Approve a pending request (GatewayNotFoundError when there is no such request)."""
        await self._gateway_action(self.client.approve(request_id, camera_ids))

    async def async_deny(self, request_id: str, camera_ids: list[str] | None) -> None:
        """Deny a pending request (GatewayNotFoundError when there is no such request)."""
        await self._gateway_action(self.client.deny(request_id, camera_ids))

    async def async_revoke_share(self, share_id: str) -> None:
        """End one share (GatewayNotFoundError when there is no such share)."""
        await self._gateway_action(self.client.revoke_share(share_id))

    async def async_revoke(self, camera_id: str | None) -> None:
        """End every share of one camera, or of all."""
        await self._gateway_action(self.client.revoke(camera_id))

    async def _gateway_action(self, coro: Any) -> None:
        """Run an owner call; the gateway's 404 passes through, unreachable is translated."""
        try:
            await coro
        except GatewayNotFoundError:
            raise
        except GatewayError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"url": self.client.base_url},
            ) from err
        try:
            state = await self.client.get_state()
        except GatewayError:
            return
        self.async_set_updated_data(state)

    async def async_save_and_push(self, *, reread: bool = True) -> None:
        """Store the settings, update the entities, push the policy (raises if it cannot)."""
        await self.store.async_save(self.settings)
        self.async_update_listeners()
        await self.async_push_policy_or_raise(reread=reread)

    async def async_push_policy_or_raise(self, *, reread: bool = True) -> None:
        """Push the policy; a translated HomeAssistantError when the gateway cannot take it."""
        await self._call(self.async_push_policy(reread=reread))

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except GatewayError as err:
            key, placeholders = self._explain(err)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err

    def _explain(self, err: GatewayError) -> tuple[str, dict[str, str]]:
        """The translation key and placeholders that name a gateway failure for the owner."""
        if isinstance(err, GatewayInvalidError):
            return "policy_refused", {"problems": "; ".join(err.problems) or str(err)}
        return "cannot_connect", {"url": self.client.base_url}

    # --- the camera registry and the policy push ---------------------------------------------

    async def async_build_registry(self) -> dict[str, RegisteredCamera]:
        """Every camera entity, with its stream source read now (some URLs expire)."""
        from homeassistant.components.camera import async_get_stream_source  # noqa: PLC0415

        async def read(entity_id: str, name: str) -> RegisteredCamera:
            source: str | None = None
            reason: str | None = None
            try:
                async with asyncio.timeout(STREAM_SOURCE_TIMEOUT_S):
                    source = await async_get_stream_source(self.hass, entity_id)
            except Exception:  # noqa: BLE001 - a broken camera must not stop the others
                LOGGER.debug("No stream source for %s", entity_id, exc_info=True)
                reason = REASON_ERROR
            if reason is None:
                if not source:
                    reason = REASON_NO_STREAM
                elif urlsplit(source).scheme.lower() not in ("rtsp", "rtsps"):
                    reason = REASON_NOT_RTSP
            return RegisteredCamera(
                camera_id=camera_id_for(entity_id),
                entity_id=entity_id,
                name=name,
                source=source if reason is None else None,
                reason=reason,
            )

        states: dict[str, State] = {}
        for state in self.hass.states.async_all("camera"):
            states.setdefault(camera_id_for(state.entity_id), state)
        onvif = [
            sub
            for sub in self.config_entry.subentries.values()
            if sub.subentry_type == SUBENTRY_ONVIF
        ]
        # All at once: one slow cloud camera must not hold back a consent change.
        cameras = await asyncio.gather(
            *(read(s.entity_id, str(s.name or cid)) for cid, s in states.items()),
            *(self._read_onvif(sub) for sub in onvif),
        )
        # A camera the owner removed takes its repair issue with it.
        for subentry_id in self._onvif_issues - {sub.subentry_id for sub in onvif}:
            self._onvif_issues.discard(subentry_id)
            ir.async_delete_issue(self.hass, DOMAIN, onvif_issue_id(subentry_id))
        return {camera.camera_id: camera for camera in cameras}

    async def _read_onvif(self, subentry: ConfigSubentry) -> RegisteredCamera:
        """Look the ONVIF camera up again: its stream URI now, with its credentials added."""
        data = subentry.data
        username = data.get(CONF_USERNAME) or None
        password = data.get(CONF_PASSWORD) or None
        issue_id = onvif_issue_id(subentry.subentry_id)
        source: str | None = None
        reason: str | None = None
        try:
            found = await lookup(
                data[CONF_HOST],
                data[CONF_PORT],
                username,
                password,
                timeout=ONVIF_LOOKUP_TIMEOUT_S,
            )
        except OnvifAuthError as err:
            reason = REASON_ONVIF_AUTH
            LOGGER.debug("ONVIF camera %s: %s", subentry.title, err)
            self._onvif_issues.add(subentry.subentry_id)
            self._raise_issue(
                issue_id,
                "onvif_invalid_auth",
                {"camera": subentry.title, "host": f"{data[CONF_HOST]}:{data[CONF_PORT]}"},
            )
        except OnvifConnectionError as err:
            reason = REASON_ONVIF_UNREACHABLE
            LOGGER.debug("ONVIF camera %s: %s", subentry.title, err)
        except OnvifError as err:
            reason = REASON_ONVIF_ERROR
            LOGGER.debug("ONVIF camera %s: %s", subentry.title, err)
        else:
            source = with_credentials(found.stream_uri, username, password)
            if subentry.subentry_id in self._onvif_issues:
                self._onvif_issues.discard(subentry.subentry_id)
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        return RegisteredCamera(
            camera_id=onvif_camera_id(subentry.subentry_id),
            entity_id="",
            name=subentry.title,
            source=source,
            reason=reason,
            subentry_id=subentry.subentry_id,
        )

    def policy_body(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The policy and the camera list in GATEWAY.md's shapes."""
        options = self.config_entry.options
        timeout_min = int(options.get(CONF_APPROVAL_TIMEOUT, DEFAULT_APPROVAL_TIMEOUT_MIN))
        settings = self.settings
        policy = {
            "timezone": str(self.hass.config.time_zone),
            "paused": settings.is_paused(),
            "paused_until": None
            if not settings.is_paused() or settings.paused_until is None
            else settings.paused_until.isoformat(),
            "privacy_windows": [w.to_json() for w in settings.all_windows()],
            "approval_timeout_s": max(30, min(86400, timeout_min * 60)),
            "owner_lease_s": OWNER_LEASE_S,
        }
        location = {
            "lat": round(float(self.hass.config.latitude), 6),
            "lon": round(float(self.hass.config.longitude), 6),
        }
        cameras = []
        for camera in self.registry.values():
            if not camera.shareable or camera.source is None:
                continue
            cam = self.camera_settings(camera.camera_id)
            cameras.append(
                {
                    "id": camera.camera_id,
                    "label": camera.name[:100] or camera.camera_id,
                    "source": camera.source,
                    "location": location,
                    "consent": cam.consent,
                    "approval": cam.approval,
                    "max_duration_s": max(60, min(43200, cam.max_minutes * 60)),
                    "share_audio": False,
                }
            )
        return policy, cameras

    async def async_push_policy(self, *, reread: bool = True) -> None:
        """Re-read every camera's stream source and replace the gateway's policy and cameras.

        `reread=False` pushes with the sources read last time: for changes that only take
        sharing away (consent off, pause), which must reach the gateway without waiting on any
        camera.
        """
        async with self._push_lock:
            registry = await self.async_build_registry() if reread else self.registry
            new_cameras = any(
                c.shareable
                and (c.camera_id not in self.registry or not self.registry[c.camera_id].shareable)
                for c in registry.values()
            )
            self.registry = registry
            policy, cameras = self.policy_body()
            state = await self.client.put_policy(policy, cameras)
        if reread and self.hass.is_running:
            self._remove_stale_devices()
        if self.connected or self.data is None:
            self.async_set_updated_data(state)
        if new_cameras:
            for listener in list(self._camera_listeners):
                listener()

    @callback
    def _remove_stale_devices(self) -> None:
        """Remove the devices of cameras that are gone for good.

        Gone: not in this push, no ONVIF subentry, and no camera entity in Home Assistant's
        entity registry or state machine with that camera id (a camera whose integration has
        not loaded yet keeps its registry entry, so its device stays).
        """
        gateway_id = self.info.gateway_id
        known = set(self.registry)
        known.update(onvif_camera_id(sid) for sid in self.config_entry.subentries)
        known.update(
            camera_id_for(entity.entity_id)
            for entity in er.async_get(self.hass).entities.values()
            if entity.domain == "camera"
        )
        known.update(camera_id_for(eid) for eid in self.hass.states.async_entity_ids("camera"))
        devices = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(devices, self.config_entry.entry_id):
            for domain, identifier in device.identifiers:
                camera_id = identifier.removeprefix(f"{gateway_id}_")
                if domain != DOMAIN or camera_id == identifier or camera_id in known:
                    continue
                LOGGER.debug("Removing the device of camera %s: it is gone", camera_id)
                devices.async_update_device(
                    device.id, remove_config_entry_id=self.config_entry.entry_id
                )
                break

    async def _refresh_lease(self, _now: datetime) -> None:
        try:
            await self.async_push_policy()
        except GatewayError as err:
            LOGGER.debug("Policy refresh failed: %s", err)

    @callback
    def _camera_added(self, _event: Event[EventStateChangedData]) -> None:
        """A camera entity appeared: push once the batch it came with has settled."""
        if self._camera_push_pending:
            return
        self._camera_push_pending = True
        self.config_entry.async_create_background_task(
            self.hass, self._push_for_new_cameras(), f"{DOMAIN} camera added"
        )

    async def _push_for_new_cameras(self) -> None:
        await asyncio.sleep(CAMERA_SETTLE_S)  # Home Assistant starts cameras in batches
        self._camera_push_pending = False
        await self._refresh_lease(dt_util.utcnow())

    @callback
    def async_add_camera_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` whenever a new shareable camera appears."""
        self._camera_listeners.append(listener)
        return lambda: self._camera_listeners.remove(listener)

    @callback
    def async_add_city_listener(self, listener: CityEventListener) -> CALLBACK_TYPE:
        """Call `listener(event_type, data)` for the City request event entity."""
        self._city_listeners.append(listener)
        return lambda: self._city_listeners.remove(listener)

    # --- the event stream --------------------------------------------------------------------

    async def _run_events(self) -> None:
        delay = const.BACKOFF_MIN_S
        while True:
            try:
                async with self.client.event_stream() as stream:
                    await self._on_connected()
                    delay = const.BACKOFF_MIN_S
                    async for event in stream:
                        await self._handle_event(event)
            except GatewayAuthError:
                self._on_disconnected("the gateway refused the owner token")
                self.config_entry.async_start_reauth(self.hass)
                return
            except GatewayError as err:
                self._on_disconnected(str(err))
            except Exception:  # noqa: BLE001 - survive anything; a reconnect re-reads all
                LOGGER.exception("Unexpected error while following the gateway's events")
                self._on_disconnected("unexpected error")
            await asyncio.sleep(delay)
            delay = min(delay * 2, const.BACKOFF_MAX_S)

    async def _on_connected(self) -> None:
        await self.async_push_policy()
        state = await self.client.get_state()
        self._remember_requests(state)
        was_gone = self._gone_logged
        self.connected = True
        self._gone_logged = False
        self.failed_connects = 0
        self.async_set_updated_data(state)
        if was_gone:
            LOGGER.info("The rtcc_share gateway at %s is back", self.client.base_url)
        await self._check_audit_head()

    @callback
    def _on_disconnected(self, why: str) -> None:
        self.failed_connects += 1
        if not self._gone_logged:
            LOGGER.warning(
                "The rtcc_share gateway at %s went away (%s); retrying with backoff",
                self.client.base_url,
                why,
            )
            self._gone_logged = True
        if self.connected or self.last_update_success:
            self.connected = False
            self.last_update_success = False
            self.async_update_listeners()

    def _remember_requests(self, state: dict[str, Any]) -> None:
        for request in state.get("pending_requests") or []:
            if isinstance(request, dict) and "request_id" in request:
                self._requests[str(request["request_id"])] = request

    async def _handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "audit_head":
            head = event.get("head") or {}
            if isinstance(head, dict) and "seq" in head and "hash" in head:
                self.settings.audit_head = f"{head['seq']}:{head['hash']}"
                await self.store.async_save(self.settings)
            return
        if kind == "policy_stale":
            await self.async_push_policy()
            return
        if kind in ("request_received", "request_decided"):
            self._requests[str(event.get("request_id"))] = event
        # The gateway announces its own first decision too; "pending" (waiting for the owner)
        # is already what request_received says, so only real decisions go to automations.
        pending_only = kind == "request_decided" and event.get("status") == "pending"
        if kind in BUS_EVENTS and not pending_only:
            data = self.event_data(event)
            self.hass.bus.async_fire(BUS_EVENTS[str(kind)], data)
            city_type = _city_event_type(event)
            if city_type is not None:
                for listener in list(self._city_listeners):
                    listener(city_type, data)
        state = await self.client.get_state()
        self._remember_requests(state)
        self.async_set_updated_data(state)

    def entity_id_of(self, camera_id: str) -> str | None:
        """The camera entity behind a gateway camera id."""
        camera = self.registry.get(camera_id)
        return None if camera is None else camera.entity_id or None

    def camera_id_of(self, entity_id_or_camera_id: str) -> str | None:
        """The gateway camera id of a shareable camera, from its entity id or camera id."""
        for camera in self.registry.values():
            if camera.shareable and entity_id_or_camera_id in (
                camera.entity_id or camera.camera_id,
                camera.camera_id,
            ):
                return camera.camera_id
        return None

    def event_data(self, event: dict[str, Any]) -> dict[str, Any]:
        """What a bus event carries: request, agency, incident, offense, reason, cameras, window."""
        request_id = str(event.get("request_id", ""))
        request = self._requests.get(request_id, {})
        camera_ids = list(event.get("camera_ids") or request.get("camera_ids") or [])
        if "camera_id" in event and not event.get("camera_ids"):
            camera_ids = [event["camera_id"]]
        data: dict[str, Any] = {
            "config_entry_id": self.config_entry.entry_id,
            "gateway_id": self.info.gateway_id,
            "request_id": request_id,
            "agency": request.get("agency"),
            "incident_id": request.get("incident_id"),
            "offense": request.get("offense"),
            "reason": request.get("reason"),
            "status": event.get("status", request.get("status")),
            "camera_ids": camera_ids,
            "cameras": [e for e in (self.entity_id_of(c) for c in camera_ids) if e],
            "window": {
                "start": request.get("start"),
                "duration_s": request.get("duration_s"),
                "starts_at": event.get("starts_at"),
                "ends_at": event.get("ends_at"),
            },
        }
        for key in ("share_id", "viewer_id", "viewers", "via"):
            if key in event:
                data[key] = event[key]
        if event.get("type") == "share_ended":
            data["end_reason"] = event.get("reason")
        return data

    # --- the audit head ----------------------------------------------------------------------

    async def _check_audit_head(self) -> None:
        """Does the gateway's chain still hold the latest head this Home Assistant saw?"""
        head = self.settings.audit_head
        result = await self.client.audit_verify(head)
        issue_id = f"audit_chain_{self.config_entry.entry_id}"
        if result.ok:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            if result.head is not None and result.head != head:
                self.settings.audit_head = result.head
                await self.store.async_save(self.settings)
            return
        LOGGER.error(
            "The gateway's audit log no longer holds the head %s this Home Assistant kept "
            "(first bad record: %s)",
            head,
            result.first_bad,
        )
        self._raise_issue(
            issue_id,
            "audit_chain_broken",
            {
                "head": head or "-",
                "first_bad": str(result.first_bad),
                "gateway": self.client.base_url,
            },
        )

    def _raise_issue(self, issue_id: str, key: str, placeholders: dict[str, str]) -> None:
        """A repair issue of this integration: an error the owner fixes outside the flow."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders=placeholders,
        )


def _city_event_type(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    if kind == "request_received":
        return "received"
    if kind == "request_decided":
        status = event.get("status")
        if status in ("approved", "partially_approved"):
            return "approved"
        if status in ("declined", "ended"):
            return "declined"
        return None
    return {
        "share_started": "started",
        "share_ended": "ended",
        "viewer_connected": "viewer_connected",
    }.get(str(kind))
