"""Secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest
from rtcc_gateway.redact import SecretFilter, Secrets, redact_url


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
    secrets = SecretFilter(Secrets("owner-token-123456789"))
    logger.addFilter(secrets)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("token %s and %s", "owner-token-123456789", "rtsp://a:b@cam/x")
    finally:
        logger.removeFilter(secrets)
    assert caplog.messages == ["token *** and rtsp://***@cam/x"]


def _filtered(secrets: Secrets, message: str, *args: object) -> str:
    record = logging.LogRecord("rtcc_gateway", logging.INFO, __file__, 1, message, args, None)
    SecretFilter(secrets).filter(record)
    return record.getMessage()


def test_the_filter_reads_the_register_as_it_grows() -> None:
    secrets = Secrets()
    assert _filtered(secrets, "camera at %s", "http-cam-pw-0001") == "camera at http-cam-pw-0001"
    secrets.add("http-cam-pw-0001")  # a camera pushed after the filter was installed
    assert _filtered(secrets, "camera at %s", "http-cam-pw-0001") == "camera at ***"


def test_a_secret_holding_another_is_replaced_whole() -> None:
    secrets = Secrets("abc", "abcdef-long-secret")
    assert secrets.ordered() == ("abcdef-long-secret", "abc")
    assert _filtered(secrets, "x abcdef-long-secret y abc") == "x *** y ***"


def test_empty_strings_are_not_secrets() -> None:
    secrets = Secrets("", "token-1234567890")
    secrets.add("")
    assert len(secrets) == 1
    assert "" not in secrets
    assert "token-1234567890" in secrets


def test_log_lines_lose_credential_query_parameters_as_audit_records_do() -> None:
    line = _filtered(Secrets(), "fetch %s", "http://cam/snap.jpg?user=admin&pwd=hunter2&ch=1")
    assert line == "fetch http://cam/snap.jpg?user=***&pwd=***&ch=1"


def test_credentials_in_any_scheme_are_hidden_in_logs() -> None:
    assert _filtered(Secrets(), "via onvif://admin:pw@cam:80/") == "via onvif://***@cam:80/"


def test_a_traceback_is_scrubbed_too() -> None:
    record = logging.LogRecord("rtcc_gateway", logging.ERROR, __file__, 1, "failed", None, None)
    record.exc_text = "ValueError: rtsp://u:secret-pw@cam/x owner-token-123456789"
    SecretFilter(Secrets("owner-token-123456789")).filter(record)
    assert record.exc_text == "ValueError: rtsp://***@cam/x ***"
