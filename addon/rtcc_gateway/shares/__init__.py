"""Requests and their shares: `ShareManager` is the façade the API and the app use."""

from rtcc_gateway.shares.book import (
    MAX_PENDING,
    MAX_PENDING_PER_AGENCY,
    NotFoundError,
    NothingPendingError,
    RequestState,
    TooManyPendingError,
)
from rtcc_gateway.shares.manager import ShareManager
from rtcc_gateway.shares.status import ShareStatus, request_status

__all__ = [
    "MAX_PENDING",
    "MAX_PENDING_PER_AGENCY",
    "NotFoundError",
    "NothingPendingError",
    "RequestState",
    "ShareManager",
    "ShareStatus",
    "TooManyPendingError",
    "request_status",
]
