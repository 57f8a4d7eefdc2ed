"""Repair issues of this integration: problems the owner fixes outside the config flow."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


def onvif_issue_id(subentry_id: str) -> str:
    """The issue raised while an ONVIF camera refuses its stored credentials."""
    return f"onvif_invalid_auth_{subentry_id}"


def audit_issue_id(entry_id: str) -> str:
    """The issue raised when the gateway's audit log lost the head Home Assistant kept."""
    return f"audit_chain_{entry_id}"


def waiting_issue_id(entry_id: str) -> str:
    """The issue that says changes wait for an unreachable gateway."""
    return f"changes_waiting_{entry_id}"


def raise_issue(
    hass: HomeAssistant,
    issue_id: str,
    key: str,
    placeholders: dict[str, str],
    severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
) -> None:
    """A repair issue, gone again once its cause is (`delete_issue`)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=False,
        severity=severity,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def delete_issue(hass: HomeAssistant, issue_id: str) -> None:
    """Withdraw an issue (nothing happens when it is not open)."""
    ir.async_delete_issue(hass, DOMAIN, issue_id)


class OnvifAuthIssues:
    """The ONVIF cameras (by subentry id) that have an open wrong-password issue."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._open: set[str] = set()

    def refused(self, subentry_id: str, camera: str, host: str) -> None:
        """The camera refused its credentials: say so until it takes them again."""
        self._open.add(subentry_id)
        raise_issue(
            self._hass,
            onvif_issue_id(subentry_id),
            "onvif_invalid_auth",
            {"camera": camera, "host": host},
        )

    def accepted(self, subentry_id: str) -> None:
        """The camera took its credentials: withdraw its issue, if any."""
        if subentry_id in self._open:
            self._open.discard(subentry_id)
            delete_issue(self._hass, onvif_issue_id(subentry_id))

    def keep_only(self, subentry_ids: set[str]) -> None:
        """A camera the owner removed takes its issue with it."""
        for subentry_id in self._open - subentry_ids:
            self.accepted(subentry_id)
