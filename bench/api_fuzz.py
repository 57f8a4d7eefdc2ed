"""Fuzz both OpenAPI documents against a real gateway: N generated cases per operation (default
1000), city cases signed over the final bytes sent. Prints per operation the cases, the statuses
met, the share past the signature check, and any failure (5xx, undocumented status or body).

    scripts/run python bench/api_fuzz.py [--cases N] [--seed S] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import AGENCY_KEY, OWNER_TOKEN
from tests.gateway.test_api_fuzz import fuzz_config
from tests.peers.api_fuzz import CitySignature, fuzz, running_gateway


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON line at the end")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        config = fuzz_config(Path(folder))
        with running_gateway(config, Path(folder)) as urls:
            city = fuzz(
                urls["public"] + "/api/v1/openapi.json",
                urls["public"],
                cases=args.cases,
                seed=args.seed,
                auth=CitySignature("jpd", AGENCY_KEY, config["public"]["base_url"]),
            )
            owner = fuzz(
                urls["owner"] + "/api/v1/openapi.json",
                urls["owner"],
                cases=args.cases,
                seed=args.seed,
                headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
            )
    failures = 0
    print(f"{'operation':<52} {'cases':>6} {'5xx':>4} {'signed':>7}  statuses")
    for api, reports in (("city", city), ("owner", owner)):
        for r in reports:
            server = sum(n for s, n in r.statuses.items() if s >= 500)
            failures += len(r.failures)
            statuses = " ".join(f"{s}:{n}" for s, n in sorted(r.statuses.items()))
            signed = f"{r.signed_through:.1%}"
            print(f"{api} {r.operation:<47} {r.cases:>6} {server:>4} {signed:>7}  {statuses}")
            for failure in r.failures[:3]:
                print(f"    FAIL {failure[:300]}")
    total = sum(r.cases for r in city + owner)
    print(f"{total} cases in {time.monotonic() - started:.0f} s, {failures} failures")
    if args.json:
        print(json.dumps({"bench": "api_fuzz", "cases": total, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
