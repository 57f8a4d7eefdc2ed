"""This checkout's code, and no other's, runs here: in the test process and in every process a test
spawns, even while another checkout on the machine runs its own set-up and tests
(scripts/check-checkouts runs two at once and holds this one at a barrier meanwhile)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import rtcc_gateway

ROOT = Path(__file__).resolve().parents[1]
WHERE = "import rtcc_gateway; print(rtcc_gateway.__file__)"


def wait_at_barrier() -> None:
    """Under scripts/check-checkouts: say we are here, then wait for the other checkout's run.

    Both are named pipes the script made: each open blocks until the other side opens it, so
    this waits for the event itself (the test's timeout ends a run whose script died).
    """
    barrier = os.environ.get("RTCC_CHECKOUT_BARRIER")
    if not barrier:
        return
    with Path(f"{barrier}.waiting").open("w", encoding="utf-8") as waiting:
        waiting.write("waiting\n")
    with Path(barrier).open(encoding="utf-8") as go:
        assert go.read().strip() == "go"


def test_the_gateway_package_is_this_checkouts() -> None:
    assert Path(rtcc_gateway.__file__).resolve().is_relative_to(ROOT)


def test_spawned_console_scripts_run_this_checkouts_code() -> None:
    wait_at_barrier()
    script = shutil.which("rtcc-gateway")
    assert script, "the rtcc-gateway console script is not on PATH"
    assert Path(script).resolve().is_relative_to(ROOT) or Path(script).is_relative_to(ROOT)
    interpreter = Path(script).read_text(encoding="utf-8").splitlines()[0].removeprefix("#!")
    where = subprocess.run(
        [interpreter.strip(), "-c", WHERE], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(ROOT), where
    helped = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0, helped.stderr
    assert "serve" in helped.stdout


def test_a_plain_python_subprocess_imports_this_checkout() -> None:
    where = subprocess.run(["python", "-c", WHERE], capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).resolve().is_relative_to(ROOT), where.stdout
