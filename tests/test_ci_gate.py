"""The CI gate: a go2rtc test that skips under CI=true fails; elsewhere it just skips."""

from __future__ import annotations

import pytest

SKIPPING = """
import pytest

def test_needs_go2rtc():
    pytest.skip("GO2RTC_BIN not set: real go2rtc not available here")

def test_needs_something_else():
    pytest.skip("no camera here")
"""

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(("ci", "failed", "skipped"), [("true", 1, 1), ("", 0, 2)])
def test_a_restreamer_skip_fails_only_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, failed: int, skipped: int
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only the gate, not HA's harness
    pytester.makepyfile(test_sample=SKIPPING)
    result = pytester.runpytest_subprocess("-p", "tests.ci_gate", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=failed, skipped=skipped)
    if failed:
        result.stdout.fnmatch_lines(["*CI=true, yet a go2rtc test skipped*"])
