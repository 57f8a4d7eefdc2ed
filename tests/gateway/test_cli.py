"""`rtcc-gateway` in-process: its commands' exit codes and one-line answers (test_serve.py and
test_cli_audit.py run it as its own process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.cli import EXIT_BAD_INPUT, EXIT_OK, build_parser, gateway_main


def test_check_says_ok_and_which_restreamer(
    write_config: Callable[[Any], Path],
    config_dict: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_config(config_dict)
    assert gateway_main(["check", "--config", str(path)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == f"ok: {path}"


def test_check_of_a_missing_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gateway_main(["check", "--config", str(tmp_path / "nope.yaml")]) == EXIT_BAD_INPUT
    assert "nope.yaml" in capsys.readouterr().err


def test_verify_of_a_folder_without_a_database_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gateway_main(["audit", "verify", "--data-dir", str(tmp_path)]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == f"no audit database at {tmp_path / 'gateway.db'}"


def test_a_malformed_head_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = gateway_main(["audit", "verify", "--data-dir", str(tmp_path), "--head", "12"])
    assert code == EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("--head: ")


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([])
    assert exited.value.code == 2
