"""File systems for storage faults: a size-limited tmpfs mounted in the suite's own namespace."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of `size_kib` at `path` (needs root, as inside scripts/test); skips otherwise."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (scripts/test runs the suite as root)")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(mount: Path, name: str = "filler") -> Path:
    """Fill a file system to its last byte; returns the filler file (delete it to free space)."""
    filler = mount / name
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\xa5" * size):
                    pass
    finally:
        os.close(fd)
    return filler
