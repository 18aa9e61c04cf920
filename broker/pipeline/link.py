"""Stage 3: which child is this event about?

Until the identity matcher (broker.identity) is wired in, a child is identified by the
event's own identifiers: the first of NHS number, UPN, social care id and police person
id that the subject carries, else its names and date of birth. The id is a hash, so it
carries no personal data into topic keys, logs or metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.models.common import Subject
from broker.pipeline.records import stable_id

IDENTIFIER_FIELDS = ("nhs_number", "upn", "socialcare_id", "police_person_id")


@dataclass(frozen=True, slots=True)
class Link:
    child_id: str
    how: str


def provisional_link(subject: Subject) -> Link:
    for name in IDENTIFIER_FIELDS:
        value = getattr(subject, name)
        if value:
            return Link(stable_id("child", name, value), f"identified by {name.replace('_', ' ')}")
    key = "|".join(
        (
            subject.given_name.strip().lower(),
            subject.family_name.strip().lower(),
            subject.date_of_birth.isoformat(),
        )
    )
    return Link(stable_id("child", "name-dob", key), "identified by name and date of birth")
