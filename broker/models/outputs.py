"""What the broker publishes: alerts, notifications, feedback, rejections, audit records.

Their fields are those events.md and rules.md require; these are contracts too (agency
systems consume notifications and feedback, the MASH consumes alerts, auditors read the
disclosure log), so they are frozen and forward compatible like the events.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, JsonValue, PlainSerializer

from broker.errors import Problem
from broker.models.common import (
    Agency,
    AllocatedWorker,
    Concern,
    ConsentStatus,
    FeedbackKind,
    Model,
    RuleId,
    School,
    Severity,
    SocialCareStatus,
    Text,
    Timestamp,
)


def _from_base64(value: Any) -> Any:
    # In JSON the original bytes travel as base64 text; in Python they are bytes.
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64 text") from None
    return value


def _to_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


Base64Bytes = Annotated[
    bytes, BeforeValidator(_from_base64), PlainSerializer(_to_base64, when_used="json")
]
"""Bytes kept exactly as received; base64 text in the JSON form."""


class ProblemOut(Model):
    """One reason an event was refused or is deficient: the field and what is wrong."""

    field: str
    message: str

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        return cls(field=problem.field, message=problem.message)


class ChildRef(Model):
    """The child an alert is about: the broker's id and what a social worker needs to
    find them in their own system."""

    child_id: Text
    given_name: str
    family_name: str
    date_of_birth: date
    socialcare_id: str | None = None
    status: SocialCareStatus | None = None


class ConcernCount(Model):
    """How many of the child's risk events carried one concern, in the trailing windows."""

    concern: Concern
    last_90_days: int
    last_365_days: int


class ChildContext(Model):
    """What the agencies together know of the child when an alert is raised.

    Inspectors found decisions made "on police information alone, with no sight of social
    care records". The explanation says this in words; `context` gives the same facts as
    data, so that the MASH page and any consumer can show, sort or filter on them
    without reading prose. Counts are of risk events by `occurred_at`, in the windows
    ending at the child's latest event.
    """

    status: SocialCareStatus | None = None
    status_since: date | None = None
    allocated_worker: AllocatedWorker | None = None
    previous_referrals: list[date] = Field(default_factory=list)
    agencies_involved: list[Agency] = Field(default_factory=list)
    current_school: School | None = None
    risk_events_90_days: int = 0
    risk_events_365_days: int = 0
    concerns: list[ConcernCount] = Field(default_factory=list)
    """One entry a concern seen in the last 365 days, in the order of the Concern enum."""


class Alert(Model):
    """An alert for the MASH (rules.md, "The alert")."""

    alert_id: Text
    rule_id: RuleId
    severity: Severity
    child: ChildRef
    triggered_by: Annotated[list[str], Field(min_length=1)]
    summary: str
    explanation: str
    unshared_with: list[Agency] = Field(default_factory=list)
    recommended_action: str
    due_by: Timestamp | None = None
    raised_at: Timestamp
    identity_note: str | None = None
    """How the child was linked, when a reader should know (e.g. linked on name and date
    of birth only): information, never evidence."""
    context: ChildContext | None = None
    """The child's picture when the alert was raised; None for IDENTITY_REVIEW (the event
    is not linked to a child yet) and in alerts written before the field existed."""


class NotifiedChild(Model):
    """The child as a recipient may see them: name, date of birth, and only the
    recipient's own identifiers (`identifiers`: name -> value, e.g. {"upn": ...})."""

    given_name: str
    family_name: str
    date_of_birth: date
    identifiers: dict[str, str] = Field(default_factory=dict)


class Notification(Model):
    """What one agency is told about an event, minimised for that agency.

    `fields` holds only the event fields this recipient needs, by name, in their JSON
    form (e.g. {"occurred_at": "2026-03-02T17:40:00+00:00", "concerns": ["neglect"]}).
    On the wire each value is a JSON text in an Avro map of strings, because the fields
    chosen differ by recipient and by event type; see docs/contract.md.
    """

    notification_id: Text
    event_id: Text
    event_type: Text
    to_agency: Agency
    child: NotifiedChild
    summary: str
    lawful_basis: str
    consent: ConsentStatus
    due_by: Timestamp | None = None
    fields: dict[str, JsonValue] = Field(default_factory=dict)


class Feedback(Model):
    """Feedback to the agency that published an event: refused, incomplete, or language."""

    feedback_id: Text
    event_id: str | None = None
    to_agency: Agency
    kind: FeedbackKind
    problems: list[ProblemOut] = Field(default_factory=list)
    created_at: Timestamp


class Rejected(Model):
    """An input that could not be accepted, kept with every reason: nothing is ever
    dropped, and a fixed publisher or an operator can replay `original`.

    An input over the event size limit (broker.models.text.MAX_EVENT_BYTES) is kept by
    reference: `original` holds its first bytes, `original_size` and `original_sha256`
    say what it was. Whole, it would make this record too big for Kafka to carry.
    Records written before these two fields existed read them as null."""

    rejection_id: Text
    event_id: str | None = None
    source_agency: str | None = None
    topic: str | None = None
    reasons: list[ProblemOut]
    original: Base64Bytes
    rejected_at: Timestamp
    original_size: int | None = None
    original_sha256: str | None = None

    @property
    def original_is_whole(self) -> bool:
        return self.original_size is None or self.original_size == len(self.original)


class AuditDisclosure(Model):
    """One disclosure of information about a child to an agency, for the audit trail:
    what, to whom, when, on what lawful basis, with what consent, decided by whom
    (`rule:<name>` or a person's name)."""

    disclosure_id: Text
    event_id: Text
    child_id: Text
    to_agency: Agency
    fields: list[str]
    lawful_basis: Text
    consent: ConsentStatus
    decided_by: Text
    disclosed_at: Timestamp


class AccessAudit(Model):
    """One look at a child's record on the MASH page: who (login and name), in which
    role, saw what (`alert`, `child`, `identity_review`), about which child, when.

    Published on `audit.access.v1` before the page is shown, so that every view of a
    child's record can be accounted for (UK GDPR accountability; docs/web.md)."""

    access_id: Text
    user: Text
    user_name: Text
    role: Text
    what: Text
    child_id: Text
    alert_id: str | None = None
    accessed_at: Timestamp
