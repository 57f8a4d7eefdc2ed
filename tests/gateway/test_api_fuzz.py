"""Both OpenAPI documents fuzzed against the real gateway process (a small fixed-seed run;
`bench/api_fuzz.py` runs 1000+ cases per operation): no 5xx, every status and body as the
document says, and signed city cases really get past the signature check."""

from __future__ import annotations

import copy
from pathlib import Path

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


def problems(reports: list[OperationReport]) -> list[str]:
    return [f"{r.operation}: {f}" for r in reports for f in r.failures]


@pytest.fixture
def urls(socket_enabled: None, tmp_path: Path):
    config = fuzz_config(tmp_path)
    with running_gateway(config, tmp_path) as found:
        yield {**found, "signed_base": config["public"]["base_url"]}


def test_the_city_api_holds_to_its_document(urls: dict[str, str]) -> None:
    reports = fuzz(
        urls["public"] + "/api/v1/openapi.json",
        urls["public"],
        cases=CASES,
        seed=SEED,
        auth=CitySignature("jpd", AGENCY_KEY, urls["signed_base"]),
    )
    assert {r.operation for r in reports} >= {
        "POST /api/v1/requests",
        "GET /api/v1/requests/{request_id}",
        "DELETE /api/v1/requests/{request_id}",
    }
    assert not problems(reports), "\n".join(problems(reports))
    for report in reports:
        assert report.cases > 0, report.operation
        assert not any(status >= 500 for status in report.statuses), report
        if report.operation != "GET /api/v1/health":
            # A fuzz whose cases all die at the signature check proves nothing.
            assert report.signed_through >= 0.9, (report.operation, dict(report.statuses))
    created = next(r for r in reports if r.operation == "POST /api/v1/requests").statuses
    assert created[201] + created[202] > 0, "some generated requests are real ones"


def test_the_owner_api_holds_to_its_document(urls: dict[str, str]) -> None:
    reports = fuzz(
        urls["owner"] + "/api/v1/openapi.json",
        urls["owner"],
        cases=CASES,
        seed=SEED,
        headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
    )
    assert len(reports) >= 10
    assert not problems(reports), "\n".join(problems(reports))
    for report in reports:
        assert report.cases > 0, report.operation
        assert report.statuses[401] == 0, report.operation
        assert not any(status >= 500 for status in report.statuses), report
