"""What every part of the share machinery reads and writes, handed over as one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rtcc_gateway.audit import AuditLog
from rtcc_gateway.events import EventBus
from rtcc_gateway.restreamer.base import Restreamer
from rtcc_gateway.shares.book import ShareBook
from rtcc_gateway.shares.owner_policy import PolicyInForce
from rtcc_gateway.storage_guard import StorageGuard
from rtcc_gateway.store import Store


@dataclass(frozen=True, slots=True)
class ShareParts:
    """Memory, the policy in force, and where shares are streamed, stored and recorded."""

    book: ShareBook
    policy: PolicyInForce
    store: Store
    audit: AuditLog
    events: EventBus
    restreamer: Restreamer
    guard: StorageGuard
    clock: Callable[[], datetime]
