"""The inbound events of events.md: the envelope, one class per event type, and the
one function that turns received data into an event or says everything wrong with it.

Which fields are required follows a rule: a field is required when the event is
useless without it (who, when, what kind), and optional when events.md says so *or when
a rule of rules.md checks for it*. A YOT referral without `impact_on_child` must be
accepted, so that REFERRAL_INCOMPLETE can tell the YOT what is missing; rejecting it
would hide the referral from the MASH for the sake of a field.

Cross-field checks (a date of birth after the event, a school involvement without its
school) are model validators, so they hold however a model is built: from JSON, from
Avro, or in code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, Self, cast
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError, model_validator

from broker.errors import InvalidInput, Problem
from broker.models.common import (
    Agency,
    AllocatedWorker,
    CaseManager,
    Concern,
    Consent,
    DecisionKind,
    HealthKind,
    IdentityDecisionKind,
    InvolvementStatus,
    Model,
    Officer,
    Rag,
    RiskLevel,
    School,
    ScreeningOutcome,
    ScreeningTool,
    SocialCareStatus,
    Source,
    Subject,
    Timestamp,
)
from broker.models.problems import problems_from, raise_domain
from broker.models.text import (
    MAX_DATES,
    MAX_ID_LIST,
    MAX_IDENTIFIER,
    MAX_LIST,
    Flag,
    Identifier,
    Label,
    Line,
    LongText,
    MaybeBlankId,
    Statement,
    StrictDate,
    bounded,
    unsafe_character_problem,
)

Concerns = Annotated[list[Concern], bounded(MAX_LIST)]
Agencies = Annotated[list[Agency], bounded(MAX_LIST)]
"""Lists of the contract's values: a few of them, never thousands."""

LOCAL_TZ: Final = ZoneInfo("Europe/London")
MAX_AGE: Final = 25
"""Children's services work with care leavers and young people with SEND up to 25; an
older date of birth is a keying error (a parent's, or the wrong century)."""


def date_of_birth_problems(date_of_birth: date, recorded_at: datetime) -> list[Problem]:
    """A date of birth must be on or before the day the event was recorded (in England)
    and make the child younger than 25 on that day."""
    today = recorded_at.astimezone(LOCAL_TZ).date()
    field = "subject.date_of_birth"
    if date_of_birth > today:
        return [Problem(field, "is after the day the event was recorded (recorded_at)")]
    birthday_to_come = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    if today.year - date_of_birth.year - birthday_to_come >= MAX_AGE:
        return [Problem(field, f"makes the child {MAX_AGE} or older when the event was recorded")]
    return []


SENDERS: Final[dict[str, frozenset[Agency]]] = {
    "police.vist": frozenset({Agency.police}),
    "yot.referral": frozenset({Agency.yot}),
    "school.transition": frozenset({Agency.school}),
    # events.md: "health (acute, CAMHS, school nursing, liaison and diversion)"
    "health.update": frozenset({Agency.health, Agency.camhs}),
    "agency.involvement": frozenset(Agency),
    "socialcare.record": frozenset({Agency.socialcare}),
    "mash.info_request": frozenset({Agency.mash}),
    "mash.decision": frozenset({Agency.mash}),
    "mash.screening": frozenset({Agency.mash, Agency.socialcare}),
    "socialcare.strategy_meeting": frozenset({Agency.socialcare}),
    "mash.identity_decision": frozenset({Agency.mash}),
}
"""Event type -> the agencies that may send it (`source.agency`), events.md's "who
publishes". A body's sender is not taken on trust: a `police.vist` whose source is a
school is refused as impersonation, and live each inbound topic holds one event type,
so the topic's owner, the event type and `source.agency` must all agree."""


def sender_problems(event_type: str, agency: Agency) -> list[Problem]:
    """A problem when `agency` may not send `event_type` events."""
    allowed = SENDERS.get(event_type)
    if allowed is None or agency in allowed:
        return []  # an unknown event type is a problem of its own
    names = ", ".join(sorted(a.value for a in allowed)) or "no agency"
    message = (
        f"may not be {agency.value} on a {event_type} event (sent only by {names}): "
        "an event may not speak for another agency"
    )
    return [Problem("source.agency", message)]


class EventBase(Model):
    """The envelope every inbound event carries."""

    event_id: Identifier
    event_type: str
    source: Source
    occurred_at: Timestamp
    recorded_at: Timestamp
    subject: Subject
    consent: Consent = Consent()

    def domain_problems(self) -> list[Problem]:
        """Cross-field problems; subclasses add theirs to the envelope's."""
        return [
            *sender_problems(self.event_type, self.source.agency),
            *date_of_birth_problems(self.subject.date_of_birth, self.recorded_at),
        ]

    @model_validator(mode="after")
    def _check_domain(self) -> Self:
        raise_domain(self.domain_problems())
        return self


