"""How the page says things: rule titles, times left, dates, agencies and fields.

Plain functions, registered as Jinja filters and globals by `broker.web.app`, so the
templates hold layout only and every wording is tested here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from broker.models import DecisionKind, IdentityDecisionKind, RuleId
from broker.picture.model import EventSummary
from broker.picture.wording import (
    AGENCY_NAMES,
    CONCERN_NAMES,
    STATUS_NAMES,
    day,
    describe,
    when,
)

LONDON: Final = ZoneInfo("Europe/London")

RULE_TITLES: Final[dict[str, str]] = {
    RuleId.UNSHARED_RISK: "Unshared risk",
    RuleId.CONSENT_DECISION_REQUIRED: "Consent decision required",
    RuleId.DECISION_OVERDUE: "Decision overdue",
    RuleId.REFERRAL_INCOMPLETE: "Referral incomplete",
    RuleId.RELEVANT_AGENCY_OMITTED: "Relevant agency omitted",
    RuleId.CUMULATIVE_CONCERNS: "Cumulative concerns",
    RuleId.CUMULATIVE_NEGLECT: "Cumulative neglect",
    RuleId.REPEAT_MISSING: "Repeat missing episodes",
    RuleId.SCHOOL_FILE_NOT_TRANSFERRED: "School file not transferred",
    RuleId.ENCOMPASS_SCHOOL_UNKNOWN: "Encompass: school unknown",
    RuleId.EXPLOITATION_SCREENING_OVERDUE: "Exploitation screening overdue",
    RuleId.THRESHOLD_REVIEW: "Threshold review",
    RuleId.STRATEGY_DISCUSSION_OVERDUE: "Strategy discussion overdue",
    RuleId.STRATEGY_MEETING_INCOMPLETE: "Strategy meeting incomplete",
    RuleId.IDENTITY_REVIEW: "Identity review",
}

DECISION_TITLES: Final[dict[str, str]] = {
    DecisionKind.share: "Share",
    DecisionKind.no_share: "No share",
    DecisionKind.no_further_action: "No further action",
    DecisionKind.early_help: "Early help",
    DecisionKind.child_in_need_assessment: "Child in need assessment",
    DecisionKind.strategy_discussion: "Strategy discussion",
    DecisionKind.section_47: "Section 47 enquiry",
    IdentityDecisionKind.same_child: "The same child",
    IdentityDecisionKind.different_children: "Different children",
}

DECISION_HINTS: Final[dict[str, str]] = {
    DecisionKind.share: "Send this event to the agencies you choose, minimised for each.",
    DecisionKind.no_share: "Do not share this event; record why.",
    DecisionKind.no_further_action: "No further action by the MASH.",
    DecisionKind.early_help: "Refer for early help.",
    DecisionKind.child_in_need_assessment: "Social care to assess under section 17.",
    DecisionKind.strategy_discussion: "Convene a strategy discussion within 1 working day.",
    DecisionKind.section_47: "Start a section 47 enquiry (a strategy discussion must follow).",
}

FIELD_NAMES: Final[dict[str, str]] = {
    "child.given_name": "child's given name",
    "child.family_name": "child's family name",
    "child.date_of_birth": "child's date of birth",
    "child.nhs_number": "child's NHS number",
    "child.upn": "child's unique pupil number",
    "child.socialcare_id": "child's social care id",
    "child.police_person_id": "child's police person id",
    "occurred_at": "when it happened",
    "recorded_at": "when it was recorded",
    "source": "who recorded it",
    "rag": "RAG rating",
    "out_of_hours": "out of hours",
    "concern_summary": "concern summary",
    "impact_on_child": "impact on the child",
    "mental_health_impact": "mental health impact",
    "risk_level": "risk level",
    "case_manager": "case manager",
    "cp_file_exists": "whether a child protection file exists",
    "cp_file_transferred_at": "when the file was transferred",
}


def rule_title(rule: str) -> str:
    return RULE_TITLES.get(rule, str(rule))


def decision_title(kind: str) -> str:
    return DECISION_TITLES.get(kind, str(kind).replace("_", " "))


def agency_title(agency: str) -> str:
    """'Children's social care', 'CAMHS', 'The school' -> capitalised names."""
    name = AGENCY_NAMES.get(agency, str(agency))
    name = name.removeprefix("the ")
    return name[:1].upper() + name[1:]


def concern_title(concern: str) -> str:
    name = CONCERN_NAMES.get(concern, str(concern).replace("_", " "))
    return name[:1].upper() + name[1:]


def status_title(status: str | None) -> str:
    if not status:
        return "Not known to children's social care"
    text = STATUS_NAMES.get(status, str(status))
    return text[:1].upper() + text[1:]


IDENTIFIER_TITLES: Final[dict[str, str]] = {
    "nhs_number": "NHS number",
    "upn": "Unique pupil number",
    "socialcare_id": "Social care id",
    "police_person_id": "Police person id",
}


def identifier_title(name: str) -> str:
    return IDENTIFIER_TITLES.get(name, name.replace("_", " "))


def field_title(name: str) -> str:
    return FIELD_NAMES.get(name, name.replace("_", " "))


def local_time(instant: datetime | None) -> str:
    """'Tue 19 May 2026 10:00' in England, or an em dash."""
    return when(instant, LONDON) if instant is not None else "—"


def iso(instant: datetime | None) -> str:
    return instant.isoformat() if instant is not None else ""


def local_day(value: date | None) -> str:
    return day(value) if value is not None else "—"


def duration(span: timedelta) -> str:
    """'2 days 3 h', '3 h 20 min', '12 min', 'under a minute' (a positive span)."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        unit = "day" if days == 1 else "days"
        return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min" if mins else "under a minute"


def time_left(span: timedelta | None) -> str:
    """What the queue says in its 'Time left' column."""
    if span is None:
        return "No deadline"
    if span <= timedelta(0):
        return f"Overdue by {duration(span)}"
    return f"{duration(span)} left"


def age(born: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (born.month, born.day)
    return on.year - born.year - before_birthday


def event_title(summary: EventSummary) -> str:
    """'GREEN police vulnerability notice (emotional abuse)'."""
    text = describe(summary, "")[1:]
    return text[:1].upper() + text[1:]


def value_text(value: object) -> str:
    """A field's JSON value as a person reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{field_title(str(k))}: {value_text(v)}" for k, v in value.items())
    return _text(value) if isinstance(value, str) else str(value)


def _text(value: str) -> str:
    """An instant in local time, an enum value in words, other text as it is."""
    if "T" in value and len(value) >= 19:
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value.replace("_", " ") if value.isidentifier() else value
