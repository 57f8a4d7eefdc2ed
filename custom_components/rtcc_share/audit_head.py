"""The audit head Home Assistant keeps outside the gateway, and its check.

The gateway's hash chain must still hold the head kept here; a cut-off or rewritten log raises a
repair issue.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .const import LOGGER
from .gateway_client import GatewayClient
from .issues import audit_issue_id, delete_issue, raise_issue


def head_of(event: dict[str, object]) -> str | None:
    """`SEQ:HASH` from an `audit_head` event (None when it holds none)."""
    head = event.get("head")
    if isinstance(head, dict) and "seq" in head and "hash" in head:
        return f"{head['seq']}:{head['hash']}"
    return None


async def async_check_audit_head(
    hass: HomeAssistant, entry_id: str, client: GatewayClient, kept: str | None
) -> str | None:
    """Verify the kept head against the gateway; the head to keep from now on (None: keep)."""
    result = await client.audit_verify(kept)
    issue_id = audit_issue_id(entry_id)
    if result.ok:
        delete_issue(hass, issue_id)
        return result.head if result.head is not None and result.head != kept else None
    LOGGER.error(
        "The gateway's audit log no longer holds the head %s this Home Assistant kept "
        "(first bad record: %s)",
        kept,
        result.first_bad,
    )
    raise_issue(
        hass,
        issue_id,
        "audit_chain_broken",
        {"head": kept or "-", "first_bad": str(result.first_bad), "gateway": client.base_url},
    )
    return None
