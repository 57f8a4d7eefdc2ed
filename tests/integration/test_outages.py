"""While the gateway is away: what takes sharing away is kept and applied at reconnect (and the
owner is told so); what could widen it is refused, and nothing of it is stored (controls.py)."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.rtcc_share.const import DOMAIN
from custom_components.rtcc_share.issues import waiting_issue_id

from .conftest import (
    CONSENT,
    PAUSE,
    CityCall,
    Outage,
    auto_share,
    cam,
    switch,
    wait_for,
)


def waiting(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, waiting_issue_id(entry.entry_id))


async def test_consent_off_and_pause_are_kept_and_applied_at_reconnect(
    hass: HomeAssistant, outage: Outage
) -> None:
    entry = outage.entry
    await switch(hass, CONSENT, True)
    await outage.leave()
    await hass.async_block_till_done()
    assert hass.states.get(CONSENT).state == "on", "usable while the gateway is away"
    assert hass.states.get(PAUSE).state == "off"
    # What can only widen sharing is greyed out, and says why when called.
    assert hass.states.get("switch.rtcc_share_nightly_privacy_window").state == "unavailable"

    await switch(hass, CONSENT, False)
    await hass.services.async_call(DOMAIN, "pause", {}, blocking=True)
    assert hass.states.get(CONSENT).state == "off"
    assert hass.states.get(PAUSE).state == "on"
    issue = waiting(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert "pause" in issue.translation_placeholders["what"]
    assert issue.translation_placeholders["lease"] == "15"

    back = await outage.back()
    state = back.owner_state()
    assert state["paused"] is True
    assert {c["id"]: c["consent"] for c in state["cameras"]}[cam(hass, "front_door")] is False
    await wait_for(lambda: waiting(hass, entry) is None)


async def test_a_revoke_while_away_ends_the_share_at_reconnect(
    hass: HomeAssistant, outage: Outage, city: CityCall
) -> None:
    entry = outage.entry
    await auto_share(hass, city)
    await outage.leave()

    await hass.services.async_call(DOMAIN, "revoke_all", {}, blocking=True)
    assert waiting(hass, entry) is not None

    back = await outage.back()
    # The share came back with the gateway's database, and the kept revoke ended it.
    await wait_for(lambda: back.owner_state()["shares"] == [])


@pytest.mark.parametrize(
    ("domain", "service", "data"),
    [
        ("switch", "turn_on", {ATTR_ENTITY_ID: CONSENT}),
        (DOMAIN, "resume", {}),
        (DOMAIN, "approve", {"request_id": "req_x"}),
    ],
)
async def test_what_could_widen_sharing_is_refused_and_not_kept(
    hass: HomeAssistant, outage: Outage, domain: str, service: str, data: dict[str, Any]
) -> None:
    entry = outage.entry
    coordinator = entry.runtime_data.coordinator
    await outage.leave()
    before = coordinator.settings.to_json()
    with pytest.raises(HomeAssistantError, match="only changes that stop sharing"):
        await hass.services.async_call(domain, service, data, blocking=True)
    assert coordinator.settings.to_json() == before
    assert waiting(hass, entry) is None
