"""The owner API (OWNER-API.md), served on the owner listener only, behind a bearer token."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
from typing import Any, Final

import voluptuous as vol
from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler

from rtcc_gateway import __version__
from rtcc_gateway.api.validate import BodyError, parse_json_object, safe_name
from rtcc_gateway.audit import AuditError
from rtcc_gateway.audit_chain import head_json, parse_head
from rtcc_gateway.config import (
    CAMERAS_SCHEMA,
    POLICY_SCHEMA,
    build_cameras,
    build_policy,
)
from rtcc_gateway.context import OWNER_KEY
from rtcc_gateway.limits import MAX_AUDIT_PAGE
from rtcc_gateway.openapi import owner_document
from rtcc_gateway.problems import ProblemRaised, problem
from rtcc_gateway.shares import NotFoundError, NothingPendingError
from rtcc_gateway.validators import camera_id, camera_ids, instant, problems_of, query_int

NOTHING_PENDING: Final = "Nothing of this request waits for a decision: decided already, or ended."
MAX_AUDIT_SEQ: Final = 2**62  # SQLite integers are 64-bit
WS_HEARTBEAT_S: Final = 30.0


def _token_ok(request: web.Request, expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    # Compare in constant time whatever arrives, so timing says nothing about the token. A token
    # that is not ASCII (aiohttp hands raw bytes over as surrogates) is simply a wrong one.
    good_scheme = scheme.lower() == "bearer"
    candidate = token.encode("ascii") if token.isascii() else b""
    good_token = hmac.compare_digest(candidate, expected.encode("utf-8"))
    return good_scheme and good_token


@web.middleware
async def bearer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every owner call needs `Authorization: Bearer OWNER_TOKEN`."""
    gateway = request.app[OWNER_KEY]
    if not _token_ok(request, gateway.config.owner.token):
        return problem(
            401,
            "Missing or wrong owner token.",
            headers={"WWW-Authenticate": 'Bearer realm="rtcc_share owner"'},
        )
    return await handler(request)


def _invalid(problems: list[str]) -> web.Response:
    params = []
    for line in problems:
        name, _, reason = line.partition(": ")
        params.append({"name": safe_name(name), "reason": reason})
    return problem(
        400, "Invalid fields: " + ", ".join(p["name"] for p in params), invalid_params=params
    )


