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
from typing import Final

from broker.models import ChildContext, Concern, ConcernCount
from broker.models.built import built
from broker.picture.derived import agencies_involved, current_school, in_agency_order
from broker.picture.model import ChildPicture

SHORT, LONG = 90, 365
CONCERNS: Final = tuple(Concern)
"""The concerns in the enum's order (iterating an Enum class is slow)."""
"""The two trailing windows (days) the counts are given for: those of the rules."""


def enrichment(picture: ChildPicture, at: datetime | None = None) -> ChildContext:
    """The summary of a child's picture that alerts carry and explanations read.

    Counts are of risk events whose occurred_at falls in the trailing window ending at
    `at` (default: the latest event's occurred_at).
    """
    if at is None:
        at = max((e.occurred_at for e in picture.events), default=None)
    in_short = in_long = 0
    by_short: dict[Concern, int] = {}
    by_long: dict[Concern, int] = {}
    if at is not None:  # one pass over the chronology for both windows (on every alert)
        since_short, since_long = at - timedelta(days=SHORT), at - timedelta(days=LONG)
        for e in picture.events:
            if e.risk and since_long <= e.occurred_at <= at:
                in_long += 1
                for c in e.concerns:
                    by_long[c] = by_long.get(c, 0) + 1
                if since_short <= e.occurred_at:
                    in_short += 1
                    for c in e.concerns:
                        by_short[c] = by_short.get(c, 0) + 1
    record = picture.socialcare
    # Every value below comes from the validated picture or is a count: constructed, not
    # validated again (on every alert, it was a tenth of raising one).
    return built(
        ChildContext,
        status=record.status if record else None,
        status_since=record.status_since if record else None,
        allocated_worker=record.allocated_worker if record else None,
        previous_referrals=list(record.previous_referrals) if record else [],
        agencies_involved=in_agency_order(agencies_involved(picture)),
        current_school=current_school(picture),
        risk_events_90_days=in_short,
        risk_events_365_days=in_long,
        concerns=[
            built(
                ConcernCount, concern=c, last_90_days=by_short.get(c, 0), last_365_days=by_long[c]
            )
            for c in CONCERNS
            if c in by_long
        ],
    )
