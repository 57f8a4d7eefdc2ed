"""`scripts/demo --check` can fail: with the camera's consent forced off, the story stops at the
city's request and says so, after everything before it held.

Runs the demo's story (tests/peers/demo/inner.py) directly: scripts/test's network namespace is
already loopback-only, which is what the demo's own namespace gives it. `.ci/run` runs the real
`scripts/demo --check` (consent on) after the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..peers.camera import camera_available
from ..peers.demo.inner import parse
from ..peers.go2rtc import go2rtc_binary
from ..peers.onvif_sim import sim_unavailable

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600  # a real Home Assistant on a loaded 2-core machine; fails a broken run only


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_check_fails_naming_the_step_when_consent_is_forced_off(tmp_path: Path) -> None:
    go2rtc_binary()  # skips (and fails under CI=true) without the real go2rtc
    for reason in (camera_available(), sim_unavailable()):
        if reason is not None:
            print(f"skipping the demo: {reason}")
            pytest.skip(reason)
    # Its own process group, so a broken run that times out takes all it started with it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.peers.demo.inner", "--check", "--work", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "RTCC_DEMO_CONSENT": "off"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the demo did not end within {RUN_TIMEOUT_S} s:\n{out}\n{err[-3000:]}")
    lines = out.splitlines()
    said = "\n".join(lines) + "\n--- stderr:\n" + err[-3000:]
    assert proc.returncode == 1, said
    # What comes before consent held: the camera came through ONVIF discovery into the gateway.
    assert any("added through ONVIF discovery" in line for line in lines), said
    assert any("consent forced OFF" in line for line in lines), said
    assert not any("consent on:" in line for line in lines), said
    failed = [line for line in lines if "FAILED" in line]
    assert failed == [failed[-1]], said  # one failure, named once
    assert failed[0].startswith("demo: FAILED step 'request waiting for the owner':"), said
    assert "declined" in failed[0], said
    assert not any("every step held" in line for line in lines), said


def test_options_are_checked_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(["--check"]).window == 60
    assert parse(["--consent", "off"]).consent == "off"
    for bad, why in (
        (["--window", "59"], "at least 60 s"),
        (["--check", "--interactive"], "non-interactive"),
        (["--consent", "maybe"], "invalid choice"),
    ):
        with pytest.raises(SystemExit) as exited:
            parse(bad)
        assert exited.value.code == 2
        assert why in capsys.readouterr().err


def test_consent_can_be_forced_off_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTCC_DEMO_CONSENT", "off")
    assert parse([]).consent == "off"
    monkeypatch.delenv("RTCC_DEMO_CONSENT")
    assert parse([]).consent == "on"
