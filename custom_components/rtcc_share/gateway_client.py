"""Client for the gateway's owner API (OWNER-API.md).

No Home Assistant imports: the session is injected, so Home Assistant's shared client session
carries every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import aiohttp

DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


class GatewayError(Exception):
    """Base of every error the client raises."""


class GatewayConnectionError(GatewayError):
    """The gateway could not be reached (refused, timed out, TLS or DNS failure)."""


class GatewayAuthError(GatewayError):
    """The gateway refused the owner token."""


class GatewayResponseError(GatewayError):
    """Something answered, but not as an rtcc_share gateway would."""


@dataclass(frozen=True, slots=True)
class GatewayInfo:
    """What `GET /api/v1/info` says about a gateway."""

    gateway_id: str
    version: str
    restreamer: str
    public_base_url: str
    rtsp_base_url: str


class GatewayClient:
    """Talks to one gateway's owner listener with the owner's bearer token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        token: str,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._session = session
        bracketed = f"[{host}]" if ":" in host else host
        self._base = f"http://{bracketed}:{port}"
        self._token = token
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        """Where the owner API lives (no secrets in it)."""
        return self._base

    async def _request(self, method: str, path: str, json: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._session.request(
                method, self._base + path, json=json, headers=headers, timeout=self._timeout
            ) as resp:
                if resp.status == 401:  # noqa: PLR2004
                    raise GatewayAuthError("the gateway refused the owner token")
                if resp.status >= 400:  # noqa: PLR2004
                    raise GatewayResponseError(f"{method} {path} answered HTTP {resp.status}")
                if resp.status == 204:  # noqa: PLR2004
                    return None
                try:
                    return await resp.json(content_type=None)
                except ValueError:
                    raise GatewayResponseError(f"{method} {path} did not answer JSON") from None
        except (aiohttp.ClientConnectionError, TimeoutError) as err:
            raise GatewayConnectionError(
                f"cannot reach the gateway at {self._base}: {err.__class__.__name__}"
            ) from None
        except aiohttp.ClientError as err:
            raise GatewayResponseError(
                f"{method} {path} failed: {err.__class__.__name__}"
            ) from None

    async def get_info(self) -> GatewayInfo:
        """Identify the gateway; checks the token at the same time."""
        data = await self._request("GET", "/api/v1/info")
        try:
            return GatewayInfo(
                gateway_id=str(data["gateway_id"]),
                version=str(data["version"]),
                restreamer=str(data["restreamer"]),
                public_base_url=str(data["public_base_url"]),
                rtsp_base_url=str(data["rtsp_base_url"]),
            )
        except (KeyError, TypeError):
            raise GatewayResponseError("GET /api/v1/info answered an unexpected shape") from None
