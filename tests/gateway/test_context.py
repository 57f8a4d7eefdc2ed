"""What request handlers may reach of the running gateway: each API's narrow interface, and the
gateway that app.py puts under its key provides every member of it."""

from __future__ import annotations

from typing import Any

import pytest
from rtcc_gateway.app import Gateway
from rtcc_gateway.config import parse_config
from rtcc_gateway.context import CityContext, OwnerContext


def members(protocol: type) -> set[str]:
    """The names a context's handlers may use."""
    return {name for name in vars(protocol) if not name.startswith("_")}


@pytest.mark.parametrize("context", [CityContext, OwnerContext])
def test_the_gateway_provides_every_member_of_each_context(
    context: type, config_dict: dict[str, Any]
) -> None:
    gateway = Gateway(parse_config(config_dict))
    provided = set(dir(Gateway)) | set(vars(gateway))
    wanted = members(context)
    assert wanted, "the context names what handlers use"
    assert wanted <= provided, wanted - provided


def test_the_city_sees_neither_the_audit_log_nor_the_event_stream() -> None:
    assert {"audit", "events", "websockets"}.isdisjoint(members(CityContext))
    assert {"rate_limiter", "nonces", "audit_auth_failure"}.isdisjoint(members(OwnerContext))
