"""IDENTITY_REVIEW: an event the broker could not link to a child with confidence.

The link stage (broker.pipeline.link and broker.identity) decides whether an event's
subject is a known child; when it is truly unsure (a match too weak to link but too
strong to ignore, more than one candidate, or identifiers that contradict each other)
it keeps the event unlinked and calls `identity_review_alert`, so that a person decides.
Never linking two different children matters more than linking fast: a wrong link would
send one child's information to another's school.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from broker.models import Alert, ChildRef, Event, RuleId, Severity
from broker.models.common import ENGLAND
from broker.models.ids import stable_id
from broker.picture.apply import CHRONOLOGY_TYPES, summarise
from broker.picture.wording import agency_name, describe, sentence, when

_OTHER_EVENTS: Final = {
    "socialcare.record": "a social care record",
    "agency.involvement": "a record of an agency's work with the child",
    "mash.info_request": "a MASH information request",
    "mash.decision": "a MASH decision",
    "mash.screening": "an exploitation screening",
    "socialcare.strategy_meeting": "a strategy meeting",
}


def event_in_words(event: Event) -> str:
    """'a GREEN police vulnerability notice (neglect)', 'a social care record'."""
    if isinstance(event, CHRONOLOGY_TYPES):
        return describe(summarise(event))
    return _OTHER_EVENTS.get(event.event_type, "a record")


def identity_review_alert(
    event: Event,
    *,
    child_id: str,
    reason: str,
    candidates: Sequence[str] = (),
    now: datetime,
) -> Alert:
    """The alert asking the MASH to decide who an event is about.

    - `child_id`: the id the event is held under while unlinked (the link stage's);
    - `reason`: why it is unsure, in plain words that name fields, not values
      ("the NHS number matches a known child whose date of birth differs");
    - `candidates`: the broker's ids of the children it might be.
    The id derives from the event and the candidates: asked again, the same question
    gives the same alert.
    """
    subject = event.subject
    others = sorted(set(candidates))
    name = subject.given_name
    listed = ", ".join(others) if others else "none strong enough to link"
    what = event_in_words(event)
    source = agency_name(event.source.agency)
    recorded = when(event.recorded_at, ENGLAND)
    return Alert(
        alert_id=stable_id("alert", RuleId.IDENTITY_REVIEW.value, event.event_id, *others),
        rule_id=RuleId.IDENTITY_REVIEW,
        severity=Severity.medium,
        child=ChildRef(
            child_id=child_id,
            given_name=subject.given_name,
            family_name=subject.family_name,
            date_of_birth=subject.date_of_birth,
            socialcare_id=subject.socialcare_id,
        ),
        triggered_by=[event.event_id],
        summary=(
            f"A record from {source} about {name}, {what} on {recorded}, could not be "
            "matched to one child with certainty, so it is held unlinked until a person "
            "decides."
        ),
        explanation="\n".join(
            [
                sentence(f"- {recorded}: {source}: {what} (event {event.event_id}). {reason}"),
                f"- Possible matches (broker child ids): {listed}.",
                "- Until a person decides, the event is kept but not added to any child's "
                "chronology, shared or counted.",
            ]
        ),
        recommended_action=(
            "Compare the records and record an identity decision: the same child, or "
            "different children."
        ),
        raised_at=now,
        identity_note=reason,
    )
