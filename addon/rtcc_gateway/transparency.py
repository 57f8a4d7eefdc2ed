"""The owner's transparency figures per agency: from requests in memory plus those already let go.

Requests leave memory an hour after they end (the share manager keeps only what is open or
recent); what they add to the figures is folded into per-agency totals when they go, and at a
restart read back from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from rtcc_gateway.store import AgencyTotals, RequestRow, ShareRow


@dataclass(slots=True)
class Figures(AgencyTotals):
    """What one agency's requests add up to: the stored totals, plus what the doors saw."""

    seconds_viewed: float = 0.0
    viewers: int = 0

    @classmethod
    def from_totals(cls, totals: AgencyTotals) -> Figures:
        """Figures from what the database says of requests no longer in memory."""
        return cls(**asdict(totals))

    def add_request(
        self,
        shares: Iterable[ShareRow],
        now: datetime,
        viewer_figures: Mapping[str, tuple[int, float]],
    ) -> None:
        """Count one request with its shares; `viewer_figures`: token -> (viewers, seconds)."""
        self.requests += 1
        for share in shares:
            if share.token is None:
                self.declined += share.status == "declined"
                continue
            self.approved += 1
            viewers, seconds = viewer_figures.get(share.token, (0, 0.0))
            self.viewers += viewers
            self.seconds_viewed += seconds
            if share.starts_at is not None and share.ends_at is not None:
                end = min(share.ended_at or now, share.ends_at, now)
                self.seconds_live += max(0.0, (end - share.starts_at).total_seconds())

    def plus(self, other: Figures) -> Figures:
        """The sum of two agencies' figures (memory plus archive)."""
        return Figures(
            requests=self.requests + other.requests,
            approved=self.approved + other.approved,
            declined=self.declined + other.declined,
            seconds_live=self.seconds_live + other.seconds_live,
            seconds_viewed=self.seconds_viewed + other.seconds_viewed,
            viewers=self.viewers + other.viewers,
        )


def report(
    names: Mapping[str, str],
    archive: Mapping[str, Figures],
    recent: Iterable[tuple[RequestRow, str, list[ShareRow]]],
    now: datetime,
    viewer_figures: Mapping[str, tuple[int, float]],
) -> dict[str, Any]:
    """GET /api/v1/transparency: every configured agency, and any other that made a request."""
    per: dict[str, tuple[str, Figures]] = {a: (n, Figures()) for a, n in names.items()}
    for row, name, shares in recent:
        per.setdefault(row.agency_id, (name, Figures()))[1].add_request(shares, now, viewer_figures)
    for agency, figures in archive.items():
        name, mine = per.setdefault(agency, (names.get(agency, agency), Figures()))
        per[agency] = (name, mine.plus(figures))
    return {
        "agencies": [
            {
                "agency": agency,
                "name": name,
                "requests": f.requests,
                "approved": f.approved,
                "declined": f.declined,
                "minutes_live": round(f.seconds_live / 60, 2),
                "minutes_viewed": round(f.seconds_viewed / 60, 2),
                "viewers": f.viewers,
            }
            for agency, (name, f) in sorted(per.items())
        ]
    }
