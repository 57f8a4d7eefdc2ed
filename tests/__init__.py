"""Tests of rtcc_share (the integration is imported in conftest.py, for Home Assistant's harness)."""
