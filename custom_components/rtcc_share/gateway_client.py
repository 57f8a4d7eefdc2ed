"""Client for the gateway's owner API (OWNER-API.md).

No Home Assistant imports: the session is injected, so Home Assistant's shared client session
carries every call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import quote, urlencode

import aiohttp

DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)
WS_HEARTBEAT_S: Final = 20.0
_IGNORED_FRAMES: Final = (
    aiohttp.WSMsgType.BINARY,
    aiohttp.WSMsgType.PING,
    aiohttp.WSMsgType.PONG,
)


class GatewayError(Exception):
    """Base of every error the client raises."""


class GatewayConnectionError(GatewayError):
    """The gateway could not be reached (refused, timed out, TLS or DNS failure)."""


class GatewayAuthError(GatewayError):
    """The gateway refused the owner token."""


class GatewayResponseError(GatewayError):
    """Something answered, but not as an rtcc_share gateway would."""


class GatewayNotFoundError(GatewayResponseError):
    """The gateway knows no such request or share (HTTP 404)."""


class GatewayConflictError(GatewayResponseError):
    """409: what the call acts on is no longer open (a request already decided, a share ended)."""


class GatewayInvalidError(GatewayResponseError):
    """The gateway refused the body (HTTP 400); `problems` names each bad field."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class GatewayInfo:
    """What `GET /api/v1/info` says about a gateway."""

    gateway_id: str
    version: str
    restreamer: str
    public_base_url: str
    rtsp_base_url: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """What `GET /api/v1/audit/verify` says: is the chain whole (and does it hold the head)."""

    ok: bool
    count: int
    head: str | None
    first_bad: int | None


def format_head(seq: int, digest: str) -> str:
    """An audit head as the gateway's `head` parameter wants it: `SEQ:HASH`."""
    return f"{seq}:{digest}"


