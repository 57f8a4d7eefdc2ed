"""The owner's actions: push a policy, pause and resume, approve or deny, revoke.

Each runs under the share lock the façade holds; the policy still applies to every approval
(default deny), and a new policy cuts what it must before it is saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from rtcc_gateway.config import Camera, Policy
from rtcc_gateway.policy import OwnerState, Reason, blocking_reason
from rtcc_gateway.shares.book import NotFoundError, NothingPendingError, RequestState
from rtcc_gateway.shares.lifecycle import (
    Ending,
    ShareLifecycle,
    refuse_unless_recordable,
    write_or_503,
)
from rtcc_gateway.shares.owner_policy import save_owner
from rtcc_gateway.shares.parts import ShareParts
from rtcc_gateway.shares.status import ShareStatus, is_active, open_window
from rtcc_gateway.shares.views import request_event, window_record
from rtcc_gateway.store import ShareRow, iso


@dataclass(eq=False, kw_only=True, slots=True)
class OwnerSide:
    """What the owner (through the integration) does to requests, shares and the policy."""

    parts: ShareParts
    lock: asyncio.Lock  # the façade's share lock, held by every action
    life: ShareLifecycle
    enforce: Callable[[datetime], Awaitable[None]]  # cut what the policy no longer allows
    find_request: Callable[[str], Awaitable[RequestState | None]]
    use_cameras: Callable[[tuple[Camera, ...]], None]  # the pushed cameras, for the doors
    wake: Callable[[], None]  # the share timer: something is due sooner

    async def _write[T](self, write: Awaitable[T]) -> T:
        return await write_or_503(write, self.parts.store, self.parts.guard)

    async def set_policy(self, policy: Policy, cameras: tuple[Camera, ...]) -> None:
        """A push from the integration: replaces policy and cameras, renews the lease."""
        async with self.lock:
            now = self.parts.clock()
            self.use_cameras(cameras)
            self.parts.policy.state = OwnerState(policy=policy, cameras=cameras, pushed_at=now)
            self.parts.policy.stale_announced = False
            await self.enforce(now)
            await self._write(save_owner(self.parts.store, self.parts.policy.state))
            await self._write(
                self.parts.audit.append(
                    "policy_updated",
                    {
                        "paused": policy.paused,
                        "paused_until": iso(policy.paused_until),
                        "privacy_windows": len(policy.privacy_windows),
                        "cameras_with_consent": sorted(c.id for c in cameras if c.consent),
                    },
                )
            )
            # A source may have changed (some camera URLs expire): live streams follow.
            known = {c.id for c in cameras}
            for share in list(self.parts.book.active.values()):
                if share.status == ShareStatus.LIVE and share.token and share.camera_id in known:
                    await self.parts.restreamer.add(self.life.spec(share))
        self.wake()

    async def set_paused(self, *, paused: bool, until: datetime | None) -> None:
        """Pause sharing (optionally until a time; live shares end now), or resume."""
        async with self.lock:
            owner = self.parts.policy.state
            policy = replace(owner.policy, paused=paused, paused_until=until)
            self.parts.policy.state = replace(owner, policy=policy)
            if paused:
                await self.enforce(self.parts.clock())
            await self._write(save_owner(self.parts.store, self.parts.policy.state))
            name, detail = ("paused", {"until": iso(until)}) if paused else ("resumed", {})
            await self._write(self.parts.audit.append(name, detail))
        self.wake()

    async def _request(self, request_id: str) -> RequestState:
        state = self.parts.book.requests.get(request_id) or await self.find_request(request_id)
        if state is None:
            raise NotFoundError(request_id)
        return state

    @staticmethod
    def _pending_of(state: RequestState, camera_ids: list[str] | None) -> list[ShareRow]:
        """The request's pending shares, all or those of the named cameras."""
        return [
            s
            for s in state.shares
            if s.status == ShareStatus.PENDING and (camera_ids is None or s.camera_id in camera_ids)
        ]

    async def approve(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says yes to pending cameras; the policy still applies (default deny)."""
        async with self.lock:
            now = self.parts.clock()
            state = await self._request(request_id)
            waiting = self._pending_of(state, camera_ids)
            if not waiting:
                raise NothingPendingError(request_id)
            refuse_unless_recordable(self.parts.guard)
            start = datetime.fromisoformat(state.row.body["start"])
            starting: list[ShareRow] = []
            for share in waiting:
                blocked = blocking_reason(self.parts.policy.state, share.camera_id, now)
                if blocked is not None:
                    await self._write(self.life.decline(share, blocked))
                    continue
                open_window(share, start, now)
                await self._write(self.parts.store.update_shares([share]))
                self.parts.book.index(share)
                await self._write(self.parts.audit.append("owner_approved", window_record(share)))
                if share.status == ShareStatus.LIVE:
                    starting.append(share)
            self.parts.events.publish("request_decided", **request_event(state))
            for share in starting:
                await self._write(self.life.activate(share))
            if request_id in self.parts.book.requests:
                self.parts.book.changed(state, now=now)
        self.wake()
        return state

    async def deny(self, request_id: str, camera_ids: list[str] | None) -> RequestState:
        """The owner says no to pending cameras."""
        async with self.lock:
            state = await self._request(request_id)
            waiting = self._pending_of(state, camera_ids)
            if not waiting:
                raise NothingPendingError(request_id)
            for share in waiting:
                await self._write(self.life.decline(share, Reason.OWNER_DENIED))
            if request_id in self.parts.book.requests:
                self.parts.book.changed(state, now=self.parts.clock())
            self.parts.events.publish("request_decided", **request_event(state))
        return state

    async def revoke_share(self, share_id: str) -> None:
        """End one share now."""
        async with self.lock:
            share = self.parts.book.shares.get(share_id)
            if share is None:
                if not await self.parts.store.has_share(share_id):
                    raise NotFoundError(share_id)
                return  # ended long ago
            if is_active(share):
                await self.life.end_all([(share, Reason.REVOKED)])

    async def revoke(self, camera_id: str | None) -> int:
        """End every active share of one camera, or of all; returns how many ended."""
        async with self.lock:
            ending: list[Ending] = [
                (share, Reason.REVOKED)
                for share in self.parts.book.active.values()
                if camera_id in (None, share.camera_id)
            ]
            await self.life.end_all(ending)
            return len(ending)
