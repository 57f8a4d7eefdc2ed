"""The data folder: private (0700, its files 0600), writable, and the gateway id kept in it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from rtcc_gateway.state_dir import (
    GATEWAY_ID_FILE,
    DataDirError,
    create_private,
    gateway_id,
    prepare_data_dir,
    secure_data_dir,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_folder_is_made_private_with_its_parents(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "data"
    prepare_data_dir(folder)
    assert folder.is_dir()
    assert mode(folder) == 0o700


def test_an_open_folder_and_the_gateway_files_in_it_are_closed(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    db = tmp_path / "gateway.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    other.chmod(0o644)
    secure_data_dir(tmp_path)
    assert (mode(tmp_path), mode(db)) == (0o700, 0o600)
    assert mode(other) == 0o644, "files that are not the gateway's are left as they are"


def test_a_file_in_the_way_is_named(tmp_path: Path) -> None:
    file = tmp_path / "data"
    file.write_text("")
    with pytest.raises(DataDirError, match=r"data_dir: cannot create .*/data: File exists"):
        prepare_data_dir(file)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: the refusal cannot happen")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o500)
    try:
        with pytest.raises(DataDirError, match="not a writable folder"):
            prepare_data_dir(folder)
    finally:
        folder.chmod(0o700)


def test_create_private_makes_an_empty_0600_file_once(tmp_path: Path) -> None:
    file = tmp_path / "gateway.db"
    create_private(file)
    assert (file.read_bytes(), mode(file)) == (b"", 0o600)
    file.write_bytes(b"data")
    create_private(file)
    assert file.read_bytes() == b"data", "an existing file is left alone"


def test_the_gateway_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = gateway_id(tmp_path)
    assert first.startswith("gw_")
    assert len(first) == 3 + 16
    assert gateway_id(tmp_path) == first
    assert mode(tmp_path / GATEWAY_ID_FILE) == 0o600
    assert gateway_id(tmp_path.parent / tmp_path.name) == first


def test_an_empty_id_file_gets_a_new_id(tmp_path: Path) -> None:
    (tmp_path / GATEWAY_ID_FILE).write_text("\n")
    new = gateway_id(tmp_path)
    assert new.startswith("gw_")
    assert (tmp_path / GATEWAY_ID_FILE).read_text().strip() == new