async def _json_body(request: web.Request, *, optional: bool) -> Any:
    """The JSON body, {} when optional and empty; raises a ready problem response otherwise."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise ProblemRaised(_invalid(["(body): a JSON object is required"]))
    try:
        return parse_json_object(raw)
    except BodyError as err:
        params = [{"name": err.name, "reason": err.reason}]
        raise ProblemRaised(
            problem(400, f"Invalid body: {err.name}", invalid_params=params)
        ) from None


_CAMERA_IDS_BODY: Final = vol.Schema({vol.Optional("camera_ids"): camera_ids})
_REVOKE_BODY: Final = vol.Schema({vol.Optional("camera_id"): camera_id})
_PAUSE_BODY: Final = vol.Schema({vol.Optional("until"): vol.Any(None, instant)})


def _validate(schema: vol.Schema, data: Any) -> Any:
    try:
        return schema(data)
    except vol.Invalid as err:
        raise ProblemRaised(_invalid(problems_of(err))) from None


async def get_info(request: web.Request) -> web.Response:
    """GET /api/v1/info: who this gateway is and where its public links point."""
    gateway = request.app[OWNER_KEY]
    return web.json_response(
        {
            "gateway_id": gateway.gateway_id,
            "version": __version__,
            "restreamer": gateway.restreamer.name,
            "public_base_url": gateway.config.public.base_url,
            "rtsp_base_url": gateway.config.public.rtsp_base_url,
        }
    )


async def put_policy(request: web.Request) -> web.Response:
    """PUT /api/v1/policy: replace policy and cameras in one go; renews the owner lease."""
    gateway = request.app[OWNER_KEY]
    data = await _json_body(request, optional=False)
    problems: list[str] = []
    unknown = sorted(set(data) - {"policy", "cameras"})
    problems += [f"{key}: unknown field" for key in unknown]
    for key in ("policy", "cameras"):
        if key not in data:
            problems.append(f"{key}: required field is missing")
    policy = cameras = None
    if "policy" in data:
        try:
            policy = build_policy(POLICY_SCHEMA(data["policy"]))
        except vol.Invalid as err:
            problems += [f"policy.{line}" for line in problems_of(err)]
    if "cameras" in data:
        try:
            cameras = build_cameras(CAMERAS_SCHEMA(data["cameras"]))
        except vol.Invalid as err:
            problems += [
                f"cameras{line}" if line.startswith("[") else f"cameras.{line}"
                for line in problems_of(err)
            ]
    if problems or policy is None or cameras is None:
        return _invalid(sorted(problems))
    await gateway.shares.set_policy(policy, cameras)
    return web.json_response(gateway.owner_state())


async def get_state(request: web.Request) -> web.Response:
    """GET /api/v1/state: cameras, pending requests, live shares, the policy in force."""
    return web.json_response(request.app[OWNER_KEY].owner_state())


async def _decide(request: web.Request, *, approve: bool) -> web.Response:
    """Approve or deny pending cameras of a request (all, or those named)."""
    gateway = request.app[OWNER_KEY]
    body = _validate(_CAMERA_IDS_BODY, await _json_body(request, optional=True))
    decide = gateway.shares.approve if approve else gateway.shares.deny
    try:
        state = await decide(request.match_info["request_id"], body.get("camera_ids"))
    except NotFoundError:
        return problem(404, "No such request.")
    except NothingPendingError:
        return problem(409, NOTHING_PENDING)
    return web.json_response(gateway.shares.city_view(state))


async def post_approve(request: web.Request) -> web.Response:
    """POST /api/v1/requests/{id}/approve."""
    return await _decide(request, approve=True)


async def post_deny(request: web.Request) -> web.Response:
    """POST /api/v1/requests/{id}/deny."""
    return await _decide(request, approve=False)


async def post_revoke_share(request: web.Request) -> web.Response:
    """POST /api/v1/shares/{id}/revoke: end one share now."""
    gateway = request.app[OWNER_KEY]
    try:
        await gateway.shares.revoke_share(request.match_info["share_id"])
    except NotFoundError:
        return problem(404, "No such share.")
    return web.json_response({"revoked": 1})


async def post_revoke(request: web.Request) -> web.Response:
    """POST /api/v1/revoke: every share of one camera, or of all cameras."""
    gateway = request.app[OWNER_KEY]
    body = _validate(_REVOKE_BODY, await _json_body(request, optional=True))
    return web.json_response({"revoked": await gateway.shares.revoke(body.get("camera_id"))})


async def post_pause(request: web.Request) -> web.Response:
    """POST /api/v1/pause: pause sharing (optionally until a time); live shares end now."""
    gateway = request.app[OWNER_KEY]
    body = _validate(_PAUSE_BODY, await _json_body(request, optional=True))
    await gateway.shares.pause(body.get("until"))
    return web.json_response(gateway.owner_state())


async def post_resume(request: web.Request) -> web.Response:
    """POST /api/v1/resume."""
    gateway = request.app[OWNER_KEY]
    await gateway.shares.resume()
    return web.json_response(gateway.owner_state())


def _int_query(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return query_int(raw, 0, high)
    except vol.Invalid as err:
        raise ProblemRaised(_invalid([f"{name}: {err.error_message}"])) from None


async def get_audit(request: web.Request) -> web.Response:
    """GET /api/v1/audit?after=SEQ&limit=N: records in the export format (limit=0: none)."""
    gateway = request.app[OWNER_KEY]
    after = _int_query(request, "after", 0, MAX_AUDIT_SEQ)
    limit = _int_query(request, "limit", 100, MAX_AUDIT_PAGE)
    if limit == 0:
        return web.json_response({"records": []})
    records = await gateway.audit.records(after=after, limit=limit)
    return web.json_response({"records": [r.to_json() for r in records]})


async def get_audit_verify(request: web.Request) -> web.Response:
    """GET /api/v1/audit/verify: the whole chain checked, with its head."""
    gateway = request.app[OWNER_KEY]
    head_param = request.query.get("head")
    head = None
    if head_param is not None:
        try:
            head = parse_head(head_param)
        except ValueError:
            raise ProblemRaised(_invalid(["head: expected SEQ:HASH (64 hex digits)"])) from None
    try:
        result = await gateway.audit.verify(head)
    except AuditError as err:
        return problem(500, f"The audit log cannot be read: {err}")
    return web.json_response(
        {
            "ok": result.ok,
            "count": result.count,
            "head": head_json(result.head),
            "first_bad": result.first_bad,
        }
    )


async def get_transparency(request: web.Request) -> web.Response:
    """GET /api/v1/transparency: per agency figures."""
    return web.json_response(request.app[OWNER_KEY].transparency())


_STREAM_ID: Final = re.compile(r"evs_[A-Za-z0-9_-]{1,32}")


def _cursor(request: web.Request) -> tuple[int, str | None] | None:
    """The cursor `after=SEQ` (and `stream=ID`) asks to replay from; None without `after`."""
    stream = request.query.get("stream")
    if stream is not None and not _STREAM_ID.fullmatch(stream):
        raise ProblemRaised(_invalid(["stream: expected a stream id as given by this gateway"]))
    if "after" not in request.query:
        if stream is not None:
            raise ProblemRaised(_invalid(["after: required with stream"]))
        return None
    return _int_query(request, "after", 0, MAX_AUDIT_SEQ), stream


async def get_events(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/events: the event WebSocket, or (plain GET with `after`) the held events.

    Over the WebSocket, `after` first sends a `replay` message, then the events held after the
    cursor, then live ones.
    """
    gateway = request.app[OWNER_KEY]
    cursor = _cursor(request)
    ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S, max_msg_size=4096)
    if not ws.can_prepare(request).ok:
        if cursor is None:
            raise ProblemRaised(_invalid(["after: required unless the request opens a WebSocket"]))
        replay = gateway.events.replay(*cursor)
        return web.json_response({**replay.hello(), "events": replay.events})
    await ws.prepare(request)
    # Replay and subscribe with no await in between: nothing missed, nothing twice.
    queue = gateway.events.subscribe(None if cursor is None else gateway.events.replay(*cursor))
    gateway.websockets.add(ws)

    async def pump() -> None:
        while (event := await queue.get()) is not None:
            await ws.send_json(event)
        await ws.close()

    sender = asyncio.get_running_loop().create_task(pump())
    try:
        async for msg in ws:  # the owner sends nothing; reading notices the close
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        gateway.events.unsubscribe(queue)
        gateway.websockets.discard(ws)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
    return ws


async def get_openapi(_request: web.Request) -> web.Response:
    """GET /api/v1/openapi.json on the owner listener: the owner API's document."""
    return web.json_response(owner_document())


def add_routes(app: web.Application) -> None:
    """Register the owner API's routes."""
    app.router.add_get("/api/v1/info", get_info)
    app.router.add_get("/api/v1/openapi.json", get_openapi)
    app.router.add_put("/api/v1/policy", put_policy)
    app.router.add_get("/api/v1/state", get_state)
    app.router.add_post("/api/v1/requests/{request_id}/approve", post_approve)
    app.router.add_post("/api/v1/requests/{request_id}/deny", post_deny)
    app.router.add_post("/api/v1/shares/{share_id}/revoke", post_revoke_share)
    app.router.add_post("/api/v1/revoke", post_revoke)
    app.router.add_post("/api/v1/pause", post_pause)
    app.router.add_post("/api/v1/resume", post_resume)
    app.router.add_get("/api/v1/audit", get_audit)
    app.router.add_get("/api/v1/audit/verify", get_audit_verify)
    app.router.add_get("/api/v1/transparency", get_transparency)
    app.router.add_get("/api/v1/events", get_events)
