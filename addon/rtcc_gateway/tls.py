"""The server side of TLS for the city's listeners (HTTPS API and door, RTSPS door)."""

from __future__ import annotations

import ssl

from rtcc_gateway.config_types import TlsConfig


class TlsError(ValueError):
    """The certificate or key cannot be used; the message names the setting."""


def server_context(tls: TlsConfig | None) -> ssl.SSLContext | None:
    """A TLS 1.2+ server context from `public.tls`, or None when the listeners are plain."""
    if tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.cert, tls.key)
    except (OSError, ssl.SSLError) as err:
        raise TlsError(f"public.tls: cannot load the certificate or key: {err}") from None
    return context