class PoliceVist(EventBase):
    """A vulnerability identification screening tool notice."""

    event_type: Literal["police.vist"] = "police.vist"
    vist_id: Identifier
    rag: Rag
    concerns: Annotated[Concerns, Field(min_length=1)]
    narrative: LongText
    out_of_hours: Flag
    officer: Officer | None = None


class YotReferral(EventBase):
    """A referral to the MASH; its quality fields are optional for REFERRAL_INCOMPLETE."""

    event_type: Literal["yot.referral"] = "yot.referral"
    referral_id: Identifier
    template_version: Line | None = None
    concerns: Concerns
    concern_summary: LongText | None = None
    impact_on_child: LongText | None = None
    mental_health_impact: LongText | None = None
    risk_level: RiskLevel
    case_manager: CaseManager


class SchoolTransition(EventBase):
    event_type: Literal["school.transition"] = "school.transition"
    transition_id: Identifier
    from_school: School
    to_school: School
    leave_date: StrictDate
    start_date: StrictDate | None = None
    cp_file_exists: Flag
    cp_file_transferred_at: Timestamp | None = None
    receipt_confirmed_at: Timestamp | None = None


class HealthUpdate(EventBase):
    event_type: Literal["health.update"] = "health.update"
    update_id: Identifier
    kind: HealthKind
    setting: Label
    concerns: Concerns = Field(default_factory=list)
    narrative: LongText


class AgencyInvolvement(EventBase):
    event_type: Literal["agency.involvement"] = "agency.involvement"
    agency: Agency
    status: InvolvementStatus
    team: Label
    contact: Line | None = None
    school: School | None = None

    def domain_problems(self) -> list[Problem]:
        problems = super().domain_problems()
        if self.agency == Agency.school and self.school is None:
            problems.append(
                Problem("school", "is required when agency is school (the school's urn and name)")
            )
        return problems


class SocialCareRecord(EventBase):
    """The council's current record of a child; the latest per socialcare_id wins."""

    event_type: Literal["socialcare.record"] = "socialcare.record"
    status: SocialCareStatus
    status_since: StrictDate
    allocated_worker: AllocatedWorker | None = None
    previous_referrals: Annotated[list[StrictDate], bounded(MAX_DATES)] = Field(
        default_factory=list
    )

    def domain_problems(self) -> list[Problem]:
        problems = super().domain_problems()
        if not self.subject.socialcare_id:
            problems.append(Problem("subject.socialcare_id", "is required on a socialcare.record"))
        return problems


class MashInfoRequest(EventBase):
    event_type: Literal["mash.info_request"] = "mash.info_request"
    request_id: Identifier
    agencies_contacted: Agencies
    reason: LongText


class MashDecision(EventBase):
    event_type: Literal["mash.decision"] = "mash.decision"
    decision_id: Identifier
    refers_to: Identifier
    decision: DecisionKind
    share_with: Agencies = Field(default_factory=list)
    rationale: LongText
    decided_by: Label

    def domain_problems(self) -> list[Problem]:
        problems = super().domain_problems()
        if self.decision == DecisionKind.share and not self.share_with:
            problems.append(
                Problem("share_with", "must name at least one agency when decision is share")
            )
        return problems


class MashScreening(EventBase):
    event_type: Literal["mash.screening"] = "mash.screening"
    screening_id: Identifier
    tool: ScreeningTool
    outcome: ScreeningOutcome
    refers_to: MaybeBlankId | None = None


class StrategyMeeting(EventBase):
    event_type: Literal["socialcare.strategy_meeting"] = "socialcare.strategy_meeting"
    meeting_id: Identifier
    held_at: Timestamp
    attendees: Agencies
    refers_to: MaybeBlankId | None = None


