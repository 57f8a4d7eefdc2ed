"""Transitions with their consequences: streams, cuts, rows, records and events.

Ends are cut first and recorded after: a record that cannot be written is kept and retried, and
the gateway goes into its storage-failure mode (storage_guard.py); the cut never waits for disk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rtcc_gateway.config import Camera
from rtcc_gateway.policy import Reason
from rtcc_gateway.restreamer.base import StreamSpec
from rtcc_gateway.shares.parts import ShareParts
from rtcc_gateway.shares.status import STORAGE_FAILED, decline_row, end_row
from rtcc_gateway.shares.views import declined_record, ended_record, window_record
from rtcc_gateway.storage_guard import STORAGE_ERRORS, StorageGuard, StorageUnavailableError
from rtcc_gateway.store import ShareRow, Store

_LOGGER = logging.getLogger(__name__)

type CutListener = Callable[[str], Awaitable[None]]
type Ending = tuple[ShareRow, Reason | str]


async def write_or_503[T](write: Awaitable[T], store: Store, guard: StorageGuard) -> T:
    """A write whose failure is the caller's 503 (logged once a minute, not per request)."""
    try:
        return await write
    except STORAGE_ERRORS as err:
        await store.rollback()
        guard.note("cannot write the database", err)
        raise StorageUnavailableError from None


def refuse_unless_recordable(guard: StorageGuard) -> None:
    """No new share while its records could not be written (503)."""
    if not guard.can_start_shares():
        raise StorageUnavailableError


@dataclass(slots=True)
class _Unrecorded:
    """Ends cut in memory whose rows and records are still to be written."""

    shares: list[ShareRow]
    details: list[dict[str, Any]]
    stored: bool = False


class ShareLifecycle:
    """Starts, declines and ends shares, and puts each on the record."""

    def __init__(
        self,
        parts: ShareParts,
        *,
        camera: Callable[[str], Camera | None],
        wake: Callable[[], None],
    ) -> None:
        self._p = parts
        self._camera = camera
        self._wake = wake
        self._unrecorded: list[_Unrecorded] = []
        self._cut_listeners: list[CutListener] = []

    def on_cut(self, listener: CutListener) -> None:
        """Call `listener(token)` first thing when a live share ends (the doors cut viewers)."""
        self._cut_listeners.append(listener)

    @property
    def unrecorded(self) -> int:
        """How many ended shares are not yet written."""
        return sum(len(u.shares) for u in self._unrecorded)

    def spec(self, share: ShareRow) -> StreamSpec:
        """What the restreamer needs to serve a live share."""
        camera = self._camera(share.camera_id)
        # Callers only start shares the policy allowed, so the camera exists and has a token.
        assert camera is not None  # noqa: S101
        assert share.token  # noqa: S101
        return StreamSpec(token=share.token, source=camera.source, share_audio=camera.share_audio)

    async def activate(self, share: ShareRow) -> None:
        """A share goes live: its stream, its record, its event."""
        await self._p.restreamer.add(self.spec(share))
        record = window_record(share)
        await self._p.audit.append("share_started", record)
        self._p.events.publish("share_started", **record)

    async def decline(self, share: ShareRow, reason: Reason) -> None:
        """A pending share is declined, stored and recorded."""
        decline_row(share, reason)
        self._p.book.index(share)
        self._p.book.changed_share(share, now=self._p.clock())
        await self._p.store.update_shares([share])
        await self._p.audit.append("request_decided", declined_record(share, reason))

    async def end_all(self, ending: list[Ending], *, restored: bool = False) -> None:
        """Close shares, cutting first and recording after.

        Every door cuts every viewer of all of them first (fast); then the streams go and the
        bookkeeping follows, so one share's records never delay another's cut.
        """
        if not ending:
            return
        now = self._p.clock()
        cut: list[str] = []
        details: list[dict[str, Any]] = []
        for share, reason in ending:
            was_live = end_row(share, reason, now)
            self._p.book.index(share)
            if was_live and not restored:
                cut.append(share.token or "")
                await self._cut(share.token or "", share.id)
            details.append(ended_record(share, reason, restored=restored))
        for token in cut:
            await self._p.restreamer.remove(token)
        for detail in details:
            self._p.events.publish("share_ended", **detail)
        for share, _ in ending:
            self._p.book.changed_share(share, now=now)
        self._unrecorded.append(_Unrecorded([s for s, _ in ending], details))
        await self.flush()

    async def _cut(self, token: str, share_id: str) -> None:
        for listener in list(self._cut_listeners):
            try:
                await listener(token)
            except Exception:
                _LOGGER.exception("a door failed to cut share %s", share_id)

    async def flush(self) -> bool:
        """Write every kept end; on failure use the reserve once, else the failure mode."""
        written = 0
        while self._unrecorded:
            item = self._unrecorded[0]
            try:
                if not item.stored:
                    await self._p.store.update_shares(item.shares)
                    item.stored = True
                while item.details:
                    await self._p.audit.append("share_ended", item.details[0])
                    item.details.pop(0)
                    written += 1
            except STORAGE_ERRORS as err:
                await self._p.store.rollback()
                if await self._p.guard.release_reserve():
                    continue
                await self._fail_storage(err)
                return False
            self._unrecorded.pop(0)
        if self._p.guard.failed:
            self._p.guard.leave_failed(written)
        return True

    async def _fail_storage(self, err: BaseException) -> None:
        """The failure mode: every share is cut now, new ones are refused.

        It lasts until the records are written (the timer retries).
        """
        if self._p.guard.failed:
            return
        self._p.guard.enter_failed(err)
        await self.end_all([(s, STORAGE_FAILED) for s in list(self._p.book.active.values())])
        self._wake()
