"""With CI=true a go2rtc test that skips fails the run: CI always tests the real restreamer.

A pytest plugin (loaded by tests/conftest.py) so that tests/test_ci_gate.py can run it alone.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    about_go2rtc = "go2rtc" in item.nodeid or "go2rtc" in str(report.longrepr)
    if report.skipped and about_go2rtc and os.environ.get("CI") == "true":
        report.outcome = "failed"
        report.longrepr = f"CI=true, yet a go2rtc test skipped: {report.longrepr}"
    return report
