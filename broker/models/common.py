"""The vocabulary of events.md: its enumerations, the envelope's records, shared types.

Every value set of the contract is an `enum.StrEnum` whose values are exactly the
contract's values, so that a typo in code fails type checking and a typo in an event
fails validation. Models are frozen (an event is a fact; nobody edits it in flight) and
ignore unknown fields, so that a publisher on a newer contract, with optional fields
this broker does not know yet, is still accepted.

These models know nothing of Avro: the codec (broker.codec) owns the wire format.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    field_validator,
)

from broker.models.identifiers import nhs_number_problem, upn_problem
from broker.models.text import (
    Identifier,
    Label,
    Line,
    LongText,
    MaybeBlankId,
    Name,
    StrictDate,
    not_blank,
    strict_instant,
)


class Agency(enum.StrEnum):
    police = "police"
    yot = "yot"
    school = "school"
    health = "health"
    camhs = "camhs"
    substance_misuse = "substance_misuse"
    socialcare = "socialcare"
    early_help = "early_help"
    mash = "mash"
    other = "other"


class Concern(enum.StrEnum):
    domestic_abuse = "domestic_abuse"
    missing = "missing"
    child_sexual_exploitation = "child_sexual_exploitation"
    child_criminal_exploitation = "child_criminal_exploitation"
    mental_health = "mental_health"
    self_harm = "self_harm"
    substance_misuse = "substance_misuse"
    neglect = "neglect"
    physical_abuse = "physical_abuse"
    sexual_abuse = "sexual_abuse"
    emotional_abuse = "emotional_abuse"
    online_harm = "online_harm"
    knife_crime = "knife_crime"
    offending = "offending"
    homelessness = "homelessness"
    other = "other"


class ConsentStatus(enum.StrEnum):
    given = "given"
    refused = "refused"
    not_sought = "not_sought"
    dispensed = "dispensed"


class Rag(enum.StrEnum):
    RED = "RED"
    AMBER = "AMBER"
    GREEN = "GREEN"


class RiskLevel(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very_high"


class HealthKind(enum.StrEnum):
    ed_attendance = "ed_attendance"
    mh_crisis = "mh_crisis"
    camhs_referral = "camhs_referral"
    camhs_discharge = "camhs_discharge"
    admission = "admission"
    discharge = "discharge"
    liaison_diversion = "liaison_diversion"
    street_triage = "street_triage"
    school_nurse_assessment = "school_nurse_assessment"
    gp_concern = "gp_concern"


class InvolvementStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class SocialCareStatus(enum.StrEnum):
    none = "none"
    early_help = "early_help"
    child_in_need = "child_in_need"
    child_protection_plan = "child_protection_plan"
    child_looked_after = "child_looked_after"
    closed = "closed"


class DecisionKind(enum.StrEnum):
    """The `decision` of a `mash.decision`."""

    share = "share"
    no_share = "no_share"
    no_further_action = "no_further_action"
    early_help = "early_help"
    child_in_need_assessment = "child_in_need_assessment"
    strategy_discussion = "strategy_discussion"
    section_47 = "section_47"


class ScreeningTool(enum.StrEnum):
    exploitation = "exploitation"


class ScreeningOutcome(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class IdentityDecisionKind(enum.StrEnum):
    """The `decision` of a `mash.identity_decision` (our addition to the contract)."""

    same_child = "same_child"
    different_children = "different_children"


class Severity(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class RuleId(enum.StrEnum):
    UNSHARED_RISK = "UNSHARED_RISK"
    CONSENT_DECISION_REQUIRED = "CONSENT_DECISION_REQUIRED"
    DECISION_OVERDUE = "DECISION_OVERDUE"
    REFERRAL_INCOMPLETE = "REFERRAL_INCOMPLETE"
    RELEVANT_AGENCY_OMITTED = "RELEVANT_AGENCY_OMITTED"
    CUMULATIVE_CONCERNS = "CUMULATIVE_CONCERNS"
    CUMULATIVE_NEGLECT = "CUMULATIVE_NEGLECT"
    REPEAT_MISSING = "REPEAT_MISSING"
    SCHOOL_FILE_NOT_TRANSFERRED = "SCHOOL_FILE_NOT_TRANSFERRED"
    ENCOMPASS_SCHOOL_UNKNOWN = "ENCOMPASS_SCHOOL_UNKNOWN"
    EXPLOITATION_SCREENING_OVERDUE = "EXPLOITATION_SCREENING_OVERDUE"
    THRESHOLD_REVIEW = "THRESHOLD_REVIEW"
    STRATEGY_DISCUSSION_OVERDUE = "STRATEGY_DISCUSSION_OVERDUE"
    STRATEGY_MEETING_INCOMPLETE = "STRATEGY_MEETING_INCOMPLETE"
    IDENTITY_REVIEW = "IDENTITY_REVIEW"


class FeedbackKind(enum.StrEnum):
    rejected = "rejected"
    incomplete = "incomplete"
    language = "language"


ENGLAND = ZoneInfo("Europe/London")
"""Every deadline and every time shown is local to England."""


def _to_millis(value: datetime) -> datetime:
    # The wire carries milliseconds in UTC (Avro timestamp-millis), so the offset a
    # publisher wrote does not survive Kafka. Every instant is therefore held in England's
    # local time, whatever offset it came with: an event is then equal to itself after a
    # trip through Kafka, replay and the live worker write the same instants the same
    # way, and a practitioner reads the times of the day they happened.
    if value.tzinfo is ENGLAND and not value.microsecond % 1000:
        return value  # already so (a model built from another's fields): most calls
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value.astimezone(ENGLAND)


def _iso(value: datetime) -> str:
    # events.md writes offsets as +00:00; pydantic's own JSON form would write Z.
    return value.isoformat()


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(strict_instant),
    AfterValidator(_to_millis),
    PlainSerializer(_iso, when_used="json"),
]
"""An instant with its UTC offset, to the millisecond; ISO 8601 with the offset in JSON."""

Text = Annotated[str, AfterValidator(not_blank)]
"""A string that must say something: identifiers, names, required wording."""


class Model(BaseModel):
    """Base of every record of the contract.

    `hide_input_in_errors`: pydantic's own error text would quote the offending value,
    which may be a child's name or NHS number; ours must never reach a log.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


