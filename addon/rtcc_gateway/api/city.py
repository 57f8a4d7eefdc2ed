"""The city API (CITY-API.md), served on the public listener.

Checks run in the contract's order, and the first that fails answers: size (413) -> content type
(415) -> signature and digest (401) -> rate limit (429) -> body (400).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from rtcc_gateway.api.validate import BodyError, forbidden_text, parse_json_object, safe_name
from rtcc_gateway.config import Agency
from rtcc_gateway.context import CITY_KEY
from rtcc_gateway.limits import (
    CITY_MAX_BODY,
    MAX_WAIT_S,
    OFFENSE_MAX_CHARS,
    RADIUS_DEFAULT_M,
    RADIUS_MAX_M,
    REASON_MAX_CHARS,
    SHARE_MAX_S,
    SHARE_MIN_S,
)
from rtcc_gateway.openapi import city_document
from rtcc_gateway.problems import problem
from rtcc_gateway.shares import NotFoundError, TooManyPendingError
from rtcc_gateway.signatures import SignatureError, verify_request
from rtcc_gateway.validators import (
    camera_ids,
    incident_id,
    instant,
    integer,
    number,
    problems_of,
    query_int,
    text,
)

REQUEST_SCHEMA: Final = vol.Schema(
    {
        vol.Required("incident_id"): incident_id,
        vol.Required("offense"): text(OFFENSE_MAX_CHARS),
        vol.Required("reason"): text(REASON_MAX_CHARS),
        vol.Required("location"): vol.Schema(
            {vol.Required("lat"): number(-90, 90), vol.Required("lon"): number(-180, 180)}
        ),
        vol.Optional("radius_m", default=RADIUS_DEFAULT_M): integer(1, RADIUS_MAX_M),
        vol.Optional("camera_ids"): camera_ids,
        vol.Optional("start"): instant,
        vol.Optional("duration_s"): integer(SHARE_MIN_S, SHARE_MAX_S),
    }
)


def _invalid_params(err: vol.Invalid) -> list[dict[str, str]]:
    """invalid_params naming each bad field once, with the first rule it broke."""
    out: dict[str, str] = {}
    for line in problems_of(err):
        name, _, rule = line.partition(": ")
        out.setdefault(safe_name(name), rule)
    return [{"name": name, "reason": reason} for name, reason in sorted(out.items())]


def _bad_request(params: list[dict[str, str]], detail: str) -> web.Response:
    return problem(400, detail, invalid_params=params)


@dataclass(slots=True)
class _Signed:
    agency: Agency
    body: bytes


async def _signed(request: web.Request, *, expect_body: bool) -> _Signed | web.Response:
    """Size, content type, signature, rate limit: the checks every signed call passes."""
    gateway = request.app[CITY_KEY]
    if (request.content_length or 0) > CITY_MAX_BODY:
        return problem(413, f"Request body larger than {CITY_MAX_BODY} bytes.")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return problem(413, f"Request body larger than {CITY_MAX_BODY} bytes.")
    if expect_body:
        mime = request.content_type
        charset = (request.charset or "utf-8").lower()
        if mime != "application/json" or charset not in ("utf-8", "utf8"):
            return problem(415, "Send the body as application/json in UTF-8.")
    try:
        agency = await verify_request(
            method=request.method,
            target_uri=gateway.config.public.base_url + request.raw_path,
            headers=request.headers,
            body=body,
            agencies=gateway.agencies,
            nonces=gateway.nonces,
            now=gateway.clock.now(),
        )
    except SignatureError as err:
        await gateway.audit_auth_failure(request, err.reason)
        return problem(
            401,
            f"Signature refused: {err.detail}.",
            headers={"WWW-Authenticate": 'Signature realm="rtcc_share"'},
        )
    retry_after = gateway.rate_limiter.hit(agency.id, agency.rate_limit_per_minute)
    if retry_after:
        return problem(
            429,
            f"More than {agency.rate_limit_per_minute} requests a minute.",
            headers={"Retry-After": str(retry_after)},
        )
    return _Signed(agency=agency, body=body)


def _request_body(raw_body: bytes, now: datetime) -> dict[str, Any] | web.Response:
    """The validated body of a new request, or the 400 naming each bad field."""
    try:
        raw = parse_json_object(raw_body)
    except BodyError as err:
        return _bad_request([{"name": err.name, "reason": err.reason}], f"Invalid body: {err}")
    if controls := forbidden_text(raw):
        return _bad_request(controls, "Invalid fields: " + ", ".join(p["name"] for p in controls))
    try:
        body: dict[str, Any] = REQUEST_SCHEMA(raw)
    except vol.Invalid as err:
        params = _invalid_params(err)
        return _bad_request(params, "Invalid fields: " + ", ".join(p["name"] for p in params))
    start = body.get("start")
    if start is not None and not now - timedelta(seconds=60) <= start <= now + timedelta(hours=24):
        reason = "must be no earlier than 60 s ago and no later than 24 h ahead"
        return _bad_request([{"name": "start", "reason": reason}], "Invalid fields: start")
    return body


async def post_request(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/requests: ask for live video for an incident."""
    gateway = request.app[CITY_KEY]
    signed = await _signed(request, expect_body=True)
    if isinstance(signed, web.StreamResponse):
        return signed
    body = _request_body(signed.body, gateway.clock.now())
    if isinstance(body, web.Response):
        return body
    try:
        state = await gateway.shares.submit(signed.agency, body)
    except TooManyPendingError as err:
        return problem(
            429,
            f"{err.limit} requests already wait for the owner; try again later.",
            headers={"Retry-After": str(err.retry_after)},
        )
    view = gateway.shares.city_view(state)
    status = 202 if view["status"] == "pending" else 201
    location = f"{gateway.config.public.base_url}/api/v1/requests/{state.row.id}"
    return web.json_response(view, status=status, headers={"Location": location})


