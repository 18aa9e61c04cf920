"""The enrichment every alert carries: the child's picture in a few facts.

Inspectors found police deciding whether to share "on police information alone, with no
sight of social care records". Every alert's explanation therefore opens with what the
other agencies know: the social care status and allocated worker, who is involved, the
current school, previous referrals, and how many concerns of each kind in 90 and 365
days. `enrichment` gives it as plain data (for the MASH's screens and tests);
`broker.rules.wording` turns it into a sentence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from broker.picture.derived import agencies_involved, current_school, in_agency_order
from broker.picture.model import ChildPicture

WINDOWS = (90, 365)


def enrichment(picture: ChildPicture, at: datetime | None = None) -> dict[str, Any]:
    """The summary of a child's picture that explanations read.

    Counts are of risk events whose occurred_at falls in the trailing window ending at
    `at` (default: the latest event's occurred_at).
    """
    risks = [e for e in picture.events if e.risk]
    if at is None:
        at = max((e.occurred_at for e in picture.events), default=None)
    record = picture.socialcare
    school = current_school(picture)
    counts: dict[str, int] = {}
    by_concern: dict[str, dict[str, int]] = {}
    for days in WINDOWS:
        label = f"{days}_days"
        inside = (
            []
            if at is None
            else [e for e in risks if at - timedelta(days=days) <= e.occurred_at <= at]
        )
        counts[label] = len(inside)
        for summary in inside:
            for concern in summary.concerns:
                per = by_concern.setdefault(concern.value, {f"{d}_days": 0 for d in WINDOWS})
                per[label] += 1
    return {
        "socialcare_id": record.socialcare_id if record else None,
        "status": record.status.value if record else None,
        "status_since": record.status_since.isoformat() if record else None,
        "allocated_worker": (
            record.allocated_worker.model_dump(mode="json")
            if record and record.allocated_worker
            else None
        ),
        "previous_referrals": [d.isoformat() for d in record.previous_referrals] if record else [],
        "agencies_involved": [a.value for a in in_agency_order(agencies_involved(picture))],
        "current_school": school.model_dump(mode="json") if school else None,
        "risk_events": counts,
        "concerns": dict(sorted(by_concern.items())),
    }
