"""The ONVIF camera subentry flow: add a camera found on the LAN or entered by address.

Its credentials are checked against the camera before it is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import CONF_ADDRESS, DEFAULT_ONVIF_PORT, LOGGER
from .discovery.onvif import (
    OnvifAuthError,
    OnvifCamera,
    OnvifConnectionError,
    OnvifError,
    lookup,
)
from .flow_fields import PORT_FIELD, SECRET_SELECTOR

CONF_DEVICE = "device"
MANUAL = "manual"


def _address_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_ONVIF_PORT)): (
                PORT_FIELD
            ),
        }
    )


_CREDENTIALS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_USERNAME, default=""): str,
        vol.Optional(CONF_PASSWORD, default=""): SECRET_SELECTOR,
    }
)


async def _onvif_lookup(
    host: str, port: int, username: str, password: str
) -> tuple[OnvifCamera | None, str]:
    """Look the camera up; the error key names what went wrong (never a stack trace)."""
    try:
        return await lookup(host, port, username or None, password or None), ""
    except OnvifAuthError:
        return None, "invalid_auth"
    except OnvifConnectionError:
        return None, "cannot_connect"
    except OnvifError:
        return None, "not_onvif"
    except Exception:  # noqa: BLE001 - the form names any failure instead of crashing
        LOGGER.exception("Unexpected error while looking up the ONVIF camera")
        return None, "unknown"


class OnvifCameraSubentryFlow(ConfigSubentryFlow):
    """Add an ONVIF camera (found on the LAN or entered by address) with its credentials."""

    def __init__(self) -> None:
        """Nothing chosen yet."""
        self._choices: dict[str, dict[str, Any]] = {}
        self._camera: dict[str, Any] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick a camera discovery found (not added yet), or enter an address."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        if user_input is not None:
            if user_input[CONF_DEVICE] == MANUAL:
                return await self.async_step_manual()
            self._camera = self._choices[user_input[CONF_DEVICE]]
            return await self.async_step_credentials()
        coordinator = entry.runtime_data.coordinator
        configured = {sub.unique_id for sub in entry.subentries.values()}
        self._choices = {
            address: {
                CONF_ADDRESS: address,
                CONF_NAME: device.name,
                CONF_HOST: device.host,
                CONF_PORT: device.port,
            }
            for address, device in coordinator.discovered.items()
            if address not in configured
        }
        coordinator.async_start_discovery()  # fresh results for the next time
        if not self._choices:
            return await self.async_step_manual()
        options = [
            SelectOptionDict(
                value=address, label=f"{cam[CONF_NAME]} ({cam[CONF_HOST]}:{cam[CONF_PORT]})"
            )
            for address, cam in self._choices.items()
        ]
        options.append(SelectOptionDict(value=MANUAL, label=MANUAL))
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_DEVICE): SelectSelector(
                        SelectSelectorConfig(
                            options=options,
                            mode=SelectSelectorMode.LIST,
                            translation_key=CONF_DEVICE,
                        )
                    )
                }
            ),
        )

    async def async_step_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The camera's address: host and ONVIF port."""
        if user_input is not None:
            host, port = user_input[CONF_HOST], user_input[CONF_PORT]
            self._camera = {CONF_HOST: host, CONF_PORT: port}
            coordinator = self._get_entry().runtime_data.coordinator
            for device in coordinator.discovered.values():
                if (device.host, device.port) == (host, port):
                    self._camera.update({CONF_ADDRESS: device.address, CONF_NAME: device.name})
            return await self.async_step_credentials()
        return self.async_show_form(step_id="manual", data_schema=_address_schema({}))

    async def async_step_credentials(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Username and password; the camera is looked up before it is stored."""
        camera = self._camera
        errors: dict[str, str] = {}
        if user_input is not None:
            username, password = user_input[CONF_USERNAME], user_input[CONF_PASSWORD]
            found, error = await _onvif_lookup(
                camera[CONF_HOST], camera[CONF_PORT], username, password
            )
            if found is None:
                errors["base"] = error
            else:
                unique_id = camera.get(CONF_ADDRESS) or (
                    f"{found.manufacturer}_{found.serial_number}"
                    if found.serial_number
                    else f"{camera[CONF_HOST]}:{camera[CONF_PORT]}"
                )
                entry = self._get_entry()
                if any(sub.unique_id == unique_id for sub in entry.subentries.values()):
                    return self.async_abort(reason="already_configured")
                name = (
                    camera.get(CONF_NAME)
                    or f"{found.manufacturer} {found.model}".strip()
                    or camera[CONF_HOST]
                )
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_NAME: name,
                        CONF_HOST: camera[CONF_HOST],
                        CONF_PORT: camera[CONF_PORT],
                        CONF_USERNAME: username,
                        CONF_PASSWORD: password,
                        CONF_ADDRESS: unique_id,
                    },
                    unique_id=unique_id,
                )
        return self.async_show_form(
            step_id="credentials",
            data_schema=self.add_suggested_values_to_schema(
                _CREDENTIALS_SCHEMA, {CONF_USERNAME: (user_input or {}).get(CONF_USERNAME, "")}
            ),
            description_placeholders={
                "camera": camera.get(CONF_NAME) or camera[CONF_HOST],
                "host": f"{camera[CONF_HOST]}:{camera[CONF_PORT]}",
            },
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A new address or password for a camera already added (checked before it is stored)."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            _found, error = await _onvif_lookup(
                user_input[CONF_HOST],
                user_input[CONF_PORT],
                user_input[CONF_USERNAME],
                user_input[CONF_PASSWORD],
            )
            if error:
                errors["base"] = error
            else:
                return self.async_update_and_abort(
                    self._get_entry(), subentry, data_updates=user_input
                )
        defaults = user_input or dict(subentry.data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _address_schema(defaults).extend(_CREDENTIALS_SCHEMA.schema),
                {k: v for k, v in defaults.items() if k != CONF_PASSWORD},
            ),
            description_placeholders={"camera": subentry.title},
            errors=errors,
        )
