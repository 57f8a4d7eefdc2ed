"""Config flow: connect Home Assistant to one rtcc_share gateway (ONVIF cameras: onvif_flow.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_TOKEN,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .const import (
    APPROVAL_MODES,
    CONF_APPROVAL,
    CONF_APPROVAL_TIMEOUT,
    CONF_MAX_MINUTES,
    DEFAULT_APPROVAL,
    DEFAULT_APPROVAL_TIMEOUT_MIN,
    DEFAULT_MAX_MINUTES,
    DEFAULT_PORT,
    DOMAIN,
    LOGGER,
    MAX_SHARE_MINUTES,
    MIN_SHARE_MINUTES,
    SUBENTRY_ONVIF,
)
from .first_connection import CONF_IMPORTED, placeholders, snapshot
from .flow_fields import PORT_FIELD, SECRET_SELECTOR
from .gateway_client import (
    GatewayAuthError,
    GatewayClient,
    GatewayConnectionError,
    GatewayError,
    GatewayInfo,
    GatewayResponseError,
)
from .onvif_flow import OnvifCameraSubentryFlow


def _user_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): PORT_FIELD,
            vol.Required(CONF_TOKEN): SECRET_SELECTOR,
        }
    )


def _options_schema(options: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(
                CONF_APPROVAL, default=options.get(CONF_APPROVAL, DEFAULT_APPROVAL)
            ): SelectSelector(
                SelectSelectorConfig(
                    options=list(APPROVAL_MODES),
                    mode=SelectSelectorMode.LIST,
                    translation_key=CONF_APPROVAL,
                )
            ),
            vol.Required(
                CONF_MAX_MINUTES, default=options.get(CONF_MAX_MINUTES, DEFAULT_MAX_MINUTES)
            ): vol.All(
                NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SHARE_MINUTES,
                        max=MAX_SHARE_MINUTES,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="min",
                    )
                ),
                vol.Coerce(int),
            ),
            vol.Required(
                CONF_APPROVAL_TIMEOUT,
                default=options.get(CONF_APPROVAL_TIMEOUT, DEFAULT_APPROVAL_TIMEOUT_MIN),
            ): vol.All(
                NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=1440,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="min",
                    )
                ),
                vol.Coerce(int),
            ),
        }
    )


class RtccShareOptionsFlow(OptionsFlow):
    """Defaults: approval mode and maximum minutes for new cameras, the approval timeout."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with the three defaults."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init", data_schema=_options_schema(self.config_entry.options)
        )


class RtccShareConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the connection to a gateway's owner API."""

    VERSION = 1

    def __init__(self) -> None:
        """Nothing discovered yet."""
        self._discovered: dict[str, Any] = {}
        self._snapshot: dict[str, Any] | None = None
        self._addon_name = ""

    @staticmethod
    @callback
    def async_get_options_flow(_config_entry: ConfigEntry) -> RtccShareOptionsFlow:
        """The defaults."""
        return RtccShareOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, _config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """ONVIF cameras on the LAN, one subentry each."""
        return {SUBENTRY_ONVIF: OnvifCameraSubentryFlow}

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

    async def _identify(self, host: str, port: int, token: str, errors: dict[str, str]) -> bool:
        """Probe the gateway and take its id as this flow's; else name the error for the form."""
        info, error = await self._probe(host, port, token)
        if info is None:
            errors["base"] = error
            return False
        await self.async_set_unique_id(info.gateway_id)
        return True

    async def _read_gateway(self) -> None:
        """What the gateway has now, to show and keep (None when it cannot be read)."""
        client = GatewayClient(
            async_get_clientsession(self.hass),
            self._discovered[CONF_HOST],
            self._discovered[CONF_PORT],
            self._discovered[CONF_TOKEN],
        )
        try:
            self._snapshot = snapshot(await client.get_state())
        except GatewayError:
            self._snapshot = None

    def _confirm(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        title: str,
        shown: dict[str, str],
    ) -> ConfigFlowResult:
        """Show what sharing means and what the gateway has now; once confirmed, the entry.

        The entry keeps that snapshot, so the first connection imports it.
        """
        if user_input is None:
            return self.async_show_form(
                step_id=step_id, description_placeholders={**shown, **placeholders(self._snapshot)}
            )
        data: dict[str, Any] = dict(self._discovered)
        if self._snapshot is not None:
            data[CONF_IMPORTED] = self._snapshot
        return self.async_create_entry(title=title, data=data)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The manual step: host, port and owner token."""
        errors: dict[str, str] = {}
        if user_input is not None and await self._identify(
            user_input[CONF_HOST], user_input[CONF_PORT], user_input[CONF_TOKEN], errors
        ):
            self._abort_if_unique_id_configured(updates=user_input)
            self._discovered = dict(user_input)
            await self._read_gateway()
            return await self.async_step_confirm()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _user_schema(user_input or {}), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What sharing means, and what the gateway has now, before anything is set up."""
        title = f"rtcc_share gateway ({self._discovered[CONF_HOST]})"
        return self._confirm("confirm", user_input, title, {})

    async def async_step_reauth(self, _entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The gateway refused the token: ask for the new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the rotated owner token and check it before storing it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None and await self._identify(
            entry.data[CONF_HOST], entry.data[CONF_PORT], user_input[CONF_TOKEN], errors
        ):
            self._abort_if_unique_id_mismatch(reason="wrong_gateway")
            return self.async_update_reload_and_abort(
                entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
            )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): SECRET_SELECTOR}),
            description_placeholders={"host": entry.data[CONF_HOST]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address or token of the same gateway."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None and await self._identify(
            user_input[CONF_HOST], user_input[CONF_PORT], user_input[CONF_TOKEN], errors
        ):
            self._abort_if_unique_id_mismatch(reason="wrong_gateway")
            return self.async_update_reload_and_abort(entry, data_updates=user_input)
        defaults = user_input or dict(entry.data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _user_schema(defaults), {k: v for k, v in defaults.items() if k != CONF_TOKEN}
            ),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through the Supervisor (host, port, owner token)."""
        config = discovery_info.config
        try:
            host = str(config[CONF_HOST])
            port = int(config[CONF_PORT])
            token = str(config[CONF_TOKEN])
        except (KeyError, TypeError, ValueError):
            return self.async_abort(reason="invalid_discovery_info")
        info, error = await self._probe(host, port, token)
        if info is None:
            return self.async_abort(reason=error)
        await self.async_set_unique_id(info.gateway_id)
        self._discovered = {CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token}
        self._abort_if_unique_id_configured(updates=self._discovered)
        self._addon_name = discovery_info.name
        await self._read_gateway()
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The waiver: what sharing means, before anything is set up."""
        title = f"rtcc_share gateway ({self._addon_name})"
        return self._confirm("hassio_confirm", user_input, title, {"addon": self._addon_name})
