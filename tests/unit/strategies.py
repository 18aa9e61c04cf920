"""Hypothesis strategies for valid records of the contract, for any test to reuse.

`events()` draws a valid event of any type (`events_of(PoliceVist)` one type);
`subjects()` a valid child; `outputs()` any record the broker publishes. Every draw
passes the models' own validation, including the cross-field checks (a date of birth
on or before the day the event was recorded, a school on a school involvement), so a
test can start from "any valid event" and change one thing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

from hypothesis import strategies as st

from broker.models import (
    EVENT_CLASSES,
    Agency,
    AgencyInvolvement,
    Alert,
    AllocatedWorker,
    AuditDisclosure,
    CaseManager,
    ChildContext,
    ChildRef,
    Concern,
    ConcernCount,
    Consent,
    ConsentStatus,
    DecisionKind,
    EventBase,
    Feedback,
    FeedbackKind,
    HealthKind,
    HealthUpdate,
    IdentityDecision,
    IdentityDecisionKind,
    InvolvementStatus,
    MashDecision,
    MashInfoRequest,
    MashScreening,
    Notification,
    NotifiedChild,
    Officer,
    PoliceVist,
    ProblemOut,
    Rag,
    Rejected,
    RiskLevel,
    RuleId,
    School,
    SchoolTransition,
    ScreeningOutcome,
    ScreeningTool,
    Severity,
    SocialCareRecord,
    SocialCareStatus,
    Source,
    StrategyMeeting,
    Subject,
    YotReferral,
)
from broker.models.events import LOCAL_TZ, SENDERS
from broker.models.identifiers import UPN_ALPHABET, nhs_check_digit, upn_check_letter

E = TypeVar("E", bound=EventBase)

# --- building blocks ------------------------------------------------------------------

_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cs"),
    exclude_characters=_BIDI_CONTROLS + "\u2028\u2029",
)

text_characters = _LINE | st.sampled_from("\n\t")
"""A character the contract accepts in a narrative."""

text = st.text(text_characters, max_size=60)
"""Any text the contract accepts in a narrative (UTF-8, no control characters but line
breaks and tabs, no bidirectional overrides: broker.models.text), possibly empty."""

words = st.text(_LINE, min_size=1, max_size=30).filter(str.strip)
"""One line that says something: identifiers, labels."""

names = st.text(
    st.characters(codec="utf-8", categories=("L", "M")) | st.sampled_from(" -'.\u2019"),
    min_size=1,
    max_size=30,
).filter(str.strip)
"""A child's name: letters and marks of any script, spaces, hyphens, apostrophes."""

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,23}", fullmatch=True)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2045, 12, 31), timezones=offsets
)
"""Aware instants in any whole-minute offset, to the microsecond (the models keep ms)."""


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    """A valid NHS number: nine digits and their modulus 11 check digit."""
    first_nine = draw(
        st.text("0123456789", min_size=9, max_size=9).filter(
            lambda s: nhs_check_digit(s) is not None
        )
    )
    return first_nine + str(nhs_check_digit(first_nine))


@st.composite
def upns(draw: st.DrawFn) -> str:
    """A valid UPN, permanent (12 digits) or temporary (11 digits and a letter)."""
    digits = draw(st.text("0123456789", min_size=11, max_size=11))
    last = draw(st.sampled_from("0123456789" + UPN_ALPHABET))
    body = digits + last
    return upn_check_letter(body) + body


def subjects(
    born_after: date | None = None, born_by: date | None = None, socialcare: bool | None = None
) -> st.SearchStrategy[Subject]:
    """A valid child. `born_after`/`born_by` bound the date of birth; `socialcare=True`
    always gives a social care id (a socialcare.record needs one)."""
    return st.builds(
        Subject,
        given_name=names,
        family_name=names,
        date_of_birth=st.dates(
            min_value=born_after or date(1990, 1, 1), max_value=born_by or date(2045, 12, 31)
        ),
        nhs_number=optional(nhs_numbers()),
        upn=optional(upns()),
        socialcare_id=ids if socialcare else optional(ids),
        police_person_id=optional(ids),
        postcode=optional(st.from_regex(r"[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}", fullmatch=True)),
        sex=optional(st.sampled_from(["female", "male", "unknown"])),
    )


def sources(event_type: str) -> st.SearchStrategy[Source]:
    """A source that may send `event_type` (an agency may not speak for another)."""
    senders = sorted(SENDERS[event_type])
    return st.builds(Source, agency=st.sampled_from(senders), system=words, org_code=optional(ids))


consents = st.builds(Consent, status=st.sampled_from(ConsentStatus), rationale=optional(text))
schools = st.builds(School, urn=st.from_regex(r"[0-9]{6}", fullmatch=True), name=words)
concerns = st.lists(st.sampled_from(Concern), max_size=4)
agencies = st.lists(st.sampled_from(Agency), max_size=5)


