"""Which restreamer a configuration gets, as `rtcc-gateway check` reports it (GATEWAY.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.config import parse_config
from rtcc_gateway.restreamer.choice import choose_restreamer

from ..peers.go2rtc import go2rtc_binary


def check(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(shutil.which("rtcc-gateway")), "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def without_go2rtc(tmp_path: Path) -> dict[str, str]:
    """An environment where no go2rtc can be found: no $GO2RTC_BIN, a PATH without it."""
    return {"GO2RTC_BIN": "", "PATH": f"{tmp_path}:/usr/bin:/bin"}


def test_auto_picks_the_real_go2rtc_and_says_its_version(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any]
) -> None:
    binary = go2rtc_binary()
    config_dict["restreamer"] = "auto"
    config_dict["go2rtc_bin"] = str(binary)
    result = check(write_config(config_dict))
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("restreamer: go2rtc 1."), first
    assert f"({binary}): the configuration auto, and go2rtc was found" in first


def test_auto_without_go2rtc_falls_back_to_direct_and_says_why(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any], tmp_path: Path
) -> None:
    config_dict["restreamer"] = "auto"
    result = check(write_config(config_dict), **without_go2rtc(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "restreamer: direct (RTSP links only): auto, but no go2rtc found "
        "(go2rtc_bin, $GO2RTC_BIN, PATH)"
    )


def test_go2rtc_insisted_on_but_missing_is_bad_input(
    write_config: Callable[[Any], Path], config_dict: dict[str, Any], tmp_path: Path
) -> None:
    config_dict["restreamer"] = "go2rtc"
    result = check(write_config(config_dict), **without_go2rtc(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "restreamer: no go2rtc found (go2rtc_bin, $GO2RTC_BIN, PATH)"
    ]


async def test_a_binary_that_is_not_go2rtc_is_named(
    config_dict: dict[str, Any], tmp_path: Path
) -> None:
    fake = tmp_path / "go2rtc"
    fake.write_text("#!/bin/sh\necho 'hello'\n")
    fake.chmod(0o755)
    config_dict["restreamer"] = "auto"
    config_dict["go2rtc_bin"] = str(fake)
    choice = await choose_restreamer(parse_config(config_dict, base_dir=tmp_path))
    assert (choice.name, choice.refused) == ("direct", False)
    assert choice.why == f"auto, but go2rtc: {fake} -version printed no version"


@pytest.mark.parametrize("asked", ["auto", "go2rtc"])
async def test_serve_and_check_agree(
    config_dict: dict[str, Any], tmp_path: Path, asked: str
) -> None:
    config_dict["restreamer"] = asked
    config_dict["go2rtc_bin"] = str(go2rtc_binary())
    choice = await choose_restreamer(parse_config(config_dict, base_dir=tmp_path))
    assert (choice.name, choice.refused, choice.binary) == (
        "go2rtc",
        False,
        Path(config_dict["go2rtc_bin"]),
    )
