"""The cameras this Home Assistant can offer: camera entities and the owner's ONVIF cameras.

Each comes with its stream source read now (some URLs expire) or the reason it cannot be offered.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from .const import (
    DOMAIN,
    LOGGER,
    ONVIF_LOOKUP_TIMEOUT_S,
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
from .issues import OnvifAuthIssues

STREAM_SOURCE_TIMEOUT_S = 10.0
_ID_CLEAN = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class RegisteredCamera:
    """A Home Assistant camera entity, or an ONVIF camera the owner added, as seen here."""

    camera_id: str
    entity_id: str  # "" for an ONVIF camera (it has no camera entity)
    name: str
    source: str | None
    reason: str | None  # why it cannot be shared; None when it can
    subentry_id: str | None = None  # the ONVIF camera's config subentry
    device_id: str | None = None  # the camera entity's own device, if it has one

    @property
    def shareable(self) -> bool:
        """Its stream source is an RTSP URL the gateway can take."""
        return self.reason is None


def onvif_camera_id(subentry_id: str) -> str:
    """The gateway camera id of an ONVIF camera: from its subentry id (stable, a-z0-9)."""
    return f"onvif_{_ID_CLEAN.sub('_', subentry_id.lower())}"[:64]


def camera_id_for(entity_id: str) -> str:
    """A camera entity's object id (a-z, 0-9, _ and -).

    The gateway camera id of a camera without an entity registry entry, and the id every camera
    had before ids were stable (migrate.py).
    """
    object_id = entity_id.partition(".")[2].lower()
    cleaned = _ID_CLEAN.sub("_", object_id).strip("_-") or "camera"
    return cleaned[:64]


def stable_camera_id(entry_id: str, registry_id: str) -> str:
    """The gateway camera id of a registered camera entity.

    From the entity registry's id, which survives a rename; hashed with the config entry, so
    what the city sees says nothing of the camera or of Home Assistant.
    """
    digest = hashlib.sha256(f"{entry_id}:{registry_id}".encode()).hexdigest()
    return f"cam_{digest[:20]}"


def entity_camera_id(hass: HomeAssistant, entry_id: str, entity_id: str) -> str:
    """The gateway camera id of a camera entity, stable when the entity is registered."""
    registered = er.async_get(hass).async_get(entity_id)
    if registered is None:
        return camera_id_for(entity_id)
    return stable_camera_id(entry_id, registered.id)


def find_camera(
    hass: HomeAssistant, registry: Mapping[str, RegisteredCamera], gateway_id: str, name: str
) -> str | None:
    """The gateway camera id of a shareable camera named by the owner.

    `name` may be the camera entity, any of this integration's entities of that camera (its
    Share with city switch, say: ONVIF cameras have no camera entity), or the camera id itself.
    """
    if name in registry and registry[name].shareable:
        return name
    for camera in registry.values():
        if camera.shareable and camera.entity_id and camera.entity_id == name:
            return camera.camera_id
    ours = er.async_get(hass).async_get(name)
    if ours is not None and ours.platform == DOMAIN:
        for camera in registry.values():
            if camera.shareable and ours.unique_id.startswith(f"{gateway_id}_{camera.camera_id}_"):
                return camera.camera_id
    return None


def onvif_subentries(entry: ConfigEntry) -> list[ConfigSubentry]:
    """The owner's ONVIF cameras on this gateway's entry."""
    return [sub for sub in entry.subentries.values() if sub.subentry_type == SUBENTRY_ONVIF]


async def async_read_cameras(
    hass: HomeAssistant, entry: ConfigEntry, issues: OnvifAuthIssues
) -> dict[str, RegisteredCamera]:
    """Every camera entity and ONVIF camera, read now.

    All at once: one slow cloud camera must not hold back a consent change.
    """
    states: dict[str, State] = {}
    for state in hass.states.async_all("camera"):
        states.setdefault(entity_camera_id(hass, entry.entry_id, state.entity_id), state)
    onvif = onvif_subentries(entry)
    cameras = await asyncio.gather(
        *(_read_entity(hass, cid, s.entity_id, str(s.name or cid)) for cid, s in states.items()),
        *(_read_onvif(sub, issues) for sub in onvif),
    )
    issues.keep_only({sub.subentry_id for sub in onvif})
    return {camera.camera_id: camera for camera in cameras}


async def _read_entity(
    hass: HomeAssistant, camera_id: str, entity_id: str, name: str
) -> RegisteredCamera:
    from homeassistant.components.camera import async_get_stream_source  # noqa: PLC0415

    source: str | None = None
    reason: str | None = None
    try:
        async with asyncio.timeout(STREAM_SOURCE_TIMEOUT_S):
            source = await async_get_stream_source(hass, entity_id)
    except Exception:  # noqa: BLE001 - a broken camera must not stop the others
        LOGGER.debug("No stream source for %s", entity_id, exc_info=True)
        reason = REASON_ERROR
    if reason is None:
        if not source:
            reason = REASON_NO_STREAM
        elif urlsplit(source).scheme.lower() not in ("rtsp", "rtsps"):
            reason = REASON_NOT_RTSP
    registered = er.async_get(hass).async_get(entity_id)
    return RegisteredCamera(
        camera_id=camera_id,
        entity_id=entity_id,
        name=name,
        source=source if reason is None else None,
        reason=reason,
        device_id=registered.device_id if registered is not None else None,
    )


async def _read_onvif(subentry: ConfigSubentry, issues: OnvifAuthIssues) -> RegisteredCamera:
    """Ask the ONVIF camera for its stream URI now; the credentials go into it for the gateway."""
    data = subentry.data
    username = data.get(CONF_USERNAME) or None
    password = data.get(CONF_PASSWORD) or None
    source: str | None = None
    reason: str | None = None
    try:
        found = await lookup(
            data[CONF_HOST], data[CONF_PORT], username, password, timeout=ONVIF_LOOKUP_TIMEOUT_S
        )
    except OnvifAuthError as err:
        reason = REASON_ONVIF_AUTH
        LOGGER.debug("ONVIF camera %s: %s", subentry.title, err)
        issues.refused(subentry.subentry_id, subentry.title, f"{data[CONF_HOST]}:{data[CONF_PORT]}")
    except OnvifConnectionError as err:
        reason = REASON_ONVIF_UNREACHABLE
        LOGGER.debug("ONVIF camera %s: %s", subentry.title, err)
    except OnvifError as err:
        reason = REASON_ONVIF_ERROR
        LOGGER.debug("ONVIF camera %s: %s", subentry.title, err)
    else:
        source = with_credentials(found.stream_uri, username, password)
        issues.accepted(subentry.subentry_id)
    return RegisteredCamera(
        camera_id=onvif_camera_id(subentry.subentry_id),
        entity_id="",
        name=subentry.title,
        source=source,
        reason=reason,
        subentry_id=subentry.subentry_id,
    )
