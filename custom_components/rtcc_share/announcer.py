"""The gateway's events announced in Home Assistant: bus events and the City request entity.

What an event carries is built in `bus_events.py`; which events are announced (once, and after a
reconnect only what was missed) is the event cursor's call (`event_cursor.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .bus_events import RequestBook, city_event_type, event_camera_ids, event_data
from .const import BUS_EVENTS
from .event_cursor import EventCursor

type CityEventListener = Callable[[str, dict[str, Any]], None]


@dataclass(eq=False, kw_only=True, slots=True)
class Announcer:
    """Fires one gateway's bus events and tells the City request entities."""

    hass: HomeAssistant
    entry_id: str
    gateway_id: str
    requests: RequestBook  # what each request asked, for the events that name it
    entity_id_of: Callable[[str], str | None]  # a camera id's entity, if it has one
    _city_listeners: list[CityEventListener] = field(default_factory=list, init=False)

    @callback
    def add_city_listener(self, listener: CityEventListener) -> CALLBACK_TYPE:
        """Call `listener(event_type, data)` for the City request event entity."""
        self._city_listeners.append(listener)
        return lambda: self._city_listeners.remove(listener)

    def fire(self, event: dict[str, Any]) -> None:
        """The bus event of a gateway event (one of BUS_EVENTS), and the City request one."""
        data = self.event_data(event)
        self.hass.bus.async_fire(BUS_EVENTS[str(event["type"])], data)
        city_type = city_event_type(event)
        if city_type is not None:
            for listener in list(self._city_listeners):
                listener(city_type, data)

    def announce_waiting(self, state: dict[str, Any] | None, cursor: EventCursor) -> None:
        """Events may have been missed: announce each waiting request not announced yet."""
        for request in (state or {}).get("pending_requests") or []:
            if isinstance(request, dict) and cursor.announce(str(request.get("request_id", ""))):
                self.fire({**request, "type": "request_received"})

    def event_data(self, event: dict[str, Any]) -> dict[str, Any]:
        """What a bus event for this gateway carries (bus_events.event_data)."""
        request = self.requests.get(str(event.get("request_id", "")))
        camera_ids = event_camera_ids(event, request)
        return event_data(
            event,
            request,
            entry_id=self.entry_id,
            gateway_id=self.gateway_id,
            entity_ids=[e for e in (self.entity_id_of(c) for c in camera_ids) if e],
        )
