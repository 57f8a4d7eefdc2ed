"""Tests of rtcc_share. Importing the integration here lets Home Assistant's test harness find it."""

import custom_components.rtcc_share  # noqa: F401
