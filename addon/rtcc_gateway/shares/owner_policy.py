"""The owner's policy in force: saved with every push, restored at start, and its lease."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import voluptuous as vol

from rtcc_gateway.config import (
    CAMERAS_SCHEMA,
    POLICY_SCHEMA,
    build_cameras,
    build_policy,
    camera_to_dict,
    policy_to_dict,
)
from rtcc_gateway.policy import OwnerState
from rtcc_gateway.store import Store

_LOGGER = logging.getLogger(__name__)

POLICY_META_KEY: Final = "owner_policy"


async def load_owner(store: Store) -> OwnerState | None:
    """The last pushed policy and cameras, or None (none saved, or no longer valid)."""
    raw = await store.get_meta(POLICY_META_KEY)
    if raw is None:
        return None
    try:
        saved = json.loads(raw)
        policy = build_policy(POLICY_SCHEMA(saved["policy"]))
        cameras = build_cameras(CAMERAS_SCHEMA(saved["cameras"]))
        pushed_at = (
            None if saved["pushed_at"] is None else datetime.fromisoformat(saved["pushed_at"])
        )
    except (vol.Invalid, ValueError, KeyError, TypeError) as err:
        # A saved policy that no longer validates is dropped: the file's policy (default
        # deny: consent off unless the file says otherwise) applies until the next push.
        _LOGGER.warning("ignoring the saved owner policy: %s", err.__class__.__name__)
        return None
    return OwnerState(policy=policy, cameras=cameras, pushed_at=pushed_at)


async def save_owner(store: Store, owner: OwnerState) -> None:
    """Keep the policy and cameras in force (camera sources included) for the next start."""
    pushed = owner.pushed_at
    await store.set_meta(
        POLICY_META_KEY,
        json.dumps(
            {
                "policy": policy_to_dict(owner.policy),
                "cameras": [camera_to_dict(c, with_source=True) for c in owner.cameras],
                "pushed_at": None if pushed is None else pushed.isoformat(),
            }
        ),
    )


def lease_end(owner: OwnerState) -> datetime | None:
    """When the owner's last push stops counting (None: no push yet, or no lease)."""
    pushed = owner.pushed_at
    lease = owner.policy.owner_lease_s
    if pushed is None or lease <= 0:
        return None
    return pushed + timedelta(seconds=lease)


@dataclass(slots=True)
class PolicyInForce:
    """The owner's policy and cameras the gateway applies now (shared by the share parts)."""

    state: OwnerState
    stale_announced: bool = False  # policy_stale goes out once per lapsed lease