async def get_request(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/requests/{id}[?wait=S]: the request as it stands."""
    gateway = request.app[CITY_KEY]
    signed = await _signed(request, expect_body=False)
    if isinstance(signed, web.StreamResponse):
        return signed
    wait_raw = request.query.get("wait")
    wait = 0
    if wait_raw is not None:
        try:
            wait = query_int(wait_raw, 1, MAX_WAIT_S)
        except vol.Invalid as err:
            reason = err.error_message
            return _bad_request([{"name": "wait", "reason": reason}], "Invalid fields: wait")
    try:
        state = await gateway.shares.request_for(request.match_info["request_id"], signed.agency.id)
    except NotFoundError:
        return problem(404, "No such request.")
    if wait:
        await gateway.shares.wait_for_decision(state, wait)
    return web.json_response(gateway.shares.city_view(state))


async def delete_request(request: web.Request) -> web.StreamResponse:
    """DELETE /api/v1/requests/{id}: the city ends its request; every share is cut now."""
    gateway = request.app[CITY_KEY]
    signed = await _signed(request, expect_body=False)
    if isinstance(signed, web.StreamResponse):
        return signed
    try:
        await gateway.shares.city_cancel(request.match_info["request_id"], signed.agency.id)
    except NotFoundError:
        return problem(404, "No such request.")
    return web.Response(status=204)


async def get_cameras(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/cameras: cameras with consent on (not revealing pause or schedule)."""
    gateway = request.app[CITY_KEY]
    signed = await _signed(request, expect_body=False)
    if isinstance(signed, web.StreamResponse):
        return signed
    formats = gateway.link_formats()
    return web.json_response(
        {
            "cameras": [
                {
                    "id": c.id,
                    "label": c.label,
                    "location": {"lat": round(c.location.lat, 3), "lon": round(c.location.lon, 3)},
                    "formats": formats,
                }
                for c in gateway.shares.offered_cameras()
            ]
        }
    )


async def get_health(_request: web.Request) -> web.Response:
    """GET /api/v1/health: unauthenticated liveness; reveals nothing else."""
    return web.json_response({"status": "ok"})


async def get_openapi(request: web.Request) -> web.Response:
    """GET /api/v1/openapi.json: the city API's OpenAPI 3.1 document."""
    gateway = request.app[CITY_KEY]
    return web.json_response(city_document(gateway.config.public.base_url))


def add_routes(app: web.Application) -> None:
    """Register the city API's routes."""
    app.router.add_get("/api/v1/health", get_health)
    app.router.add_get("/api/v1/openapi.json", get_openapi)
    app.router.add_get("/api/v1/cameras", get_cameras)
    app.router.add_post("/api/v1/requests", post_request)
    app.router.add_get("/api/v1/requests/{request_id}", get_request)
    app.router.add_delete("/api/v1/requests/{request_id}", delete_request)
