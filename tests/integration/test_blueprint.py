"""The "ask me on my phone" blueprint, driving a real gateway through the integration."""

from __future__ import annotations

import shutil
from pathlib import Path

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from rtcc_gateway.app import Bound, Gateway

from .conftest import CityCall, cam, wait_for
from .test_event import consent

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "blueprints" / "automation" / "rtcc_share" / "ask_before_sharing.yaml"


async def setup_blueprint(hass: HomeAssistant, tmp_path: Path) -> None:
    Blueprint(
        load_yaml_dict(str(BLUEPRINT)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "rtcc_share"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "rtcc_share/ask_before_sharing.yaml",
                    "input": {"notify_action": "notify.test_phone"},
                }
            }
        },
    )


async def test_tapping_approve_shares_and_deny_declines(
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    city: CityCall,
    tmp_path: Path,
) -> None:
    _, gw, _ = loaded
    notified = async_mock_service(hass, "notify", "test_phone")
    await setup_blueprint(hass, tmp_path)
    await consent(hass)

    _, body = await city()
    await wait_for(lambda: notified)
    data = notified[0].data
    assert data["title"] == "Jackson Police Department asks for live video"
    assert "burglary (JPD-2026-001234)" in data["message"]
    assert "camera.front_door" in data["message"]
    approve = data["data"]["actions"][0]["action"]
    assert approve == f"RTCC_APPROVE_{body['request_id']}"
    hass.bus.async_fire("mobile_app_notification_action", {"action": approve})
    await wait_for(
        lambda: [s["camera_id"] for s in gw.owner_state()["shares"]] == [cam(hass, "front_door")]
    )

    _, body = await city(incident_id="JPD-2026-000002")
    await wait_for(lambda: len(notified) == 2)
    deny = notified[1].data["data"]["actions"][1]["action"]
    assert deny == f"RTCC_DENY_{body['request_id']}"
    hass.bus.async_fire("mobile_app_notification_action", {"action": deny})
    await wait_for(lambda: not gw.owner_state()["pending_requests"])
    assert len(gw.owner_state()["shares"]) == 1