class Source(Model):
    agency: Agency
    system: Label
    org_code: Line | None = None


Handwritten = Annotated[str, StringConstraints(max_length=32)]
"""An identifier as keyed (an NHS number with spaces): its check validates the rest."""


class Subject(Model):
    """The child an event is about, as the publishing agency knows them.

    The identifiers are normalised (spaces dropped from an NHS number, a UPN upper-cased)
    before their check digits are verified, because that is how they are written on
    paper and keyed; the check itself is strict.
    """

    given_name: Name
    family_name: Name
    date_of_birth: StrictDate
    nhs_number: Handwritten | None = None
    upn: Handwritten | None = None
    socialcare_id: MaybeBlankId | None = None
    police_person_id: MaybeBlankId | None = None
    postcode: Line | None = None
    sex: Line | None = None

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(" ", "")
        if (problem := nhs_number_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("upn")
    @classmethod
    def _upn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if (problem := upn_problem(value)) is not None:
            raise ValueError(problem)
        return value


class Consent(Model):
    status: ConsentStatus = ConsentStatus.not_sought
    rationale: LongText | None = None


class School(Model):
    urn: Identifier
    name: Label


class Officer(Model):
    collar_number: Identifier
    name: Line | None = None


class CaseManager(Model):
    name: Label
    team: Label


class AllocatedWorker(Model):
    name: Label
    team: Label


def to_json_dict(model: BaseModel) -> dict[str, Any]:
    """The JSON form of a record (events.md): ISO times with their offset, dates as
    YYYY-MM-DD, enums as their values, bytes as base64. Absent optional fields are null.
    """
    return model.model_dump(mode="json")
