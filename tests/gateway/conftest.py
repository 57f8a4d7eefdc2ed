"""A signed city client and an owner client for in-process gateways; every response they see
is checked against the gateway's own OpenAPI documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rtcc_gateway.app import Bound, Gateway
from rtcc_gateway.audit import DB_FILENAME, AuditLog, AuditRecord
from rtcc_gateway.openapi import city_document, owner_document
from rtcc_gateway.signing import sign_request

from ..conftest import AGENCY_KEY, OWNER_TOKEN, Clock, GatewayFactory, RecordingRestreamer


@dataclass
class Answer:
    """One HTTP answer, decoded."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def problem_names(self) -> list[str]:
        return [p["name"] for p in self.body.get("invalid_params", [])]


class OpenApiChecker:
    """Validates answers against an OpenAPI 3.1 document's response schemas."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.checked = 0
        self._paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in doc["paths"]
        ]

    def check(self, method: str, path: str, answer: Answer) -> None:
        template = next(
            (t for rx, t in self._paths if rx.match(path.split("?", maxsplit=1)[0])), None
        )
        assert template is not None, f"{path} is not in the OpenAPI document"
        operation = self.doc["paths"][template].get(method.lower())
        assert operation is not None, f"{method} {template} is not in the OpenAPI document"
        response = operation["responses"].get(str(answer.status))
        assert response is not None, f"{method} {template} answered {answer.status}, not documented"
        content = response.get("content")
        if not content:
            assert answer.body in (None, ""), f"{answer.status} documented without a body"
            return
        media = answer.headers.get("Content-Type", "").split(";")[0]
        assert media in content, f"{method} {template} {answer.status}: {media} not documented"
        schema = {**self.doc, **content[media]["schema"]}
        jsonschema.Draft202012Validator(schema).validate(answer.body)
        for name in response.get("headers", {}):
            assert name in answer.headers, f"{method} {template}: header {name} missing"
        self.checked += 1


@dataclass
class Api:
    """Talks to one gateway listener; remembers nothing but what it checked."""

    session: aiohttp.ClientSession
    url: str
    checker: OpenApiChecker
    sign_base: str = ""
    key: Ed25519PrivateKey | None = None
    key_id: str = "jpd"
    default_headers: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] | None = None  # signs at the gateway's time, when it is moved

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str | None = "application/json",
        sign: bool = True,
        key: Ed25519PrivateKey | None = None,
        key_id: str | None = None,
        headers: dict[str, str] | None = None,
        check: bool = True,
    ) -> Answer:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        all_headers = dict(self.default_headers)
        if data is not None and content_type:
            all_headers["Content-Type"] = content_type
        if sign and self.key is not None:
            all_headers.update(
                sign_request(
                    method=method,
                    url=self.sign_base + path,
                    body=data,
                    key_id=key_id or self.key_id,
                    private_key=key or self.key,
                    created=None if self.clock is None else self.clock(),
                )
            )
        all_headers.update(headers or {})
        async with self.session.request(
            method, self.url + path, data=data, headers=all_headers, allow_redirects=False
        ) as resp:
            text = await resp.text()
            decoded: Any = json.loads(text) if text and "json" in resp.content_type else text
            answer = Answer(resp.status, dict(resp.headers), decoded)
        if check:
            self.checker.check(method, path, answer)
        return answer


@dataclass
class Harness:
    """A running gateway with its clients, restreamer record and clock."""

    gateway: Gateway
    bound: Bound
    city: Api
    owner: Api
    restreamer: Any
    clock: Clock

    async def audit(self, kind: str | None = None) -> list[dict[str, Any]]:
        records = [r.to_json() for r in await self.gateway.audit.records(limit=1000)]
        return [r for r in records if kind is None or r["kind"] == kind]


type HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def harness_factory(
    gateway_factory: GatewayFactory,
) -> AsyncIterator[HarnessFactory]:
    """Start a gateway from a configuration and give signed/owner clients for it."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(
        config: dict[str, Any],
        *,
        clock: Clock | None = None,
        restreamer: Any = "recording",
        **options: Any,  # more of Gateway's keywords (e.g. no_media_s)
    ) -> Harness:
        clock = clock or Clock()
        # "recording" (the default) records calls; None lets the gateway choose from its config.
        if restreamer == "recording":
            restreamer = RecordingRestreamer()
        gw, bound = await gateway_factory(config, restreamer=restreamer, clock=clock, **options)
        session = aiohttp.ClientSession()
        sessions.append(session)
        base = config["public"]["base_url"]
        city = Api(
            session,
            f"http://127.0.0.1:{bound.public[1]}",
            OpenApiChecker(city_document(base)),
            sign_base=base,
            key=AGENCY_KEY,
            clock=clock,
        )
        owner = Api(
            session,
            f"http://127.0.0.1:{bound.owner[1]}",
            OpenApiChecker(owner_document()),
            default_headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
        )
        return Harness(gw, bound, city, owner, gw.restreamer, clock)

    yield make
    for session in sessions:
        await session.close()


def sharing_config(config: dict[str, Any], **camera: Any) -> dict[str, Any]:
    """The base configuration with the front door shared (consent on) and camera overrides."""
    config["cameras"][0].update({"consent": True, **camera})
    return config


@pytest.fixture
def auto_harness(harness_factory: HarnessFactory, config_dict: dict[str, Any]) -> HarnessFactory:
    """`harness_factory` for the front door shared and every request approved by itself.

    Takes harness_factory's keywords (clock=, restreamer=); a test may change `config_dict` first.
    """

    def start(**options: Any) -> Awaitable[Harness]:
        return harness_factory(sharing_config(config_dict, approval="auto"), **options)

    return start


@pytest.fixture
async def harness(harness_factory: HarnessFactory, config_dict: dict[str, Any]) -> Harness:
    """A gateway started from the base configuration (no camera shared)."""
    return await harness_factory(config_dict)


def with_garage(config: dict[str, Any], lat: float, lon: float) -> dict[str, Any]:
    """The configuration with a second camera, `garage`, shared (consent on) at lat/lon."""
    config["cameras"].append(
        {
            "id": "garage",
            "label": "Garage",
            "source": "rtsp://127.0.0.1/g",
            "location": {"lat": lat, "lon": lon},
            "consent": True,
        }
    )
    return config


INCIDENT: dict[str, Any] = {
    "incident_id": "JPD-2026-001234",
    "offense": "burglary",
    "reason": "Break-in reported at 123 Main St",
    "location": {"lat": 32.2988, "lon": -90.1848},
    "radius_m": 300,
}


def incident(**changes: Any) -> dict[str, Any]:
    """A valid request body with changes (None removes a field)."""
    body = {**INCIDENT, **changes}
    return {k: v for k, v in body.items() if v is not None}


# --- an audit log on its own ---------------------------------------------------------------------

T0 = datetime(2025, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[AuditLog]:
    """An audit log in `tmp_path`'s gateway.db, without a gateway."""
    async with aiosqlite.connect(tmp_path / DB_FILENAME) as conn:
        audit = AuditLog(conn)
        await audit.setup()
        yield audit


async def fill(audit: AuditLog, n: int) -> list[AuditRecord]:
    """`n` records, one a second from T0."""
    return [
        await audit.append("event", {"n": i}, ts=T0 + timedelta(seconds=i)) for i in range(1, n + 1)
    ]
