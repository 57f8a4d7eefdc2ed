"""The data folder holds camera passwords and live tokens: 0700, and its files 0600, on every start
(not only when the gateway made it), or no start, naming the path.
"""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rtcc_gateway.app import StartError

from ..conftest import GatewayFactory
from .conftest import Harness, HarnessFactory, incident
from .fs import mounted_tmpfs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_an_existing_open_folder_and_its_files_are_made_private(
    auto_harness: HarnessFactory, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    first = await auto_harness()
    await first.city.call("POST", "/api/v1/requests", incident())
    await first.gateway.stop()
    # Someone (a backup restore, a careless chmod -R) opens everything up again.
    data.chmod(0o755)
    for file in data.iterdir():
        file.chmod(0o644)
    await auto_harness()
    assert mode(data) == 0o700
    names = {p.name for p in data.iterdir()}
    assert {"gateway.db", "gateway.db-wal", "gateway.db-shm", "gateway_id"} <= names
    for file in data.iterdir():
        assert mode(file) == 0o600, file


async def test_a_new_database_is_private_from_its_first_byte(
    harness: Harness, tmp_path: Path
) -> None:
    for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm", "gateway_id"):
        assert mode(tmp_path / "data" / name) == 0o600, name
    assert harness.gateway.gateway_id


@pytest.fixture
def read_only_data(tmp_path: Path) -> Iterator[Path]:
    """A data folder left 0755 on a file system mounted read-only (chmod fails there)."""
    with mounted_tmpfs(tmp_path / "ro", size_kib=1024) as mount:
        data = mount / "data"
        data.mkdir()
        data.chmod(0o755)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield data


async def test_a_folder_that_cannot_be_made_private_is_refused_by_name(
    gateway_factory: GatewayFactory, config_dict: dict[str, Any], read_only_data: Path
) -> None:
    config_dict["data_dir"] = str(read_only_data)
    with pytest.raises(StartError) as refused:
        await gateway_factory(config_dict)
    message = str(refused.value)
    assert message.startswith(f"data_dir: {read_only_data}")
    assert "0755" in message