class IdentityDecision(EventBase):
    """A person's answer to an IDENTITY_REVIEW: are these records one child or not?

    Our addition to the contract (topic `mash.identity-decision.v1`). The records meant
    are named by the broker's `child_ids` (children it already holds) and/or `event_ids`
    (events whose subjects it kept unlinked): "event E is child C" is one event id and
    one child id. `same_child` merges all the records named; `different_children` says
    each named record is a different child, so the matcher must never link them again.
    The envelope's subject is the child as the deciding person knows them.
    """

    event_type: Literal["mash.identity_decision"] = "mash.identity_decision"
    decision_id: Identifier
    decision: IdentityDecisionKind
    child_ids: Annotated[list[MaybeBlankId], bounded(MAX_ID_LIST)] = Field(default_factory=list)
    event_ids: Annotated[list[MaybeBlankId], bounded(MAX_ID_LIST)] = Field(default_factory=list)
    review_alert_id: MaybeBlankId | None = None
    rationale: Statement
    decided_by: Label

    def domain_problems(self) -> list[Problem]:
        problems = super().domain_problems()
        if len(set(self.child_ids)) + len(set(self.event_ids)) < 2:
            problems.append(
                Problem(
                    "child_ids",
                    "with event_ids must name at least two records (children or events) "
                    "for a decision on whether they are one child",
                )
            )
        for name in ("child_ids", "event_ids"):
            ids: list[str] = getattr(self, name)
            if len(set(ids)) != len(ids):
                problems.append(Problem(name, "must not name the same id twice"))
            if any(not i.strip() for i in ids):
                problems.append(Problem(name, "must not contain an empty id"))
        return problems


Event = Annotated[
    PoliceVist
    | YotReferral
    | SchoolTransition
    | HealthUpdate
    | AgencyInvolvement
    | SocialCareRecord
    | MashInfoRequest
    | MashDecision
    | MashScreening
    | StrategyMeeting
    | IdentityDecision,
    Field(discriminator="event_type"),
]
"""Any inbound event, told apart by its `event_type`."""

EVENT_CLASSES: Final[dict[str, type[EventBase]]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (
        PoliceVist,
        YotReferral,
        SchoolTransition,
        HealthUpdate,
        AgencyInvolvement,
        SocialCareRecord,
        MashInfoRequest,
        MashDecision,
        MashScreening,
        StrategyMeeting,
        IdentityDecision,
    )
}

_AGENCY_VALUES: Final = frozenset(a.value for a in Agency)
_DATE: Final = TypeAdapter(date)
_INSTANT: Final = TypeAdapter(AwareDatetime)


def parse_event(data: Mapping[str, Any]) -> Event:
    """The event in `data` (JSON form, or the codec's decoded record), or `InvalidInput`
    listing every problem found, each with its field and a reason to act on."""
    if not isinstance(data, Mapping):
        raise InvalidInput([Problem("payload", "must be a JSON object (one event a line)")])
    event_type = data.get("event_type")
    cls = EVENT_CLASSES.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise InvalidInput([_event_type_problem(event_type), *_envelope_problems(data)])
    try:
        return cast(Event, cls.model_validate(data))
    except ValidationError as exc:
        problems = problems_from(exc)
    # A field error stops pydantic before the cross-field checks; run the date of birth
    # check on what could be read, so that the sender learns of every problem at once.
    problems += [p for p in _lenient_date_of_birth(data) if p not in problems]
    raise InvalidInput(problems) from None


def _event_type_problem(event_type: object) -> Problem:
    if event_type is None:
        return Problem("event_type", "is required")
    known = ", ".join(EVENT_CLASSES)
    return Problem("event_type", f"is not an event type of the contract (one of {known})")


def _envelope_problems(data: Mapping[str, Any]) -> list[Problem]:
    try:
        EventBase.model_validate(data)
    except ValidationError as exc:
        return [p for p in problems_from(exc) if p.field != "event_type"]
    return []


def _lenient_date_of_birth(data: Mapping[str, Any]) -> list[Problem]:
    subject = data.get("subject")
    if not isinstance(subject, Mapping):
        return []
    try:
        born = _DATE.validate_python(subject.get("date_of_birth"))
        recorded = _INSTANT.validate_python(data.get("recorded_at"))
    except ValidationError:
        return []
    return date_of_birth_problems(born, recorded)


def readable_envelope(data: Any) -> tuple[str | None, str | None]:
    """(event_id, source agency) from whatever could be read of a rejected input.

    Used to address feedback about an event that could not be accepted, so it never
    raises: bytes or text are tried as JSON, and the agency is given only when it is an
    agency of the contract (feedback topics exist only for those).
    """
    if isinstance(data, bytes | bytearray | str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None, None
    if not isinstance(data, Mapping):
        return None, None
    event_id = data.get("event_id")
    if not isinstance(event_id, str) or not _readable_id(event_id):
        event_id = None  # a key and a feedback's reference: never a hostile one
    source = data.get("source")
    agency = source.get("agency") if isinstance(source, Mapping) else None
    if not isinstance(agency, str) or agency not in _AGENCY_VALUES:
        agency = None
    return event_id, agency


def _readable_id(value: str) -> bool:
    return (
        bool(value.strip())
        and len(value) <= MAX_IDENTIFIER
        and unsafe_character_problem(value, one_line=True) is None
    )
