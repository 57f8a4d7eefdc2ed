"""Schemathesis against a real `rtcc-gateway serve`.

The city API with every case signed over the final bytes sent (a `requests` auth class signs the
prepared request, after the body is serialized), the owner API with its token. Shared by
tests/gateway/test_api_fuzz.py (a small fixed-seed run) and bench/api_fuzz.py (1000+ cases per
operation).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck
from rtcc_gateway.signing import sign_request
from schemathesis import checks as st_checks

from .process import announcing

CHECKS = (
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.response_schema_conformance,
    st_checks.content_type_conformance,
)


class CitySignature(requests.auth.AuthBase):
    """RFC 9421 signature (and Content-Digest) over the request exactly as it will be sent."""

    def __init__(self, key_id: str, key: Ed25519PrivateKey, signed_base: str) -> None:
        # The gateway checks `@target-uri` against its own public base_url, not the socket.
        self.key_id, self.key, self.signed_base = key_id, key, signed_base.rstrip("/")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        raw = body.encode() if isinstance(body, str) else body
        assert request.method is not None
        assert request.url is not None
        split = urlsplit(request.url)
        target = self.signed_base + split.path + (f"?{split.query}" if split.query else "")
        request.headers.update(
            sign_request(
                method=request.method,
                url=target,
                body=raw or None,
                key_id=self.key_id,
                private_key=self.key,
            )
        )
        return request


@dataclass
class OperationReport:
    """What one operation's cases met."""

    operation: str
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def signed_through(self) -> float:
        """Share of cases that got past the signature check (not 401)."""
        return 1 - self.statuses[401] / self.cases if self.cases else 0.0


def fuzz(
    document_url: str,
    base_url: str,
    *,
    cases: int,
    seed: int,
    auth: requests.auth.AuthBase | None = None,
    headers: dict[str, str] | None = None,
    skip: tuple[str, ...] = (),
) -> list[OperationReport]:
    """Run `cases` generated cases against every operation; failures are collected, not raised."""
    schema = schemathesis.openapi.from_url(document_url, headers=headers or {})
    reports = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in skip:
            continue
        reports.append(_run_operation(operation, base_url, cases, seed, auth, headers))
    return reports


def _run_operation(  # noqa: PLR0917 - one call site, the fuzz's own arguments
    operation: Any,
    base_url: str,
    cases: int,
    seed: int,
    auth: requests.auth.AuthBase | None,
    headers: dict[str, str] | None,
) -> OperationReport:
    report = OperationReport(operation.label)
    with requests.Session() as session:

        @hypothesis.seed(seed)
        @hypothesis.settings(
            max_examples=cases,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(
                base_url=base_url, session=session, auth=auth, headers=headers, timeout=30
            )
            report.cases += 1
            report.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as err:  # noqa: BLE001 - every failure is reported, none stops the run
                if len(report.failures) < 20:
                    report.failures.append(f"{case.method} {case.formatted_path}: {err}"[:2000])

        run()
    return report


@contextlib.contextmanager
def running_gateway(config: dict[str, Any], folder: Path) -> Iterator[dict[str, Any]]:
    """`rtcc-gateway serve` on loopback with `config`; yields its base URLs."""
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    argv = ["rtcc-gateway", "serve", "--config", str(path)]
    with announcing(argv, stop_timeout=15, stderr=subprocess.DEVNULL) as (_, ready):
        line = ready.split()
        assert line, "the gateway printed nothing"
        assert line[0] == "listening", line
        ports = dict(part.split("=", 1) for part in line[1:])
        yield {
            "public": f"http://{ports['public']}",
            "owner": f"http://{ports['owner']}",
        }
