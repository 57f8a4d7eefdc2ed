"""ONVIF cameras that answer WS-Discovery on the LAN, as offered in the "Add ONVIF camera" step."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .ws_discovery import probe as ws_probe

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveredCamera:
    """An ONVIF camera that answered WS-Discovery on the LAN."""

    address: str  # WS-Addressing endpoint reference (urn:uuid:...): its stable identity
    name: str
    host: str
    port: int


async def async_scan(timeout: float) -> dict[str, DiscoveredCamera] | None:
    """The video transmitters that answered, by endpoint address; None when probing failed."""
    try:
        devices = await ws_probe(timeout=timeout)
    except (OSError, ValueError) as err:
        _LOGGER.debug("ONVIF discovery failed: %s", err)
        return None
    found: dict[str, DiscoveredCamera] = {}
    for device in devices:
        host, port = device.host, device.port
        if not device.is_video_transmitter or host is None or port is None:
            continue
        found[device.address] = DiscoveredCamera(
            address=device.address, name=device.name or host, host=host, port=port
        )
    _LOGGER.debug("ONVIF discovery found %d camera(s)", len(found))
    return found