@st.composite
def envelopes(draw: st.DrawFn, event_type: str, socialcare: bool | None = None) -> dict[str, Any]:
    """The envelope's fields, consistent: the child is under 25 and born by the day the
    event was recorded (in England)."""
    recorded_at = draw(instants)
    day = recorded_at.astimezone(LOCAL_TZ).date()
    subject = draw(
        subjects(born_after=day - timedelta(days=365 * 24), born_by=day, socialcare=socialcare)
    )
    return {
        "event_id": draw(ids),
        "source": draw(sources(event_type)),
        "occurred_at": draw(instants),
        "recorded_at": recorded_at,
        "subject": subject,
        "consent": draw(consents),
    }


# --- events -----------------------------------------------------------------------------


@st.composite
def _police_vist(draw: st.DrawFn) -> PoliceVist:
    return PoliceVist(
        **draw(envelopes("police.vist")),
        vist_id=draw(ids),
        rag=draw(st.sampled_from(Rag)),
        concerns=draw(st.lists(st.sampled_from(Concern), min_size=1, max_size=4)),
        narrative=draw(text),
        out_of_hours=draw(st.booleans()),
        officer=draw(optional(st.builds(Officer, collar_number=ids, name=optional(words)))),
    )


@st.composite
def _yot_referral(draw: st.DrawFn) -> YotReferral:
    return YotReferral(
        **draw(envelopes("yot.referral")),
        referral_id=draw(ids),
        template_version=draw(optional(st.sampled_from(["1", "2", "3"]))),
        concerns=draw(concerns),
        concern_summary=draw(optional(text)),
        impact_on_child=draw(optional(text)),
        mental_health_impact=draw(optional(text)),
        risk_level=draw(st.sampled_from(RiskLevel)),
        case_manager=draw(st.builds(CaseManager, name=words, team=words)),
    )


@st.composite
def _school_transition(draw: st.DrawFn) -> SchoolTransition:
    return SchoolTransition(
        **draw(envelopes("school.transition")),
        transition_id=draw(ids),
        from_school=draw(schools),
        to_school=draw(schools),
        leave_date=draw(st.dates(date(2000, 1, 1), date(2045, 12, 31))),
        start_date=draw(optional(st.dates(date(2000, 1, 1), date(2045, 12, 31)))),
        cp_file_exists=draw(st.booleans()),
        cp_file_transferred_at=draw(optional(instants)),
        receipt_confirmed_at=draw(optional(instants)),
    )


@st.composite
def _health_update(draw: st.DrawFn) -> HealthUpdate:
    return HealthUpdate(
        **draw(envelopes("health.update")),
        update_id=draw(ids),
        kind=draw(st.sampled_from(HealthKind)),
        setting=draw(words),
        concerns=draw(concerns),
        narrative=draw(text),
    )


@st.composite
def _agency_involvement(draw: st.DrawFn) -> AgencyInvolvement:
    agency = draw(st.sampled_from(Agency))
    school = draw(schools) if agency == Agency.school else draw(optional(schools))
    return AgencyInvolvement(
        **draw(envelopes("agency.involvement")),
        agency=agency,
        status=draw(st.sampled_from(InvolvementStatus)),
        team=draw(words),
        contact=draw(optional(words)),  # one line (Line), unlike a narrative
        school=school,
    )


@st.composite
def _socialcare_record(draw: st.DrawFn) -> SocialCareRecord:
    return SocialCareRecord(
        **draw(envelopes("socialcare.record", socialcare=True)),
        status=draw(st.sampled_from(SocialCareStatus)),
        status_since=draw(st.dates(date(2000, 1, 1), date(2045, 12, 31))),
        allocated_worker=draw(optional(st.builds(AllocatedWorker, name=words, team=words))),
        previous_referrals=draw(st.lists(st.dates(date(2000, 1, 1), date(2045, 12, 31)))),
    )


@st.composite
def _info_request(draw: st.DrawFn) -> MashInfoRequest:
    return MashInfoRequest(
        **draw(envelopes("mash.info_request")),
        request_id=draw(ids),
        agencies_contacted=draw(agencies),
        reason=draw(text),
    )


@st.composite
def _decision(draw: st.DrawFn) -> MashDecision:
    decision = draw(st.sampled_from(DecisionKind))
    minimum = 1 if decision == DecisionKind.share else 0
    return MashDecision(
        **draw(envelopes("mash.decision")),
        decision_id=draw(ids),
        refers_to=draw(ids),
        decision=decision,
        share_with=draw(st.lists(st.sampled_from(Agency), min_size=minimum, max_size=4)),
        rationale=draw(text),
        decided_by=draw(words),
    )


@st.composite
def _screening(draw: st.DrawFn) -> MashScreening:
    return MashScreening(
        **draw(envelopes("mash.screening")),
        screening_id=draw(ids),
        tool=draw(st.sampled_from(ScreeningTool)),
        outcome=draw(st.sampled_from(ScreeningOutcome)),
        refers_to=draw(optional(ids)),
    )


@st.composite
def _strategy_meeting(draw: st.DrawFn) -> StrategyMeeting:
    return StrategyMeeting(
        **draw(envelopes("socialcare.strategy_meeting")),
        meeting_id=draw(ids),
        held_at=draw(instants),
        attendees=draw(agencies),
        refers_to=draw(optional(ids)),
    )


