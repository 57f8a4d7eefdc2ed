"""Live state of one gateway: its event stream, its state, and the owner's policy pushed to it.

The coordinator keeps to live state and the event loop; what a camera is (`cameras.py`), the
policy's shape (`policy_body.py`), repair issues (`issues.py`), the audit head (`audit_head.py`),
bus events (`bus_events.py`) and stale devices (`devices.py`) live in modules of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
)
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import (
    async_track_state_added_domain,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .announcer import Announcer, CityEventListener
from .audit_head import async_check_audit_head, head_of
from .bus_events import RequestBook
from .cameras import RegisteredCamera, async_read_cameras, find_camera
from .const import (
    BACKOFF_MAX_S,
    BACKOFF_MIN_S,
    BUS_EVENTS,
    DISCOVERY_TIMEOUT_S,
    DOMAIN,
    LEASE_REFRESH_FRACTION,
    LOGGER,
    OWNER_LEASE_S,
)
from .controls import OwnerControls, explain, translated
from .devices import async_remove_stale_devices
from .discovery.lan import DiscoveredCamera, async_scan
from .event_cursor import pending_ids
from .first_connection import CONF_IMPORTED, import_into
from .gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayError,
    GatewayInfo,
)
from .issues import OnvifAuthIssues
from .migrate import async_migrate_camera_ids
from .policy_body import policy_body
from .settings import OwnerSettings

CAMERA_SETTLE_S: Final = 0.5
# Events come in bursts (a decision, a share start, a viewer): re-read the state once per burst.
STATE_REFRESH_COOLDOWN_S: Final = 0.2


class RtccShareCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """Holds `GET /api/v1/state` as its data, kept current by the event stream."""

    config_entry: ConfigEntry
    # The event stream's reconnect delays: the first, and the most it doubles to.
    backoff_s: tuple[float, float] = (BACKOFF_MIN_S, BACKOFF_MAX_S)

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
            request_refresh_debouncer=Debouncer(
                hass, LOGGER, cooldown=STATE_REFRESH_COOLDOWN_S, immediate=True
            ),
        )
        self.client = client
        self.info = info
        self.controls = OwnerControls(
            hass,
            entry,
            client,
            push=self.async_push_policy,
            changed=self.async_update_listeners,
            refresh=self.async_request_refresh,
            connected=lambda: self.connected,
        )
        self.registry: dict[str, RegisteredCamera] = {}
        self.discovered: dict[str, DiscoveredCamera] = {}
        self.requests = RequestBook()
        self.announcer = Announcer(
            hass=hass,
            entry_id=entry.entry_id,
            gateway_id=info.gateway_id,
            requests=self.requests,
            entity_id_of=self.entity_id_of,
        )
        self.connected = False
        self.failed_connects = 0  # consecutive failed (re)connects, for tests and diagnostics
        self.hub_device_id: str | None = None
        self._gone_logged = False
        self._onvif_issues = OnvifAuthIssues(hass)
        self._push_lock = asyncio.Lock()
        self._camera_listeners: list[Callable[[], None]] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._camera_push_pending = False
        self._discovery_task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def async_setup(self) -> None:
        """Load the owner's settings, push them, read the state (ConfigEntryNotReady if down)."""
        await self.controls.async_load()
        changed = bool(
            async_migrate_camera_ids(
                self.hass, self.config_entry, self.info.gateway_id, self.controls.settings
            )
        )
        imported = self.config_entry.data.get(CONF_IMPORTED)
        if isinstance(imported, dict):
            # The first connection: keep what the gateway had (shown in the flow), once.
            taken = import_into(self.controls.settings, imported)
            LOGGER.info("Kept the gateway's %d privacy window(s) and its pause", taken)
            changed = True
        if changed:
            await self.controls.store.async_save(self.controls.settings)
        if imported is not None:
            data = {k: v for k, v in self.config_entry.data.items() if k != CONF_IMPORTED}
            self.hass.config_entries.async_update_entry(self.config_entry, data=data)
        try:
            await self.async_push_policy()
        except GatewayAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except GatewayError as err:
            key, placeholders = explain(err, self.client.base_url)
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
        found = await async_scan(DISCOVERY_TIMEOUT_S)
        if found is not None:
            self.discovered = found

    @callback
    def async_stop(self) -> None:
        """Stop the timers (the background tasks end with the entry)."""
        while self._unsubs:
            self._unsubs.pop()()
        self.controls.async_stop()
        self._debounced_refresh.async_cancel()

    async def _async_update_data(self) -> dict[str, Any]:
        try:
            state = await self.client.get_state()
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
        self.requests.remember_state(state)
        return state

    # --- the owner's choices (controls.py) ----------------------------------------------------

    @property
    def settings(self) -> OwnerSettings:
        """The owner's choices, as kept in Home Assistant."""
        return self.controls.settings

    async def async_push_policy_or_raise(self, *, reread: bool = True) -> None:
        """Push the policy; a translated HomeAssistantError when the gateway cannot take it."""
        await translated(self.async_push_policy(reread=reread), self.client.base_url)

    # --- the policy push ---------------------------------------------------------------------

    async def async_push_policy(self, *, reread: bool = True) -> None:
        """Re-read every camera's stream source and replace the gateway's policy and cameras.

        `reread=False` pushes with the sources read last time: for changes that only take
        sharing away (consent off, pause), which must reach the gateway without waiting on any
        camera.
        """
        async with self._push_lock:
            if reread:
                registry = await async_read_cameras(
                    self.hass, self.config_entry, self._onvif_issues
                )
            else:
                registry = self.registry
            new_cameras = any(
                c.shareable
                and (c.camera_id not in self.registry or not self.registry[c.camera_id].shareable)
                for c in registry.values()
            )
            self.registry = registry
            policy, cameras = policy_body(
                self.hass,
                self.config_entry.options,
                self.settings,
                registry.values(),
                self.controls.camera_settings,
            )
            state = await self.client.put_policy(policy, cameras)
        if reread and self.hass.is_running:
            async_remove_stale_devices(
                self.hass, self.config_entry, self.info.gateway_id, self.registry
            )
        if self.connected or self.data is None:
            self.requests.remember_state(state)
            self.async_set_updated_data(state)
        if new_cameras:
            for listener in list(self._camera_listeners):
                listener()

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
        return self.announcer.add_city_listener(listener)

    # --- the event stream --------------------------------------------------------------------

    async def _run_events(self) -> None:
        first, most = self.backoff_s
        delay = first
        while True:
            try:
                async with self.client.event_stream(*self.settings.event_cursor.query()) as stream:
                    await self._on_connected()
                    delay = first
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
            delay = min(delay * 2, most)

    async def _on_connected(self) -> None:
        await self.async_push_policy()
        state = await self.client.get_state()
        self.requests.remember_state(state)
        was_gone = self._gone_logged
        self.connected = True
        self._gone_logged = False
        self.failed_connects = 0
        self.async_set_updated_data(state)
        await self.controls.async_apply_waiting()
        if was_gone:
            LOGGER.info("The rtcc_share gateway at %s is back", self.client.base_url)
        head = await async_check_audit_head(
            self.hass, self.config_entry.entry_id, self.client, self.settings.audit_head
        )
        if head is not None:
            await self.controls.async_keep_audit_head(head)

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

    async def _handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        cursor = self.settings.event_cursor
        if kind == "replay":  # the stream opens with what it replays (event_cursor.py)
            if cursor.opened(event):
                self.announcer.announce_waiting(self.data, cursor)
            await self.controls.store.async_save(self.settings)
            return
        if not cursor.take(event):
            return  # handled before this reconnect
        if kind == "audit_head":
            head = head_of(event)
            if head is not None:
                await self.controls.async_keep_audit_head(head)
            return
        if kind == "policy_stale":
            await self.async_push_policy()
            return
        if kind in ("request_received", "request_decided"):
            self.requests.remember(event)
        # The gateway announces its own first decision too; "pending" (waiting for the owner)
        # is already what request_received says, so only real decisions go to automations.
        pending_only = kind == "request_decided" and event.get("status") == "pending"
        waiting = pending_ids(self.data)
        if kind in BUS_EVENTS and not pending_only and cursor.should_fire(event, waiting):
            self.announcer.fire(event)
            await self.controls.store.async_save(self.settings)  # never fired twice
        await self.async_request_refresh()

    # --- camera ids --------------------------------------------------------------------------

    def entity_id_of(self, camera_id: str) -> str | None:
        """The camera entity behind a gateway camera id."""
        camera = self.registry.get(camera_id)
        return None if camera is None else camera.entity_id or None

    def camera_id_of(self, name: str) -> str | None:
        """The gateway camera id of a shareable camera (cameras.find_camera)."""
        return find_camera(self.hass, self.registry, self.info.gateway_id, name)
