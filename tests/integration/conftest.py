"""Fixtures for the Home Assistant side."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/rtcc_share in every test here."""


@pytest.fixture
def closed_port(socket_enabled: None) -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
