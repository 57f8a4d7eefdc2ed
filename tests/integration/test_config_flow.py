"""The config flow against a real gateway running in this process on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

import pytest
from aiohttp import web
from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import DOMAIN
from custom_components.rtcc_share.first_connection import CONF_IMPORTED
from custom_components.rtcc_share.gateway_client import GatewayClient, GatewayConnectionError

from ..conftest import OWNER_TOKEN

WRONG_TOKEN = "wrong-token-0123456789abcdef"


def user_input(bound: Bound, token: str = OWNER_TOKEN) -> dict[str, object]:
    return {CONF_HOST: "127.0.0.1", CONF_PORT: bound.owner[1], CONF_TOKEN: token}


@pytest.fixture
async def impostor(socket_enabled: None) -> AsyncIterator[dict[str, int]]:
    """Servers that answer on /api/v1/info, but not as a gateway would."""

    async def server_error(_r: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def html(_r: web.Request) -> web.Response:
        return web.Response(text="<html>router login</html>", content_type="text/html")

    async def wrong_shape(_r: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    runners: list[web.AppRunner] = []
    ports: dict[str, int] = {}
    for name, handler in (
        ("server_error", server_error),
        ("html", html),
        ("wrong_shape", wrong_shape),
    ):
        app = web.Application()
        app.router.add_get("/api/v1/info", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        ports[name] = runner.addresses[0][1]
    yield ports
    for runner in runners:
        await runner.cleanup()


async def test_user_step_creates_one_entry_per_gateway(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    gw, bound = gateway
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(bound))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm", "what sharing means, before anything is set up"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "rtcc_share gateway (127.0.0.1)"
    assert {k: result["data"][k] for k in user_input(bound)} == user_input(bound)
    assert result["result"].unique_id == gw.gateway_id
    await hass.async_block_till_done()
    assert CONF_IMPORTED not in result["result"].data, "imported once, then dropped"

    # The same gateway again: refused, the entry keeps one copy.
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    again = await hass.config_entries.flow.async_configure(again["flow_id"], user_input(bound))
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_already_configured_updates_the_address(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    gw, bound = gateway
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=gw.gateway_id,
        data={CONF_HOST: "10.9.9.9", CONF_PORT: 1, CONF_TOKEN: "old-token-0123456789"},
    )
    entry.add_to_hass(hass)
    with patch("custom_components.rtcc_share.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}, data=user_input(bound)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == user_input(bound)


async def test_unreachable_gateway_is_named_and_the_form_recovers(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], closed_port: int
) -> None:
    _, bound = gateway
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    bad = {CONF_HOST: "127.0.0.1", CONF_PORT: closed_port, CONF_TOKEN: OWNER_TOKEN}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(bound))
    assert result["step_id"] == "confirm"


async def test_the_first_connection_keeps_the_gateways_windows_and_pause(
    hass: HomeAssistant, gateway_factory: Any, config_dict: dict[str, Any]
) -> None:
    """A gateway that ran on its own file: the flow shows its windows, pause and cameras, and
    Home Assistant keeps the windows and the pause instead of pushing nothing over them."""
    config_dict["policy"]["privacy_windows"] = [{"days": ["mon"], "start": "22:00", "end": "07:00"}]
    config_dict["policy"]["paused"] = True
    gw, bound = await gateway_factory(config_dict)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(bound))
    assert result["step_id"] == "confirm"
    shown = result["description_placeholders"]
    assert shown["windows"] == "22:00 to 07:00 (mon)"
    assert shown["pause"] == "paused"
    assert shown["cameras"] == "Front door (front_door)"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    policy = gw.owner_state()["policy"]
    assert policy["privacy_windows"] == [{"days": ["mon"], "start": "22:00", "end": "07:00"}]
    assert policy["paused"] is True
    assert [c["id"] for c in gw.owner_state()["cameras"]] != ["front_door"], "HA decides now"
    settings = result["result"].runtime_data.coordinator.settings
    assert [w.to_json() for w in settings.privacy_windows] == policy["privacy_windows"]


async def test_a_gateway_whose_state_cannot_be_read_still_connects(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, bound = gateway

    async def broken(_self: Any) -> dict[str, Any]:
        raise GatewayConnectionError("gone")

    monkeypatch.setattr(GatewayClient, "get_state", broken)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(bound))
    assert result["description_placeholders"] == {
        "windows": "unknown",
        "pause": "unknown",
        "cameras": "unknown",
    }
    monkeypatch.undo()
    with patch("custom_components.rtcc_share.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == user_input(bound)


async def test_wrong_token_is_named(hass: HomeAssistant, gateway: tuple[Gateway, Bound]) -> None:
    _, bound = gateway
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(bound, WRONG_TOKEN)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}


@pytest.mark.parametrize("kind", ["server_error", "html", "wrong_shape"])
async def test_something_that_is_not_a_gateway_is_named(
    hass: HomeAssistant, impostor: dict[str, int], kind: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: impostor[kind], CONF_TOKEN: OWNER_TOKEN},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_a_gateway"}


async def test_unexpected_error_is_logged_and_named_unknown(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    with patch(
        "custom_components.rtcc_share.config_flow.GatewayClient.get_info",
        side_effect=RuntimeError("surprise"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: 9, CONF_TOKEN: OWNER_TOKEN}
        )
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while connecting to the gateway" in caplog.text


async def test_reauth_takes_the_rotated_token(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    gw, bound = gateway
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=gw.gateway_id, data=user_input(bound, WRONG_TOKEN)
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["host"] == "127.0.0.1"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong-0123456789"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: OWNER_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == OWNER_TOKEN
    await hass.async_block_till_done()


async def test_reauth_refuses_a_different_gateway(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    _, bound = gateway
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="gw_someoneelse", data=user_input(bound, WRONG_TOKEN)
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: OWNER_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_gateway"
    assert entry.data[CONF_TOKEN] == WRONG_TOKEN


async def announced(hass: HomeAssistant, config: dict[str, object]) -> ConfigFlowResult:
    """The add-on announces itself through the Supervisor with `config`."""
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_HASSIO},
        data=HassioServiceInfo(
            config=config, name="RTCC Share gateway", slug="rtcc_share", uuid="1234"
        ),
    )


async def test_supervisor_discovery_asks_for_the_waiver_then_creates_the_entry(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    gw, bound = gateway
    with patch("custom_components.rtcc_share.async_setup_entry", return_value=True):
        result = await announced(
            hass, {"host": "127.0.0.1", "port": bound.owner[1], "token": OWNER_TOKEN}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "hassio_confirm"
        assert result["description_placeholders"]["addon"] == "RTCC Share gateway"
        assert result["description_placeholders"]["windows"] == "none"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {k: result["data"][k] for k in user_input(bound)} == user_input(bound)
    assert result["result"].unique_id == gw.gateway_id


async def test_supervisor_discovery_updates_a_known_gateway(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    gw, bound = gateway
    entry = MockConfigEntry(domain=DOMAIN, unique_id=gw.gateway_id, data=user_input(bound, "x"))
    entry.add_to_hass(hass)
    with patch("custom_components.rtcc_share.async_setup_entry", return_value=True):
        result = await announced(
            hass, {"host": "127.0.0.1", "port": bound.owner[1], "token": OWNER_TOKEN}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_TOKEN] == OWNER_TOKEN


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"host": "127.0.0.1"}, "invalid_discovery_info"),
        ({"host": "127.0.0.1", "port": "nope", "token": OWNER_TOKEN}, "invalid_discovery_info"),
        ({"host": "127.0.0.1", "port": "OWNER", "token": WRONG_TOKEN}, "invalid_auth"),
    ],
)
async def test_supervisor_discovery_that_does_not_work_aborts(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], config: dict[str, object], reason: str
) -> None:
    _, bound = gateway
    if config.get("port") == "OWNER":
        config = {**config, "port": bound.owner[1]}
    result = await announced(hass, config)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_reconfigure_changes_the_address(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound], closed_port: int
) -> None:
    gw, bound = gateway
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=gw.gateway_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: closed_port, CONF_TOKEN: OWNER_TOKEN},
    )
    entry.add_to_hass(hass)
    with patch("custom_components.rtcc_share.async_setup_entry", return_value=True):
        result = await entry.start_reconfigure_flow(hass)
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: closed_port, CONF_TOKEN: OWNER_TOKEN},
        )
        assert result["errors"] == {"base": "cannot_connect"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(bound)
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == bound.owner[1]


async def test_reconfigure_refuses_a_different_gateway(
    hass: HomeAssistant, gateway: tuple[Gateway, Bound]
) -> None:
    _, bound = gateway
    entry = MockConfigEntry(domain=DOMAIN, unique_id="gw_other", data=user_input(bound))
    entry.add_to_hass(hass)
    with patch("custom_components.rtcc_share.async_setup_entry", return_value=True):
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(bound)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_gateway"


async def test_options_set_the_defaults(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id="gw_x", data={})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"approval": "auto", "max_minutes": 30, "approval_timeout_minutes": 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"approval": "auto", "max_minutes": 30, "approval_timeout_minutes": 5}
