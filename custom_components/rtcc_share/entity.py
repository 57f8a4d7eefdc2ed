"""Base entities: the gateway's hub device and one device per shared camera."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import RtccShareCoordinator
from .data import RtccShareConfigEntry
from .settings import CameraSettings

type HubEntities = Callable[[RtccShareCoordinator], Iterable[Entity]]
type CameraEntities = Callable[[RtccShareCoordinator, str], Iterable[Entity]]
type PlatformSetup = Callable[
    [HomeAssistant, RtccShareConfigEntry, AddConfigEntryEntitiesCallback],
    Coroutine[Any, Any, None],
]


def hub_device(coordinator: RtccShareCoordinator) -> DeviceInfo:
    """The home hub: the gateway itself."""
    info = coordinator.info
    return DeviceInfo(
        identifiers={(DOMAIN, info.gateway_id)},
        name="RTCC Share",
        manufacturer="RTCC Share",
        model=f"Gateway ({info.restreamer})",
        sw_version=info.version,
    )


class RtccShareEntity(CoordinatorEntity[RtccShareCoordinator]):
    """An entity of the hub device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: RtccShareCoordinator, key: str) -> None:
        super().__init__(coordinator)
        self._attr_translation_key = key
        self._attr_unique_id = f"{coordinator.info.gateway_id}_{key}"
        self._attr_device_info = hub_device(coordinator)


class RtccShareCameraEntity(CoordinatorEntity[RtccShareCoordinator]):
    """An entity of one shared camera, on the camera's own device when it has one."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: RtccShareCoordinator, camera_id: str, key: str) -> None:
        super().__init__(coordinator)
        self.camera_id = camera_id
        gateway_id = coordinator.info.gateway_id
        self._attr_translation_key = key
        self._attr_unique_id = f"{gateway_id}_{camera_id}_{key}"
        camera = coordinator.registry.get(camera_id)
        own = None
        if camera is not None and camera.device_id is not None:
            own = dr.async_get(coordinator.hass).async_get(camera.device_id)
        if own is not None:
            # Beside the camera's other entities: one device per camera, named as it is.
            self.device_entry = own
            return
        onvif = camera is not None and camera.subentry_id is not None
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{gateway_id}_{camera_id}")},
            name=camera.name if camera else camera_id,
            model="ONVIF camera" if onvif else "Camera",
            **({"via_device_id": coordinator.hub_device_id} if coordinator.hub_device_id else {}),
        )

    @property
    def available(self) -> bool:
        """Available while the gateway is and the camera can still be shared."""
        camera = self.coordinator.registry.get(self.camera_id)
        return super().available and camera is not None and camera.shareable

    @property
    def settings(self) -> CameraSettings:
        """The owner's choices for this camera."""
        return self.coordinator.controls.camera_settings(self.camera_id)

    @property
    def gateway_camera(self) -> dict[str, object]:
        """This camera in the gateway's state ({} when the gateway does not list it)."""
        for camera in (self.coordinator.data or {}).get("cameras") or []:
            if isinstance(camera, dict) and camera.get("id") == self.camera_id:
                return camera
        return {}


def _add_camera_entities(
    entry: RtccShareConfigEntry,
    coordinator: RtccShareCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[str], Iterable[Entity]],
) -> None:
    """Add a platform's entities for every shareable camera, now and whenever one appears."""
    known: set[str] = set()

    @callback
    def add_new() -> None:
        # An ONVIF camera's entities (and so its device) belong to its config subentry, so
        # removing the camera in the UI removes its device too.
        new: dict[str | None, list[str]] = {}
        for cid, cam in coordinator.registry.items():
            if cam.shareable and cid not in known:
                new.setdefault(cam.subentry_id, []).append(cid)
                known.add(cid)
        for subentry_id, cids in new.items():
            async_add_entities(
                [entity for cid in cids for entity in factory(cid)],
                config_subentry_id=subentry_id,
            )

    add_new()
    entry.async_on_unload(coordinator.async_add_camera_listener(add_new))


def platform_setup(
    *, hub: HubEntities | None = None, camera: CameraEntities | None = None
) -> PlatformSetup:
    """A platform's `async_setup_entry`: its hub entities once, its camera entities per camera.

    Every platform of this integration adds entities the same way, so each one only says which.
    """

    async def async_setup_entry(
        _hass: HomeAssistant,
        entry: RtccShareConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        coordinator = entry.runtime_data.coordinator
        if hub is not None:
            async_add_entities(list(hub(coordinator)))
        if camera is not None:
            _add_camera_entities(
                entry, coordinator, async_add_entities, lambda cid: camera(coordinator, cid)
            )

    return async_setup_entry
