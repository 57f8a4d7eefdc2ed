"""Secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest
from rtcc_gateway.redact import SecretFilter, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:pass@192.0.2.1:554/s", "rtsp://***@192.0.2.1:554/s"),
        ("rtsp://user:pa/ss@host/s", "rtsp://***@host/s"),
        ("rtsp://u:p@[::1]:554/x", "rtsp://***@[::1]:554/x"),
        ("rtsp://u:p@@host/x?a=b@c", "rtsp://***@host/x?a=b@c"),
        ("rtsp://host/x", "rtsp://host/x"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_secret_filter_scrubs_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("rtcc_gateway.test_redact")
    secrets = SecretFilter()
    secrets.add("owner-token-123456789")
    logger.addFilter(secrets)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("token %s and %s", "owner-token-123456789", "rtsp://a:b@cam/x")
    finally:
        logger.removeFilter(secrets)
    assert caplog.messages == ["token *** and rtsp://***@cam/x"]
