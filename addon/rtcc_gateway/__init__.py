"""rtcc_share gateway: the city's only door to the homeowner's cameras (no Home Assistant code)."""

__version__ = "0.1.0"
