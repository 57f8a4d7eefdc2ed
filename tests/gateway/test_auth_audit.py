"""Refused signatures go on the record, but a flood of them cannot flood the log: 30 a minute per
address and 300 a minute in all; what is dropped is counted on the next record.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from rtcc_gateway.audit import AuditLog
from rtcc_gateway.auth_audit import AuthFailureAudit
from rtcc_gateway.limits import (
    AUTH_FAILURE_AUDITS_IN_ALL_PER_MINUTE,
    AUTH_FAILURE_AUDITS_PER_MINUTE,
)

from ..conftest import Clock
from .conftest import Harness, HarnessFactory


async def _refused_from(h: Harness, address: str, times: int) -> None:
    """Unsigned calls from one loopback address (all of 127.0.0.0/8 is ours)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(times):
            async with session.get(f"{h.city.url}/api/v1/cameras") as resp:
                assert resp.status == 401


async def test_one_address_gets_thirty_records_a_minute(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    clock = Clock()
    h = await harness_factory(config_dict, clock=clock)
    await _refused_from(h, "127.0.0.2", AUTH_FAILURE_AUDITS_PER_MINUTE + 5)
    assert len(await h.audit("auth_failed")) == AUTH_FAILURE_AUDITS_PER_MINUTE
    clock.advance(61)
    await _refused_from(h, "127.0.0.2", 1)
    records = await h.audit("auth_failed")
    assert len(records) == AUTH_FAILURE_AUDITS_PER_MINUTE + 1
    assert records[-1]["detail"]["suppressed_before"] == 5
    assert records[-1]["detail"]["remote"] == "127.0.0.2"


async def test_many_addresses_share_a_cap_of_three_hundred_a_minute(
    harness_factory: HarnessFactory, config_dict: dict[str, Any]
) -> None:
    # 20 addresses once wrote 600 records in 1.3 s: each stayed under its own cap.
    clock = Clock()
    h = await harness_factory(config_dict, clock=clock)
    per_address = 16  # under the per-address cap, 320 in all
    for n in range(20):
        await _refused_from(h, f"127.0.1.{n + 1}", per_address)
    records = await h.audit("auth_failed")
    assert len(records) == AUTH_FAILURE_AUDITS_IN_ALL_PER_MINUTE
    assert len({r["detail"]["remote"] for r in records}) == 19  # the 20th found the cap full
    clock.advance(61)
    await _refused_from(h, "127.0.1.20", 1)
    last = (await h.audit("auth_failed"))[-1]
    assert last["detail"]["suppressed_before"] == 20 * per_address - 300
    verify = (await h.owner.call("GET", "/api/v1/audit/verify")).body
    assert verify["ok"] is True


class Refused:
    """The parts of a refused request that go on the record."""

    def __init__(self, remote: str | None) -> None:
        self.remote = remote
        self.method = "POST"
        self.path = "/api/v1/requests"


async def test_a_refused_signature_is_recorded_with_what_was_asked_and_from_where(
    log: AuditLog,
) -> None:
    clock = Clock()
    audit = AuthFailureAudit(audit=lambda: log, clock=clock)
    await audit.record(Refused("192.0.2.7"), "stale")  # type: ignore[arg-type]
    await audit.record(Refused(None), "missing")  # type: ignore[arg-type]
    details = [r.detail for r in await log.records(limit=10)]
    assert details == [
        {"reason": "stale", "method": "POST", "path": "/api/v1/requests", "remote": "192.0.2.7"},
        {"reason": "missing", "method": "POST", "path": "/api/v1/requests", "remote": "unknown"},
    ]
