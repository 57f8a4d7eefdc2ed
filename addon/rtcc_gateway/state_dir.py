"""The gateway's data folder: created private, and the gateway id kept there for good."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

GATEWAY_ID_FILE = "gateway_id"


class DataDirError(Exception):
    """The data folder cannot be created or written."""


def prepare_data_dir(path: Path) -> None:
    """Create the folder (mode 0700) if needed and check that it is writable."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise DataDirError(f"data_dir: cannot create {path}: {err.strerror}") from None
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(f"data_dir: {path} is not a writable folder")


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
    tmp.write_text(new + "\n", encoding="ascii")
    tmp.replace(file)
    return new
