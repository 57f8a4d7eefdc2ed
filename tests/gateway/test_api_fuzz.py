"""Both OpenAPI documents fuzzed against the real gateway process (a small fixed-seed run;
`bench/api_fuzz.py` runs 1000+ cases per operation): no 5xx, every status and body as the
document says, and signed city cases really get past the signature check."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ..conftest import AGENCY_KEY, BASE_CONFIG, OWNER_TOKEN
from ..peers.api_fuzz import CitySignature, OperationReport, fuzz, running_gateway

CASES = 25
SEED = 20261201


def fuzz_config(folder: Path) -> dict:
    config = copy.deepcopy(BASE_CONFIG)
    config["data_dir"] = str(folder / "data")
    config["agencies"][0]["rate_limit_per_minute"] = 100_000
    config["cameras"][0].update(consent=True, approval="auto")
    return config


def fuzzed(base: str, **auth: Any) -> list[OperationReport]:
    """Fuzz the listener at `base` with its own document; every operation held to it, no 5xx."""
    reports = fuzz(base + "/api/v1/openapi.json", base, cases=CASES, seed=SEED, **auth)
    problems = [f"{r.operation}: {f}" for r in reports for f in r.failures]
    assert not problems, "\n".join(problems)
    for report in reports:
        assert report.cases > 0, report.operation
        assert not any(status >= 500 for status in report.statuses), report
    return reports


@pytest.fixture
def urls(socket_enabled: None, tmp_path: Path):
    config = fuzz_config(tmp_path)
    with running_gateway(config, tmp_path) as found:
        yield {**found, "signed_base": config["public"]["base_url"]}


def test_the_city_api_holds_to_its_document(urls: dict[str, str]) -> None:
    reports = fuzzed(urls["public"], auth=CitySignature("jpd", AGENCY_KEY, urls["signed_base"]))
    assert {r.operation for r in reports} >= {
        "POST /api/v1/requests",
        "GET /api/v1/requests/{request_id}",
        "DELETE /api/v1/requests/{request_id}",
    }
    for report in reports:
        if report.operation != "GET /api/v1/health":
            # A fuzz whose cases all die at the signature check proves nothing.
            assert report.signed_through >= 0.9, (report.operation, dict(report.statuses))
    created = next(r for r in reports if r.operation == "POST /api/v1/requests").statuses
    assert created[201] + created[202] > 0, "some generated requests are real ones"


def test_the_owner_api_holds_to_its_document(urls: dict[str, str]) -> None:
    reports = fuzzed(urls["owner"], headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
    assert len(reports) >= 10
    for report in reports:
        assert report.statuses[401] == 0, report.operation
