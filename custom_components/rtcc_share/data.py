"""Typed runtime data of a config entry."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .gateway_client import GatewayClient, GatewayInfo


@dataclass(slots=True)
class RtccShareData:
    """What a loaded entry holds in `entry.runtime_data`."""

    client: GatewayClient
    info: GatewayInfo


type RtccShareConfigEntry = ConfigEntry[RtccShareData]
