"""The gateway's answer to a data folder that cannot be written.

An end that cannot be recorded must never come back: a revoke cut in memory but still "live" in
the database would play again after a restart. So the folder keeps a reserve (a file of real
blocks) that is given back to the disk when an end-of-share record meets a full disk, and no share
starts while there is no reserve. If a record still cannot be written, the gateway enters a mode
that cuts every share and refuses new ones (503) until the records are written, and tells the
owner once (event and log).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from rtcc_gateway.clock import Steady

_LOGGER = logging.getLogger(__name__)

RESERVE_FILE: Final = "space.reserve"
RESERVE_BYTES: Final = 1024 * 1024  # an end takes ~40 KiB of WAL frames: room for many
LOG_EVERY_S: Final = 60.0

# What the database raises when the folder cannot be read or written (aiosqlite passes SQLite's
# errors through; file errors of the reserve are handled here).
STORAGE_ERRORS: Final = (sqlite3.Error,)

type Publish = Callable[..., Any]


class StorageUnavailableError(Exception):
    """The data folder cannot take a write now; the caller answers 503."""


def _fill(path: Path, size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        # Real blocks, not a sparse file: the point is space the disk cannot hand to anyone else.
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as err:
            if err.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # then write zeros instead
                raise
            block = b"\0" * 65536
            for _ in range(size // len(block)):
                os.write(fd, block)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.close(fd)


class StorageGuard:
    """The reserve, and whether the gateway is in its storage-failure mode."""

    def __init__(
        self,
        data_dir: Path,
        publish: Publish,
        *,
        clock: Steady,
        reserve_bytes: int = RESERVE_BYTES,
    ) -> None:
        self.path = data_dir / RESERVE_FILE
        self._clock = clock
        self._publish = publish
        self._size = reserve_bytes
        self.failed = False
        self._last_log: float | None = None
        self._held = 0

    @property
    def reserved(self) -> bool:
        """Whether the reserve is in place (so the end of every share can be recorded)."""
        try:
            return self.path.stat().st_size >= self._size
        except OSError:
            return False

    def can_start_shares(self) -> bool:
        """New shares only when their end is sure to be recordable."""
        return not self.failed and self.reserved

    async def ensure_reserve(self) -> bool:
        """Make the reserve if it is missing; False when the disk has no room for it."""
        if self.reserved:
            return True
        try:
            await asyncio.to_thread(_fill, self.path, self._size)
        except OSError as err:
            self.note("cannot keep the space reserve", err)
            return False
        return True

    async def release_reserve(self) -> bool:
        """Give the reserve back to the disk; True if there was one to give."""
        if not self.path.exists():
            return False
        try:
            await asyncio.to_thread(self.path.unlink)
        except OSError:
            return False
        _LOGGER.warning(
            "the data folder is full: used its space reserve to record the end of a share; "
            "free space in %s (no new share starts until the reserve is back)",
            self.path.parent,
        )
        return True

    def enter_failed(self, err: BaseException) -> None:
        """A record could not be written: say so once; the share manager cuts everything."""
        if self.failed:
            return
        self.failed = True
        _LOGGER.error(
            "cannot write the gateway's database in %s (%s): every share is cut and new ones "
            "are refused (503) until the records are written",
            self.path.parent,
            _reason(err),
        )
        self._publish("storage_failed", reason=_reason(err))

    def leave_failed(self, unrecorded: int) -> None:
        """Every pending record is written."""
        if not self.failed:
            return
        self.failed = False
        _LOGGER.warning(
            "the gateway's database is writable again: %d records written; sharing can resume",
            unrecorded,
        )
        self._publish("storage_recovered", records_written=unrecorded)

    def note(self, what: str, err: BaseException) -> None:
        """A storage error answered with 503: logged at most once a minute, with a count."""
        now = self._clock()
        if self._last_log is not None and now - self._last_log < LOG_EVERY_S:
            self._held += 1
            return
        held, self._held, self._last_log = self._held, 0, now
        more = f" ({held} more since the last such line)" if held else ""
        _LOGGER.error("%s in %s: %s%s", what, self.path.parent, _reason(err), more)


def _reason(err: BaseException) -> str:
    """The error in one line, without a traceback (SQLite's and the OS's words are safe)."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__
