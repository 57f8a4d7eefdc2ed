"""Form fields both setup flows ask for: a TCP port and a secret typed as a password."""

from __future__ import annotations

from typing import Final

import probatio as vol
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType

PORT_FIELD: Final = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
SECRET_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
