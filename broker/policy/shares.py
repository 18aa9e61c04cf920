"""Who is told of an event without anyone deciding, and what a MASH `share` sends.

rules.md, "What is shared without anyone deciding":
- every risk event goes to the MASH (the hub: it is told, but an alert or the
  chronology is how; that is not a disclosure to another agency);
- a risk event about a child in need, on a plan or looked after goes to social care
  (the allocated worker) in full;
- a police notice of domestic abuse goes to the child's current school at once,
  minimised (Operation Encompass);
- an emergency attendance, mental health crisis or admission of a child on a plan or
  looked after goes to social care (as the NHS CP-IS service notifies councils);
- a school move of a child known to social care goes to social care in full;
- a MASH `share` decision sends the event, minimised, to each agency it names.

Each share says to whom, on which lawful basis, decided by which rule (or person), and
what consent the disclosure records; `broker.policy.disclose` turns it into records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from broker.config.partnership import PartnershipConfig
from broker.models import Agency, Concern, ConsentStatus, HealthKind
from broker.picture.derived import KNOWN_TO_SOCIAL_CARE, PROTECTED, current_school, status
from broker.picture.model import ChildPicture, DecisionMade, EventSummary
from broker.policy.consent import may_share_automatically, recorded_consent

CP_IS_KINDS: Final = frozenset(
    {HealthKind.ed_attendance, HealthKind.mh_crisis, HealthKind.admission}
)

RULE_RISK_TO_SOCIAL_CARE: Final = "rule:risk_event_to_social_care"
RULE_HEALTH_TO_SOCIAL_CARE: Final = "rule:health_update_to_social_care"
RULE_ENCOMPASS: Final = "rule:operation_encompass"
RULE_TRANSITION_TO_SOCIAL_CARE: Final = "rule:school_transition_to_social_care"


@dataclass(frozen=True)
class Share:
    """One disclosure to make: an event to an agency, and why."""

    event_id: str
    to_agency: Agency
    basis: str
    """The kind of lawful basis (a key of the configuration's `lawful_bases`)."""
    decided_by: str
    """`rule:<name>`, or the name of the person who decided."""
    consent: ConsentStatus
    """The consent status the disclosure records."""
    encompass: bool = False
    due_by: datetime | None = None


def automatic_shares(
    picture: ChildPicture, summary: EventSummary, config: PartnershipConfig
) -> list[Share]:
    """The shares rules.md makes of `summary` with nobody deciding, in the order sent.

    The picture is the one after the event was applied (a child's status and
    involvements are those known when the event is processed). Never to the event's own
    publisher, and at most one share per agency.
    """
    shares: list[Share] = []
    child_status = status(picture)
    sh = summary.significant_harm

    def add(
        agency: Agency,
        basis: str,
        rule: str,
        *,
        statutory: bool = False,
        due_by: datetime | None = None,
    ) -> None:
        if agency == summary.source_agency or any(s.to_agency == agency for s in shares):
            return
        if not may_share_automatically(agency, summary.consent, sh, statutory=statutory):
            return
        shares.append(
            Share(
                event_id=summary.event_id,
                to_agency=agency,
                basis="significant_harm" if sh and not statutory else basis,
                decided_by=rule,
                consent=recorded_consent(summary.consent, sh),
                encompass=statutory,
                due_by=due_by,
            )
        )

    if summary.risk and child_status in KNOWN_TO_SOCIAL_CARE:
        add(Agency.socialcare, "known_to_social_care", RULE_RISK_TO_SOCIAL_CARE)
    if (
        summary.event_type == "health.update"
        and summary.kind in CP_IS_KINDS
        and child_status in PROTECTED
    ):
        add(Agency.socialcare, "health_notification", RULE_HEALTH_TO_SOCIAL_CARE)
    domestic_abuse = Concern.domestic_abuse in summary.concerns
    if summary.event_type == "police.vist" and domestic_abuse and current_school(picture):
        due = config.calendar.next_school_day_0830(summary.recorded_at)
        add(Agency.school, "operation_encompass", RULE_ENCOMPASS, statutory=True, due_by=due)
    if summary.event_type == "school.transition" and child_status in KNOWN_TO_SOCIAL_CARE:
        add(Agency.socialcare, "school_transition", RULE_TRANSITION_TO_SOCIAL_CARE)
    return shares


def decision_shares(decision: DecisionMade, summary: EventSummary) -> list[Share]:
    """What a MASH `share` decision sends: the event, minimised, to each agency it names
    that has not had it already (its publisher, or an agency the broker notified)."""
    already = {summary.source_agency, *summary.told, Agency.mash}
    shares: list[Share] = []
    for agency in decision.share_with:
        if agency in already or any(s.to_agency == agency for s in shares):
            continue
        shares.append(
            Share(
                event_id=summary.event_id,
                to_agency=Agency(agency),
                basis="significant_harm" if summary.significant_harm else "mash_decision",
                decided_by=decision.decided_by,
                consent=recorded_consent(summary.consent, summary.significant_harm),
            )
        )
    return shares
