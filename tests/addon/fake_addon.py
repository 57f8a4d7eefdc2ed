"""A fake add-on (its /data and /ssl in a folder) that runs `python -m rtcc_gateway.addon_options`
as the add-on's run script does, and `rtcc-gateway check` on what it wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import AGENCY_PUBLIC_B64

TOKEN = "addon-owner-token-" + "7f3a9c" * 6
GOOD_OPTIONS: dict[str, Any] = {
    "base_url": "https://home.example.net:8443",
    "rtsp_base_url": "rtsps://home.example.net:8554",
    "certfile": "fullchain.pem",
    "keyfile": "privkey.pem",
    "insecure_http": False,
    "agencies": [
        {
            "id": "jpd",
            "name": "Jackson Police Department",
            "public_key": AGENCY_PUBLIC_B64,
            "rate_limit_per_minute": 12,
        },
        {"id": "hcso", "name": "Hinds County Sheriff", "public_key": AGENCY_PUBLIC_B64},
    ],
    "timezone": "America/Chicago",
    "log_level": "info",
    "paused": False,
    "privacy_windows": [{"days": "mon,tue,wed,thu,fri", "start": "22:00", "end": "07:00"}],
    "approval_timeout_minutes": 5,
}


class Addon:
    """A fake add-on /data and /ssl in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.ssl = root / "ssl"
        self.data.mkdir()
        self.ssl.mkdir()
        (self.ssl / "fullchain.pem").write_text("-----BEGIN CERTIFICATE-----\n")
        (self.ssl / "privkey.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
        self.options = self.data / "options.json"
        self.token = self.data / "owner_token"
        self.out = self.data / "gateway.yaml"
        self.token.write_text(TOKEN + "\n")
        self.token.chmod(0o600)

    def write_options(self, options: Any) -> None:
        self.options.write_text(json.dumps(options))

    def args(self) -> list[str]:
        """The converter's file arguments (no --data-dir: its default is /data/gateway)."""
        return [
            "--options",
            str(self.options),
            "--token-file",
            str(self.token),
            "--out",
            str(self.out),
            "--ssl-dir",
            str(self.ssl),
        ]

    def run(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rtcc_gateway.addon_options", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )

    def convert(
        self, options: Any = None, *extra: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        if options is not None:
            self.write_options(options)
        data_dir = str(self.data / "gateway")
        return self.run(
            *self.args(), "--data-dir", data_dir, *extra, env={**os.environ, **(env or {})}
        )

    def config(self) -> dict[str, Any]:
        data = yaml.safe_load(self.out.read_text())
        assert isinstance(data, dict)
        return data


def gateway_check(config: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("rtcc-gateway")
    assert exe, "the rtcc-gateway console script is not installed"
    return subprocess.run(
        [exe, "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
        assert TOKEN[:16] not in text
