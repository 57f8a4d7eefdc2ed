"""What the doors ask of the gateway: may this token watch now, and where does its video come from.

The doors get these two questions as callables (wired once in app.py), so they never reach into
the shares or the restreamer themselves; `shares` and `restreamer` are late-bound because both are
chosen at start (and tests may swap the restreamer before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

from rtcc_gateway.door.rtsp import Admission
from rtcc_gateway.door.share_admission import ShareAdmission
from rtcc_gateway.door.viewers import ViewerRegistry
from rtcc_gateway.restreamer.base import Restreamer, upstream_from_url
from rtcc_gateway.shares import ShareManager


class DoorGate:
    """Answers both doors' admission questions from the live shares."""

    def __init__(
        self,
        *,
        shares: Callable[[], ShareManager],
        restreamer: Callable[[], Restreamer],
        viewers: ViewerRegistry,
    ) -> None:
        self._shares = shares
        self._restreamer = restreamer
        self._viewers = viewers

    async def admit_http(self, token: str) -> ShareAdmission | None:
        """The HTTP door's question: does this token name a live, uncut share of a camera?"""
        shares = self._shares()
        share = shares.live_share(token)
        if share is None or self._viewers.is_cut(token):
            return None
        camera = shares.camera(share.camera_id)
        if camera is None:
            return None
        return ShareAdmission(
            token=token,
            share_id=share.id,
            request_id=share.request_id,
            camera_id=share.camera_id,
            share_audio=camera.share_audio,
        )

    async def admit_rtsp(self, token: str) -> Admission | None:
        """The RTSP door's question: the live-share check, plus where its video comes from."""
        live = await self.admit_http(token)
        upstream = self._restreamer().rtsp_upstream(token)
        camera = self._shares().camera(live.camera_id) if live is not None else None
        if live is None or upstream is None or camera is None:
            return None
        return Admission(
            **{f.name: getattr(live, f.name) for f in fields(ShareAdmission)},
            upstream=upstream,
            source=upstream_from_url(camera.source),
        )
