"""The city's listeners speak TLS 1.2 or newer from `public.tls`; a file that cannot serve is named."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from rtcc_gateway.config_types import TlsConfig
from rtcc_gateway.tls import TlsError, server_context

from ..media.test_door_tls import self_signed


def test_no_tls_configured_means_plain_listeners() -> None:
    assert server_context(None) is None


def test_a_certificate_and_key_give_a_server_context_of_tls_1_2_or_newer(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = server_context(TlsConfig(cert=cert, key=key))
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert not context.check_hostname, "a server does not check the city's host name"


@pytest.mark.parametrize("broken", ["missing", "not a certificate"])
def test_a_certificate_that_cannot_be_loaded_is_named(tmp_path: Path, broken: str) -> None:
    cert, key = self_signed(tmp_path)
    if broken == "missing":
        cert = tmp_path / "nope.pem"
    else:
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(TlsError, match=r"^public\.tls: cannot load the certificate or key: "):
        server_context(TlsConfig(cert=cert, key=key))
