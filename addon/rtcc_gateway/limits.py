"""Every limit the gateway enforces and documents, in one place.

The validators (validators.py, with the schemas in api/ and config_schema.py) and the OpenAPI
documents (openapi*.py) read these, so a limit changes in one line and the contract follows.
"""

from __future__ import annotations

from typing import Final

# A share's length, asked by the city or capped by the owner per camera.
SHARE_MIN_S: Final = 60
SHARE_MAX_S: Final = 12 * 3600
CAMERA_DEFAULT_MAX_S: Final = 3600

# How long the owner has to answer, and how long a push holds.
APPROVAL_TIMEOUT_MIN_S: Final = 30
APPROVAL_TIMEOUT_MAX_S: Final = 86400
APPROVAL_TIMEOUT_DEFAULT_S: Final = 600
MAX_LEASE_S: Final = 10 * 365 * 86400  # ten years: far enough, and never a datetime overflow

# The city's request.
CITY_MAX_BODY: Final = 16 * 1024
MAX_WAIT_S: Final = 60  # long-poll
RADIUS_MAX_M: Final = 1000
RADIUS_DEFAULT_M: Final = 300
OFFENSE_MAX_CHARS: Final = 64
REASON_MAX_CHARS: Final = 500

# Refused signatures put on the record, per remote address and in all; the rest are counted.
AUTH_FAILURE_AUDITS_PER_MINUTE: Final = 30
AUTH_FAILURE_AUDITS_IN_ALL_PER_MINUTE: Final = 300

# The owner's API.
OWNER_MAX_BODY: Final = 256 * 1024
MAX_AUDIT_PAGE: Final = 1000
CAMERA_LABEL_MAX_CHARS: Final = 100
