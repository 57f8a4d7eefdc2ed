"""Typed runtime data of a config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .gateway_client import GatewayClient, GatewayInfo

if TYPE_CHECKING:
    from .coordinator import RtccShareCoordinator


@dataclass(slots=True)
class RtccShareData:
    """What a loaded entry holds in `entry.runtime_data`."""

    client: GatewayClient
    info: GatewayInfo
    coordinator: RtccShareCoordinator


type RtccShareConfigEntry = ConfigEntry[RtccShareData]
