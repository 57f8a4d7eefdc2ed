"""Constants of the RTCC Share integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "rtcc_share"
LOGGER: Final = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8099
REQUEST_TIMEOUT_S: Final = 10

# Options (defaults for newly offered cameras and for requests)
CONF_APPROVAL: Final = "approval"
CONF_MAX_MINUTES: Final = "max_minutes"
CONF_APPROVAL_TIMEOUT: Final = "approval_timeout_minutes"
DEFAULT_APPROVAL: Final = "ask"
DEFAULT_MAX_MINUTES: Final = 60
DEFAULT_APPROVAL_TIMEOUT_MIN: Final = 10
APPROVAL_MODES: Final = ("ask", "auto")
MIN_SHARE_MINUTES: Final = 1
MAX_SHARE_MINUTES: Final = 720

# The owner lease pushed with the policy, and how often the policy is refreshed inside it.
OWNER_LEASE_S: Final = 900
LEASE_REFRESH_FRACTION: Final = 3

# Reconnection backoff of the event stream (seconds)
BACKOFF_MIN_S: Final = 1.0
BACKOFF_MAX_S: Final = 60.0

STORAGE_VERSION: Final = 1
DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Why a Home Assistant camera cannot be offered to the gateway
REASON_NO_STREAM: Final = "no_stream_source"
REASON_NOT_RTSP: Final = "not_rtsp"
REASON_ERROR: Final = "stream_source_error"
# ... and why an ONVIF camera (a config subentry) cannot be offered right now
REASON_ONVIF_AUTH: Final = "onvif_invalid_auth"
REASON_ONVIF_UNREACHABLE: Final = "onvif_unreachable"
REASON_ONVIF_ERROR: Final = "onvif_error"

# ONVIF cameras on the LAN: one config subentry each
SUBENTRY_ONVIF: Final = "onvif_camera"
CONF_ADDRESS: Final = "address"
DEFAULT_ONVIF_PORT: Final = 80
DISCOVERY_TIMEOUT_S: Final = 3.0
ONVIF_LOOKUP_TIMEOUT_S: Final = 10.0

# Bus events for automations
EVENT_REQUEST_RECEIVED: Final = "rtcc_share_request_received"
EVENT_REQUEST_DECIDED: Final = "rtcc_share_request_decided"
EVENT_SHARE_STARTED: Final = "rtcc_share_started"
EVENT_SHARE_ENDED: Final = "rtcc_share_ended"
EVENT_VIEWER_CONNECTED: Final = "rtcc_share_viewer_connected"
EVENT_VIEWER_DISCONNECTED: Final = "rtcc_share_viewer_disconnected"

BUS_EVENTS: Final = {
    "request_received": EVENT_REQUEST_RECEIVED,
    "request_decided": EVENT_REQUEST_DECIDED,
    "share_started": EVENT_SHARE_STARTED,
    "share_ended": EVENT_SHARE_ENDED,
    "viewer_connected": EVENT_VIEWER_CONNECTED,
    "viewer_disconnected": EVENT_VIEWER_DISCONNECTED,
}

# Event types of the "City request" event entity
CITY_EVENT_TYPES: Final = [
    "received",
    "approved",
    "declined",
    "started",
    "ended",
    "viewer_connected",
]

# The camera's sharing status: "not_shared" while consent is off, else the gateway's status.
SHARING_STATUSES: Final = ["not_shared", "idle", "pending", "scheduled", "live", "blocked"]
