"""Stage 3 with the matcher: which known child is this event about, and how do we know?

A thin adapter between the event's `Subject` and `broker.identity` (the pure matcher):
it turns the subject into a `PersonRecord`, asks the index, and teaches the index what
the event showed (a new alias, a new postcode) when the event is linked or is a new
child. A new child's id derives from the event that first showed it, so that replay and
every worker agree on ids. The decision's explanation names fields, never values.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.identity import IdentityIndex, LinkDecision, Outcome, PersonRecord
from broker.models.common import Subject
from broker.models.events import Event
from broker.models.ids import stable_id


def person_record(subject: Subject) -> PersonRecord:
    return PersonRecord(
        given_name=subject.given_name,
        family_name=subject.family_name,
        date_of_birth=subject.date_of_birth,
        nhs_number=subject.nhs_number,
        upn=subject.upn,
        socialcare_id=subject.socialcare_id,
        police_person_id=subject.police_person_id,
        postcode=subject.postcode,
        sex=subject.sex,
    )


@dataclass(frozen=True, slots=True)
class Identified:
    """`child_id` is None when a person must decide (IDENTITY_REVIEW)."""

    child_id: str | None
    decision: LinkDecision
    changed: tuple[str, ...] = ()  # children whose index state changed (to persist)

    @property
    def note(self) -> str:
        return self.decision.explain()


def identify(index: IdentityIndex, event: Event) -> Identified:
    record = person_record(event.subject)
    decision = index.link(record)
    if decision.outcome is Outcome.REVIEW:
        return Identified(None, decision)
    if decision.outcome is Outcome.LINKED and decision.child_id is not None:
        child_id = decision.child_id
    else:
        child_id = stable_id("child", event.event_id)
    survivor = index.add(child_id, record)
    return Identified(survivor, decision, (survivor,))