class EventStream:
    """The gateway's event WebSocket: `async with client.event_stream() as stream`.

    Then `async for event in stream`; it ends with GatewayConnectionError when the gateway goes.
    """

    def __init__(self, client: GatewayClient, path: str = "/api/v1/events") -> None:
        self._client = client
        self._path = path
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> Self:
        self._ws = await self._client._ws_connect(self._path)  # noqa: SLF001
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        ws = self._ws
        if ws is None:
            raise GatewayConnectionError("the event stream is not open")
        while True:
            try:
                msg = await ws.receive()
            except (aiohttp.ClientError, TimeoutError) as err:
                raise GatewayConnectionError(
                    f"event stream lost: {err.__class__.__name__}"
                ) from None
            if msg.type is aiohttp.WSMsgType.TEXT:
                try:
                    event = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(event, dict) and isinstance(event.get("type"), str):
                    yield event
                continue
            if msg.type in _IGNORED_FRAMES:
                continue
            raise GatewayConnectionError("the gateway closed the event stream")


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

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    @contextmanager
    def _transport_errors(self, what: str) -> Iterator[None]:
        """Turn aiohttp's failures into the client's: unreachable, or a broken answer to `what`."""
        try:
            yield
        except (aiohttp.ClientConnectionError, TimeoutError) as err:
            raise GatewayConnectionError(
                f"cannot reach the gateway at {self._base}: {err.__class__.__name__}"
            ) from None
        except aiohttp.ClientError as err:
            raise GatewayResponseError(f"{what} failed: {err.__class__.__name__}") from None

    async def _ws_connect(self, path: str) -> aiohttp.ClientWebSocketResponse:
        with self._transport_errors(f"GET {path}"):
            try:
                return await self._session.ws_connect(
                    self._base + path,
                    headers=self._headers,
                    heartbeat=WS_HEARTBEAT_S,  # notices a gateway that vanished without a FIN
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5),
                )
            except aiohttp.WSServerHandshakeError as err:
                if err.status == 401:  # noqa: PLR2004
                    raise GatewayAuthError("the gateway refused the owner token") from None
                raise GatewayResponseError(f"GET {path} answered HTTP {err.status}") from None

    async def _request(self, method: str, path: str, json: Any = None) -> Any:
        with self._transport_errors(f"{method} {path}"):
            async with self._session.request(
                method, self._base + path, json=json, headers=self._headers, timeout=self._timeout
            ) as resp:
                if resp.status == 401:  # noqa: PLR2004
                    raise GatewayAuthError("the gateway refused the owner token")
                if resp.status == 404:  # noqa: PLR2004
                    raise GatewayNotFoundError(f"{method} {path}: not found")
                if resp.status == 409:  # noqa: PLR2004
                    raise GatewayConflictError(f"{method} {path}: already decided or ended")
                if resp.status == 400:  # noqa: PLR2004
                    raise GatewayInvalidError(
                        f"{method} {path} refused the body", await _problems(resp)
                    )
                if resp.status >= 400:  # noqa: PLR2004
                    raise GatewayResponseError(f"{method} {path} answered HTTP {resp.status}")
                if resp.status == 204:  # noqa: PLR2004
                    return None
                try:
                    return await resp.json(content_type=None)
                except ValueError:
                    raise GatewayResponseError(f"{method} {path} did not answer JSON") from None

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

    async def put_policy(
        self, policy: Mapping[str, Any], cameras: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Replace the policy and the camera registry; renews the owner lease. Returns the state."""
        return await self._object("PUT", "/api/v1/policy", {"policy": policy, "cameras": cameras})

    async def get_state(self) -> dict[str, Any]:
        """Cameras with status and viewers, pending requests, live shares, the policy in force."""
        return await self._object("GET", "/api/v1/state")

    async def approve(
        self, request_id: str, camera_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Approve a pending request (all its pending cameras, or those named)."""
        return await self._object(
            "POST", f"/api/v1/requests/{_seg(request_id)}/approve", _camera_body(camera_ids)
        )

    async def deny(
        self, request_id: str, camera_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Deny a pending request (all its pending cameras, or those named)."""
        return await self._object(
            "POST", f"/api/v1/requests/{_seg(request_id)}/deny", _camera_body(camera_ids)
        )

    async def revoke_share(self, share_id: str) -> None:
        """End one share now."""
        await self._request("POST", f"/api/v1/shares/{_seg(share_id)}/revoke")

    async def revoke(self, camera_id: str | None = None) -> int:
        """End every share of one camera, or of every camera; returns how many ended."""
        body = {} if camera_id is None else {"camera_id": camera_id}
        data = await self._object("POST", "/api/v1/revoke", body)
        revoked = data.get("revoked", 0)
        return revoked if isinstance(revoked, int) else 0

    async def pause(self, until: datetime | None = None) -> dict[str, Any]:
        """Pause sharing (until a time, or until resumed); live shares end now."""
        body = {} if until is None else {"until": until.isoformat()}
        return await self._object("POST", "/api/v1/pause", body)

    async def resume(self) -> dict[str, Any]:
        """Resume sharing."""
        return await self._object("POST", "/api/v1/resume")

    async def audit_verify(self, head: str | None = None) -> AuditVerification:
        """Check the gateway's hash chain, and that it still holds `head` (`SEQ:HASH`)."""
        path = "/api/v1/audit/verify"
        if head is not None:
            path += "?head=" + quote(head, safe=":")
        data = await self._object("GET", path)
        raw_head = data.get("head")
        try:
            return AuditVerification(
                ok=bool(data["ok"]),
                count=int(data["count"]),
                head=None
                if raw_head is None
                else format_head(int(raw_head["seq"]), str(raw_head["hash"])),
                first_bad=None if data.get("first_bad") is None else int(data["first_bad"]),
            )
        except (KeyError, TypeError, ValueError):
            raise GatewayResponseError(f"GET {path} answered an unexpected shape") from None

    async def audit_records(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Audit records after sequence number `after` (at most `limit`), in the export format."""
        data = await self._object("GET", f"/api/v1/audit?after={int(after)}&limit={int(limit)}")
        records = data.get("records")
        if not isinstance(records, list):
            raise GatewayResponseError("GET /api/v1/audit answered an unexpected shape")
        return [r for r in records if isinstance(r, dict)]

    async def transparency(self) -> list[dict[str, Any]]:
        """Per agency: requests, approved, declined, minutes live, minutes viewed, viewers."""
        data = await self._object("GET", "/api/v1/transparency")
        agencies = data.get("agencies")
        if not isinstance(agencies, list):
            raise GatewayResponseError("GET /api/v1/transparency answered an unexpected shape")
        return [a for a in agencies if isinstance(a, dict)]

    def event_stream(self, after: int | None = None, stream: str | None = None) -> EventStream:
        """The event WebSocket, to use as `async with client.event_stream() as stream`.

        With `after` (and the `stream` it belongs to), it opens with a `replay` message and the
        events held after that cursor (OWNER-API.md).
        """
        if after is None:
            return EventStream(self)
        query = {"after": str(after), **({"stream": stream} if stream else {})}
        return EventStream(self, f"/api/v1/events?{urlencode(query)}")

    async def _object(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        data = await self._request(method, path, json)
        if not isinstance(data, dict):
            raise GatewayResponseError(f"{method} {path} did not answer a JSON object")
        return data


def _seg(value: str) -> str:
    return quote(value, safe="")


def _camera_body(camera_ids: Sequence[str] | None) -> dict[str, Any]:
    return {} if not camera_ids else {"camera_ids": list(camera_ids)}


async def _problems(resp: aiohttp.ClientResponse) -> list[str]:
    try:
        data = await resp.json(content_type=None)
    except ValueError:
        return []
    params = data.get("invalid_params") if isinstance(data, dict) else None
    if not isinstance(params, list):
        return []
    return [f"{p.get('name')}: {p.get('reason')}" for p in params if isinstance(p, dict)]
