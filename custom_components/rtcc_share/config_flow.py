"""Config flow: connect Home Assistant to one rtcc_share gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import DEFAULT_PORT, DOMAIN, LOGGER
from .gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayConnectionError,
    GatewayInfo,
    GatewayResponseError,
)

_TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _user_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): vol.All(
                vol.Coerce(int), vol.Range(min=1, max=65535)
            ),
            vol.Required(CONF_TOKEN): _TOKEN_SELECTOR,
        }
    )


class RtccShareConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the connection to a gateway's owner API."""

    VERSION = 1

    async def _probe(self, host: str, port: int, token: str) -> tuple[GatewayInfo | None, str]:
        """Ask the gateway who it is; the error key names what went wrong."""
        client = GatewayClient(async_get_clientsession(self.hass), host, port, token)
        try:
            return await client.get_info(), ""
        except GatewayConnectionError:
            return None, "cannot_connect"
        except GatewayAuthError:
            return None, "invalid_auth"
        except GatewayResponseError:
            return None, "not_a_gateway"
        except Exception:  # noqa: BLE001 - the form names any failure instead of crashing
            LOGGER.exception("Unexpected error while connecting to the gateway")
            return None, "unknown"

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The manual step: host, port and owner token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            info, error = await self._probe(
                user_input[CONF_HOST], user_input[CONF_PORT], user_input[CONF_TOKEN]
            )
            if info is None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(info.gateway_id)
                self._abort_if_unique_id_configured(updates=user_input)
                return self.async_create_entry(
                    title=f"rtcc_share gateway ({user_input[CONF_HOST]})", data=user_input
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _user_schema(user_input or {}), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_reauth(self, _entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The gateway refused the token: ask for the new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the rotated owner token and check it before storing it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            info, error = await self._probe(
                entry.data[CONF_HOST], entry.data[CONF_PORT], user_input[CONF_TOKEN]
            )
            if info is None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(info.gateway_id)
                self._abort_if_unique_id_mismatch(reason="wrong_gateway")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): _TOKEN_SELECTOR}),
            description_placeholders={"host": entry.data[CONF_HOST]},
            errors=errors,
        )
