"""The owner's controls: the choices kept in Home Assistant, and acting on the gateway.

Consent, approval, maximum minutes, the pause and the privacy schedule are stored, then pushed;
requests are approved or denied and shares revoked.

While the gateway is away, what only takes sharing away (consent off, pause, revoke) is kept,
applied at reconnect, and the owner is told so; anything that could widen sharing is refused,
and nothing of it is stored.

Every change is kept first and pushed second, so nothing the owner chose is lost when the gateway
cannot be reached; the error then names the gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time

from .const import (
    CONF_APPROVAL,
    CONF_MAX_MINUTES,
    DEFAULT_APPROVAL,
    DEFAULT_MAX_MINUTES,
    DOMAIN,
    OWNER_LEASE_S,
)
from .gateway_client import (
    GatewayClient,
    GatewayConflictError,
    GatewayError,
    GatewayInvalidError,
    GatewayNotFoundError,
)
from .issues import delete_issue, raise_issue, waiting_issue_id
from .settings import CameraSettings, OwnerSettings, PrivacyWindow, SettingsStore

type Push = Callable[..., Awaitable[None]]  # push(reread=bool): the policy to the gateway


def explain(err: GatewayError, base_url: str) -> tuple[str, dict[str, str]]:
    """The translation key and placeholders that name a gateway failure for the owner."""
    if isinstance(err, GatewayInvalidError):
        return "policy_refused", {"problems": "; ".join(err.problems) or str(err)}
    return "cannot_connect", {"url": base_url}


async def translated(coro: Awaitable[Any], base_url: str) -> Any:
    """Await a gateway call; its failure becomes a HomeAssistantError the owner can read."""
    try:
        return await coro
    except GatewayError as err:
        key, placeholders = explain(err, base_url)
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
        ) from err


class OwnerControls:
    """What the owner can change and do; entities and actions call these."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: GatewayClient,
        *,
        push: Push,
        changed: Callable[[], None],
        refresh: Callable[[], Awaitable[None]],
        connected: Callable[[], bool],
    ) -> None:
        self._hass = hass
        self._entry = entry
        self._client = client
        self._push = push
        self._changed = changed  # entities show the new choice at once
        self._refresh = refresh  # re-read the gateway's state after an action
        self._connected = connected
        self._waiting: list[str] = []  # what the owner did while the gateway was away
        self._waiting_revokes: list[tuple[str, str | None]] = []  # ("share"|"camera", id)
        self.store = SettingsStore(hass, entry.entry_id)
        self.settings = OwnerSettings()
        self._unsub_pause_end: CALLBACK_TYPE | None = None

    async def async_load(self) -> None:
        """Restore the owner's choices kept in Home Assistant's storage."""
        self.settings = await self.store.async_load()
        self._track_pause_end()

    @callback
    def async_stop(self) -> None:
        """Stop watching for a timed pause's end."""
        if self._unsub_pause_end is not None:
            self._unsub_pause_end()
            self._unsub_pause_end = None

    def camera_settings(self, camera_id: str) -> CameraSettings:
        """The owner's choices for a camera (the entry's defaults when none yet)."""
        settings = self.settings.cameras.get(camera_id)
        if settings is None:
            options = self._entry.options
            settings = CameraSettings(
                consent=False,
                approval=options.get(CONF_APPROVAL, DEFAULT_APPROVAL),
                max_minutes=int(options.get(CONF_MAX_MINUTES, DEFAULT_MAX_MINUTES)),
            )
            self.settings.cameras[camera_id] = settings
        return settings

    async def async_update_camera(self, camera_id: str, **changes: Any) -> None:
        """Change a camera's consent, approval or maximum minutes; store, then push."""
        # Consent off only takes sharing away: kept while the gateway is away, and pushed
        # without re-reading any camera.
        tightening = changes == {"consent": False}
        if not tightening:
            self._refuse_while_away()
        settings = self.camera_settings(camera_id)
        for key, value in changes.items():
            setattr(settings, key, value)
        if tightening and await self._kept_while_away(f"consent off for {camera_id}"):
            return
        await self._save_and_push(reread=not tightening)

    async def async_set_paused(self, *, paused: bool, until: datetime | None = None) -> None:
        """Pause (optionally until a time) or resume; store, then tell the gateway."""
        if not paused:
            self._refuse_while_away()
        self.settings.paused = paused
        self.settings.paused_until = until if paused else None
        self._track_pause_end()
        if paused and await self._kept_while_away("pause"):
            return
        await self.store.async_save(self.settings)
        self._changed()
        base = self._client.base_url
        await translated(self._client.pause(until) if paused else self._client.resume(), base)
        await translated(self._push(reread=not paused), base)

    async def async_set_privacy_windows(self, windows: list[PrivacyWindow]) -> None:
        """Replace the privacy schedule; store, then push."""
        # Only adding windows takes sharing away; dropping one could widen it.
        adds_only = set(windows) >= set(self.settings.privacy_windows)
        if not adds_only:
            self._refuse_while_away()
        self.settings.privacy_windows = list(windows)
        if adds_only and await self._kept_while_away("privacy windows added"):
            return
        await self._save_and_push()

    async def async_set_nightly(self, **changes: Any) -> None:
        """Change the nightly privacy window (enabled, start, end); store, then push."""
        self._refuse_while_away()
        for key, value in changes.items():
            setattr(self.settings, f"nightly_{key}", value)
        await self._save_and_push()

    def _refuse_while_away(self) -> None:
        """A change that could widen sharing is not made while the gateway cannot hear it."""
        if not self._connected():
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="gateway_away",
                translation_placeholders={"url": self._client.base_url},
            )

    async def _kept_while_away(self, what: str) -> bool:
        """Away: keep the (tightening) change for the reconnect and tell the owner; True if so."""
        if self._connected():
            return False
        await self.store.async_save(self.settings)
        self._changed()
        self._waiting.append(what)
        raise_issue(
            self._hass,
            waiting_issue_id(self._entry.entry_id),
            "changes_waiting",
            {
                "gateway": self._client.base_url,
                "what": ", ".join(self._waiting),
                "lease": str(OWNER_LEASE_S // 60),
            },
            severity=ir.IssueSeverity.WARNING,
        )
        return True

    async def async_apply_waiting(self) -> None:
        """Back in touch (the policy was just pushed): carry out the revokes kept meanwhile."""
        revokes, self._waiting_revokes = self._waiting_revokes, []
        for kind, ident in revokes:
            try:
                if kind == "share" and ident is not None:
                    await self._client.revoke_share(ident)
                else:
                    await self._client.revoke(ident)
            except (GatewayNotFoundError, GatewayConflictError):
                continue  # already over
        self._waiting.clear()
        delete_issue(self._hass, waiting_issue_id(self._entry.entry_id))

    async def async_keep_audit_head(self, head: str) -> None:
        """Keep the latest audit head seen (outside the gateway, for the chain check)."""
        self.settings.audit_head = head
        await self.store.async_save(self.settings)

    async def _save_and_push(self, *, reread: bool = True) -> None:
        await self.store.async_save(self.settings)
        self._changed()
        await translated(self._push(reread=reread), self._client.base_url)

    # --- acting on the gateway's requests and shares -------------------------------------------

    async def async_approve(self, request_id: str, camera_ids: list[str] | None) -> None:
        """Approve a pending request (GatewayNotFoundError when there is no such request)."""
        self._refuse_while_away()
        await self._act(self._client.approve(request_id, camera_ids))

    async def async_deny(self, request_id: str, camera_ids: list[str] | None) -> None:
        """Deny a pending request (GatewayNotFoundError when there is no such request)."""
        await self._act(self._client.deny(request_id, camera_ids))

    async def async_revoke_share(self, share_id: str) -> None:
        """End one share (GatewayNotFoundError when there is no such share)."""
        if not self._connected():
            self._waiting_revokes.append(("share", share_id))
            await self._kept_while_away(f"revoke {share_id}")
            return
        await self._act(self._client.revoke_share(share_id))

    async def async_revoke(self, camera_id: str | None) -> None:
        """End every share of one camera, or of all."""
        if not self._connected():
            self._waiting_revokes.append(("camera", camera_id))
            await self._kept_while_away(f"revoke {camera_id or 'all'}")
            return
        await self._act(self._client.revoke(camera_id))

    async def _act(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run an owner call; the gateway's 404 passes through, unreachable is translated."""
        try:
            await coro
        except (GatewayNotFoundError, GatewayConflictError):
            raise
        except GatewayInvalidError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gateway_refused",
                translation_placeholders={"problems": "; ".join(err.problems) or str(err)},
            ) from err
        except GatewayError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"url": self._client.base_url},
            ) from err
        await self._refresh()

    @callback
    def _track_pause_end(self) -> None:
        """Show the pause switch off when a timed pause ends by itself."""
        self.async_stop()
        until = self.settings.paused_until
        if self.settings.is_paused() and until is not None:
            self._unsub_pause_end = async_track_point_in_utc_time(
                self._hass, self._pause_ended, until
            )

    @callback
    def _pause_ended(self, _now: datetime) -> None:
        self._unsub_pause_end = None
        self._changed()
