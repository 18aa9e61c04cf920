"""The derived notions of events.md, as small pure functions.

"Risk event", "significant harm", "agencies involved" and "has been told" decide who is
told what and which alerts fire; each is written once, here, in the words of events.md,
so that the policy and every rule agree on them.
"""

from __future__ import annotations

from typing import Final

from broker.models import (
    Agency,
    Concern,
    DecisionKind,
    Event,
    HealthKind,
    HealthUpdate,
    InvolvementStatus,
    PoliceVist,
    Rag,
    RiskLevel,
    School,
    SocialCareStatus,
    YotReferral,
)
from broker.picture.model import ChildPicture, EventSummary

SIGNIFICANT_HARM_CONCERNS: Final = frozenset(
    {
        Concern.sexual_abuse,
        Concern.physical_abuse,
        Concern.child_sexual_exploitation,
        Concern.child_criminal_exploitation,
    }
)
KNOWN_TO_SOCIAL_CARE: Final = frozenset(
    {
        SocialCareStatus.child_in_need,
        SocialCareStatus.child_protection_plan,
        SocialCareStatus.child_looked_after,
    }
)
"""Statuses under which social care is involved and receives risk events."""
PROTECTED: Final = frozenset(
    {SocialCareStatus.child_protection_plan, SocialCareStatus.child_looked_after}
)
"""On a child protection plan or looked after: the statuses CP-IS notifies about."""


def is_risk_event(event: Event) -> bool:
    """A police.vist, yot.referral or health.update with at least one concern, any
    AMBER or RED police.vist, or a health.update of kind mh_crisis."""
    if isinstance(event, PoliceVist):
        return bool(event.concerns) or event.rag in (Rag.AMBER, Rag.RED)
    if isinstance(event, YotReferral):
        return bool(event.concerns)
    if isinstance(event, HealthUpdate):
        return bool(event.concerns) or event.kind == HealthKind.mh_crisis
    return False


def is_significant_harm(event: Event) -> bool:
    """A RED police.vist, any risk event whose concerns include sexual or physical abuse
    or sexual or criminal exploitation, or a yot.referral with risk_level very_high."""
    if isinstance(event, PoliceVist) and event.rag == Rag.RED:
        return True
    if isinstance(event, YotReferral) and event.risk_level == RiskLevel.very_high:
        return True
    if not is_risk_event(event):
        return False
    concerns: list[Concern] = getattr(event, "concerns", [])
    return any(c in SIGNIFICANT_HARM_CONCERNS for c in concerns)


def status(picture: ChildPicture | None) -> SocialCareStatus | None:
    """The child's social care status as last recorded (None: no record)."""
    if picture is None or picture.socialcare is None:
        return None
    return picture.socialcare.status


def current_school(picture: ChildPicture) -> School | None:
    """The to_school of the latest transition, or the school of an open school
    involvement, whichever the broker heard of last."""
    candidates: list[tuple[int, School]] = []
    if picture.transitions:
        latest = max(picture.transitions.values(), key=lambda t: t.seq)
        candidates.append((latest.seq, latest.to_school))
    school = picture.involvements.get(Agency.school)
    if school is not None and school.status == InvolvementStatus.open and school.school:
        candidates.append((school.seq, school.school))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def agencies_involved(picture: ChildPicture) -> frozenset[Agency]:
    """Every agency whose latest involvement is open; social care while the child is in
    need, on a plan or looked after; early help while the status is early_help; and the
    school when the child has a current school."""
    involved = {
        Agency(i.agency)
        for i in picture.involvements.values()
        if i.status == InvolvementStatus.open
    }
    child_status = status(picture)
    if child_status in KNOWN_TO_SOCIAL_CARE:
        involved.add(Agency.socialcare)
    if child_status == SocialCareStatus.early_help:
        involved.add(Agency.early_help)
    if current_school(picture) is not None:
        involved.add(Agency.school)
    return frozenset(involved)


def chronological(events: list[EventSummary]) -> list[EventSummary]:
    """Oldest first (ties by event id): the order of an alert's evidence, and so of
    its id. Rules count before they sort: most counts do not fire."""
    return sorted(events, key=lambda e: (e.occurred_at, e.event_id))


def decisions_on(picture: ChildPicture, event_id: str) -> list[str]:
    """Ids of the MASH decisions about an event (naming it, or one of its alerts)."""
    return [
        d.decision_id for d in picture.decisions if event_id in (d.target_event_id, d.refers_to)
    ]


def told_of(picture: ChildPicture, summary: EventSummary) -> frozenset[Agency]:
    """The agencies that have been told of an event: its publisher, those the broker
    notified (and the MASH, for a risk event), and those a MASH `share` decision on it
    named. `health` and `camhs` are different agencies."""
    told = {Agency(summary.source_agency), *(Agency(a) for a in summary.told)}
    for decision in picture.decisions:
        about = summary.event_id in (decision.target_event_id, decision.refers_to)
        if about and decision.decision == DecisionKind.share:
            told.update(Agency(a) for a in decision.share_with)
    return frozenset(told)


def has_been_told(picture: ChildPicture, summary: EventSummary, agency: Agency) -> bool:
    return agency in told_of(picture, summary)


def not_yet_told(picture: ChildPicture, summary: EventSummary) -> frozenset[Agency]:
    """Agencies involved with the child that have not been told of the event."""
    return agencies_involved(picture) - told_of(picture, summary) - {Agency.mash}


def in_agency_order(agencies: frozenset[Agency] | set[Agency]) -> list[Agency]:
    """Agencies in the contract's order, so that lists and ids are deterministic."""
    return [a for a in _AGENCY_ORDER if a in agencies]


_AGENCY_ORDER: Final = tuple(Agency)
"""The contract's order of agencies (iterating an Enum class is slow)."""
