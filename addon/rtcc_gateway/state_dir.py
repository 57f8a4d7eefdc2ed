"""The gateway's data folder: private on every start, and the gateway id kept there for good.

The folder holds camera URLs with their passwords and live share tokens, so it is 0700 and its
files 0600 whoever made them; a folder that cannot be made so is refused, by name.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Final

GATEWAY_ID_FILE: Final = "gateway_id"
DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
# Every file the gateway keeps in the folder (the database with SQLite's WAL and shared-memory
# files, the id, the space reserve): each made 0600 if it exists.
PRIVATE_FILES: Final = (
    "gateway.db",
    "gateway.db-wal",
    "gateway.db-shm",
    "gateway.db-journal",
    GATEWAY_ID_FILE,
    "space.reserve",
)


class DataDirError(Exception):
    """The data folder cannot be created, written or made private."""


def prepare_data_dir(path: Path) -> None:
    """Create the folder (0700) if needed, check it is writable, make it and its files private."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as err:
        raise DataDirError(f"data_dir: cannot create {path}: {err.strerror}") from None
    if not path.is_dir():
        raise DataDirError(f"data_dir: {path} is not a folder")
    secure_data_dir(path)
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(f"data_dir: {path} is not a writable folder")


def _make_private(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    except OSError as err:
        raise DataDirError(f"data_dir: cannot inspect {path}: {err.strerror}") from None
    if current & 0o077 == 0:
        return
    try:
        path.chmod(mode)
    except OSError as err:
        raise DataDirError(
            f"data_dir: {path} is open to other users (mode {current:04o}) and cannot be made "
            f"{mode:04o} ({err.strerror}); fix its owner or mode, then start again"
        ) from None


def secure_data_dir(path: Path) -> None:
    """The folder 0700, each file of the gateway in it 0600; DataDirError naming the path if not."""
    _make_private(path, DIR_MODE)
    for name in PRIVATE_FILES:
        _make_private(path / name, FILE_MODE)


def create_private(file: Path) -> None:
    """Create `file` empty with mode 0600 unless it exists (so SQLite's files inherit 0600)."""
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def gateway_id(path: Path) -> str:
    """The id made on first start and kept in the data folder (the integration's unique id)."""
    file = path / GATEWAY_ID_FILE
    try:
        existing = file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    new = f"gw_{secrets.token_hex(8)}"
    tmp = file.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(new + "\n")
    tmp.replace(file)
    return new
