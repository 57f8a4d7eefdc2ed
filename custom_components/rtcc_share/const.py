"""Constants of the RTCC Share integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "rtcc_share"
LOGGER: Final = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8099
REQUEST_TIMEOUT_S: Final = 10
