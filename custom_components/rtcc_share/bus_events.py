"""What the gateway's events become in Home Assistant: bus events and City request events.

Share and viewer events name only ids, so the requests behind them are remembered (a bounded
book: a long-lived Home Assistant must not grow with history).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

REMEMBERED_REQUESTS: Final = 256  # far more than are ever pending or live at once


class RequestBook:
    """The latest known shape of recent requests, by id; the oldest are forgotten first."""

    def __init__(self, limit: int = REMEMBERED_REQUESTS) -> None:
        self._limit = limit
        self._requests: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._requests)

    def get(self, request_id: str) -> dict[str, Any]:
        """What is known of a request ({} when nothing is)."""
        return self._requests.get(request_id, {})

    def remember(self, request: dict[str, Any]) -> None:
        """Keep (or refresh) a request, as the newest."""
        request_id = str(request.get("request_id", ""))
        if not request_id:
            return
        self._requests[request_id] = request
        self._requests.move_to_end(request_id)
        while len(self._requests) > self._limit:
            self._requests.popitem(last=False)

    def remember_state(self, state: dict[str, Any]) -> None:
        """Keep every request the gateway's state lists as pending."""
        for request in state.get("pending_requests") or []:
            if isinstance(request, dict):
                self.remember(request)


def event_data(
    event: dict[str, Any],
    request: dict[str, Any],
    *,
    entry_id: str,
    gateway_id: str,
    entity_ids: list[str],
) -> dict[str, Any]:
    """What a bus event carries: request, agency, incident, offense, reason, cameras, window.

    Never a link or a token.
    """
    camera_ids = event_camera_ids(event, request)
    data: dict[str, Any] = {
        "config_entry_id": entry_id,
        "gateway_id": gateway_id,
        "request_id": str(event.get("request_id", "")),
        "agency": request.get("agency"),
        "incident_id": request.get("incident_id"),
        "offense": request.get("offense"),
        "reason": request.get("reason"),
        "status": event.get("status", request.get("status")),
        "camera_ids": camera_ids,
        "cameras": entity_ids,
        "window": {
            "start": request.get("start"),
            "duration_s": request.get("duration_s"),
            "starts_at": event.get("starts_at"),
            "ends_at": event.get("ends_at"),
        },
    }
    for key in ("share_id", "viewer_id", "viewers", "via"):
        if key in event:
            data[key] = event[key]
    if event.get("type") == "share_ended":
        data["end_reason"] = event.get("reason")
    return data


def event_camera_ids(event: dict[str, Any], request: dict[str, Any]) -> list[str]:
    """The cameras an event is about: its own list, its one camera, else its request's."""
    if event.get("camera_ids"):
        return [str(c) for c in event["camera_ids"]]
    if "camera_id" in event:
        return [str(event["camera_id"])]
    return [str(c) for c in request.get("camera_ids") or []]


def city_event_type(event: dict[str, Any]) -> str | None:
    """The City request event entity's type for a gateway event (None: not shown there)."""
    kind = event.get("type")
    if kind == "request_received":
        return "received"
    if kind == "request_decided":
        status = event.get("status")
        if status in ("approved", "partially_approved"):
            return "approved"
        if status in ("declined", "ended"):
            return "declined"
        return None
    return {
        "share_started": "started",
        "share_ended": "ended",
        "viewer_connected": "viewer_connected",
    }.get(str(kind))
