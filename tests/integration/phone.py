"""A phone with the Home Assistant companion app, as Home Assistant's mobile_app sees one.

It registers through mobile_app's real HTTP API, opens the local push channel (the WebSocket the
companion app keeps open) to receive notifications, and taps a notification's button the way the
app does: a `fire_event` webhook whose fields are mobile_app's own constants.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any, Final

from homeassistant.components.mobile_app.const import (
    ATTR_APP_DATA,
    ATTR_APP_ID,
    ATTR_APP_NAME,
    ATTR_APP_VERSION,
    ATTR_DEVICE_NAME,
    ATTR_EVENT_DATA,
    ATTR_EVENT_TYPE,
    ATTR_OS_NAME,
    ATTR_OS_VERSION,
    ATTR_PUSH_WEBSOCKET_CHANNEL,
    ATTR_SUPPORTS_ENCRYPTION,
    ATTR_WEBHOOK_DATA,
    ATTR_WEBHOOK_TYPE,
)
from homeassistant.components.mobile_app.const import DOMAIN as MOBILE_APP
from homeassistant.const import ATTR_DEVICE_ID, ATTR_MANUFACTURER, ATTR_MODEL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

# The event the companion apps fire (through the fire_event webhook) when a notification's
# button is tapped; its data names the button's `action`.
NOTIFICATION_ACTION_EVENT: Final = f"{MOBILE_APP}_notification_action"
ACTION: Final = "action"
FIRE_EVENT: Final = "fire_event"
NOTIFICATION_TIMEOUT_S: Final = 30.0


class Phone:
    """One registered phone: its device, its notifications, its taps."""

    def __init__(self, hass: HomeAssistant, client: Any, ws: Any, webhook_id: str) -> None:
        self.hass = hass
        self._client = client
        self._ws = ws
        self.webhook_id = webhook_id
        self.device_id = ""

    async def next_notification(self) -> dict[str, Any]:
        """The next notification pushed to the phone: message, title and data."""
        async with asyncio.timeout(NOTIFICATION_TIMEOUT_S):
            message = await self._ws.receive_json()
        assert message["type"] == "event", message
        event: dict[str, Any] = message["event"]
        return event

    async def tap(self, action: str) -> None:
        """Tap the notification button whose action is `action`."""
        resp = await self._client.post(
            f"/api/webhook/{self.webhook_id}",
            json={
                ATTR_WEBHOOK_TYPE: FIRE_EVENT,
                ATTR_WEBHOOK_DATA: {
                    ATTR_EVENT_TYPE: NOTIFICATION_ACTION_EVENT,
                    ATTR_EVENT_DATA: {ACTION: action},
                },
            },
        )
        assert resp.status == HTTPStatus.OK, await resp.text()


async def register_phone(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    name: str = "Alex phone",
) -> Phone:
    """Register a phone whose notifications come over the local push channel."""
    assert await async_setup_component(hass, MOBILE_APP, {})
    client = await hass_client()
    resp = await client.post(
        "/api/mobile_app/registrations",
        json={
            ATTR_APP_DATA: {ATTR_PUSH_WEBSOCKET_CHANNEL: True},
            ATTR_APP_ID: "io.homeassistant.companion.android",
            ATTR_APP_NAME: "Home Assistant",
            ATTR_APP_VERSION: "2026.10",
            ATTR_DEVICE_NAME: name,
            ATTR_DEVICE_ID: "alex-phone-1",
            ATTR_MANUFACTURER: "Example",
            ATTR_MODEL: "Phone 1",
            ATTR_OS_NAME: "Android",
            ATTR_OS_VERSION: "16",
            ATTR_SUPPORTS_ENCRYPTION: False,
        },
    )
    assert resp.status == HTTPStatus.CREATED, await resp.text()
    webhook_id = (await resp.json())[CONF_WEBHOOK_ID]
    await hass.async_block_till_done()

    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {"type": "mobile_app/push_notification_channel", "webhook_id": webhook_id}
    )
    answer = await ws.receive_json()
    assert answer["success"], answer
    phone = Phone(hass, client, ws, webhook_id)
    (entry,) = hass.config_entries.async_entries(MOBILE_APP)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (MOBILE_APP, "alex-phone-1"), entry.entry_id
    )
    assert device is not None, "mobile_app made no device for the phone"
    phone.device_id = device.id
    return phone