@st.composite
def _identity_decision(draw: st.DrawFn) -> IdentityDecision:
    child_ids = draw(st.lists(ids, unique=True, max_size=3))
    event_ids = draw(st.lists(ids, unique=True, min_size=max(0, 2 - len(child_ids)), max_size=3))
    return IdentityDecision(
        **draw(envelopes("mash.identity_decision")),
        decision_id=draw(ids),
        decision=draw(st.sampled_from(IdentityDecisionKind)),
        child_ids=child_ids,
        event_ids=event_ids,
        review_alert_id=draw(optional(ids)),
        rationale=draw(words),
        decided_by=draw(words),
    )


_EVENTS: dict[type[EventBase], st.SearchStrategy[Any]] = {
    PoliceVist: _police_vist(),
    YotReferral: _yot_referral(),
    SchoolTransition: _school_transition(),
    HealthUpdate: _health_update(),
    AgencyInvolvement: _agency_involvement(),
    SocialCareRecord: _socialcare_record(),
    MashInfoRequest: _info_request(),
    MashDecision: _decision(),
    MashScreening: _screening(),
    StrategyMeeting: _strategy_meeting(),
    IdentityDecision: _identity_decision(),
}
assert set(_EVENTS) == set(EVENT_CLASSES.values()), "a strategy for every event type"


def events_of(cls: type[E]) -> st.SearchStrategy[E]:
    """A valid event of one type."""
    return _EVENTS[cls]


def events() -> st.SearchStrategy[EventBase]:
    """A valid event of any type."""
    return st.one_of(*_EVENTS.values())


# --- outputs ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
problems = st.lists(st.builds(ProblemOut, field=words, message=words), max_size=3)
born = st.dates(date(2000, 1, 1), date(2030, 12, 31))

counts = st.integers(0, 400)
contexts = st.builds(
    ChildContext,
    status=optional(st.sampled_from(SocialCareStatus)),
    status_since=optional(born),
    allocated_worker=optional(st.builds(AllocatedWorker, name=words, team=words)),
    previous_referrals=st.lists(born, max_size=3),
    agencies_involved=agencies,
    current_school=optional(st.builds(School, urn=ids, name=words)),
    risk_events_90_days=counts,
    risk_events_365_days=counts,
    concerns=st.lists(
        st.builds(
            ConcernCount,
            concern=st.sampled_from(Concern),
            last_90_days=counts,
            last_365_days=counts,
        ),
        max_size=4,
    ),
)
alerts = st.builds(
    Alert,
    alert_id=ids,
    rule_id=st.sampled_from(RuleId),
    severity=st.sampled_from(Severity),
    child=st.builds(
        ChildRef,
        child_id=ids,
        given_name=names,
        family_name=names,
        date_of_birth=born,
        socialcare_id=optional(ids),
        status=optional(st.sampled_from(SocialCareStatus)),
    ),
    triggered_by=st.lists(ids, min_size=1, max_size=4),
    summary=text,
    explanation=text,
    unshared_with=agencies,
    recommended_action=text,
    due_by=optional(instants),
    raised_at=instants,
    identity_note=optional(text),
    context=optional(contexts),
)
notifications = st.builds(
    Notification,
    notification_id=ids,
    event_id=ids,
    event_type=st.sampled_from(sorted(EVENT_CLASSES)),
    to_agency=st.sampled_from(Agency),
    child=st.builds(
        NotifiedChild,
        given_name=names,
        family_name=names,
        date_of_birth=born,
        identifiers=st.dictionaries(st.sampled_from(["nhs_number", "upn", "socialcare_id"]), ids),
    ),
    summary=text,
    lawful_basis=text,
    consent=st.sampled_from(ConsentStatus),
    due_by=optional(instants),
    fields=st.dictionaries(words, json_values, max_size=4),
)
feedbacks = st.builds(
    Feedback,
    feedback_id=ids,
    event_id=optional(ids),
    to_agency=st.sampled_from(Agency),
    kind=st.sampled_from(FeedbackKind),
    problems=problems,
    created_at=instants,
)
rejecteds = st.builds(
    Rejected,
    rejection_id=ids,
    event_id=optional(ids),
    source_agency=optional(st.sampled_from([a.value for a in Agency])),
    topic=optional(ids),
    reasons=problems,
    original=st.binary(max_size=64),
    rejected_at=instants,
)
audits = st.builds(
    AuditDisclosure,
    disclosure_id=ids,
    event_id=ids,
    child_id=ids,
    to_agency=st.sampled_from(Agency),
    fields=st.lists(words, max_size=4),
    lawful_basis=words,
    consent=st.sampled_from(ConsentStatus),
    decided_by=words,
    disclosed_at=instants,
)


def outputs() -> st.SearchStrategy[Any]:
    """Any record the broker publishes."""
    return st.one_of(alerts, notifications, feedbacks, rejecteds, audits)


__all__ = [
    "E",
    "alerts",
    "audits",
    "envelopes",
    "events",
    "events_of",
    "feedbacks",
    "instants",
    "nhs_numbers",
    "notifications",
    "outputs",
    "rejecteds",
    "subjects",
    "upns",
]
