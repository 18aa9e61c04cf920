"""How the picture is said in words: dates, agencies, concerns, events, the enrichment.

Alerts and notifications are read by social workers, designated safeguarding leads and
police officers, and may one day be read by the child. So the wording is plain English:
the child by first name, what happened and when, who does not know; never a phrase that
blames the child (language.md), and never the narrative of another agency's record
(alerts carry facts; the MASH reads the record itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from broker.models import Agency, ChildContext, Concern, HealthKind, SocialCareStatus
from broker.picture.model import ChildPicture, EventSummary

AGENCY_NAMES: Final[Mapping[str, str]] = {
    Agency.police: "the police",
    Agency.yot: "the youth offending team",
    Agency.school: "the school",
    Agency.health: "health",
    Agency.camhs: "CAMHS",
    Agency.substance_misuse: "the substance misuse service",
    Agency.socialcare: "children's social care",
    Agency.early_help: "early help",
    Agency.mash: "the MASH",
    Agency.other: "another agency",
}

CONCERN_NAMES: Final[Mapping[str, str]] = {
    Concern.domestic_abuse: "domestic abuse",
    Concern.missing: "missing episode",
    Concern.child_sexual_exploitation: "child sexual exploitation",
    Concern.child_criminal_exploitation: "child criminal exploitation",
    Concern.mental_health: "mental health",
    Concern.self_harm: "self-harm",
    Concern.substance_misuse: "substance misuse",
    Concern.neglect: "neglect",
    Concern.physical_abuse: "physical abuse",
    Concern.sexual_abuse: "sexual abuse",
    Concern.emotional_abuse: "emotional abuse",
    Concern.online_harm: "online harm",
    Concern.knife_crime: "knife crime",
    Concern.offending: "offending",
    Concern.homelessness: "homelessness",
    Concern.other: "other concern",
}

HEALTH_KINDS: Final[Mapping[str, str]] = {
    HealthKind.ed_attendance: "emergency department attendance",
    HealthKind.mh_crisis: "mental health crisis",
    HealthKind.camhs_referral: "CAMHS referral",
    HealthKind.camhs_discharge: "CAMHS discharge",
    HealthKind.admission: "hospital admission",
    HealthKind.discharge: "hospital discharge",
    HealthKind.liaison_diversion: "liaison and diversion contact",
    HealthKind.street_triage: "street triage contact",
    HealthKind.school_nurse_assessment: "school nurse assessment",
    HealthKind.gp_concern: "GP concern",
}

STATUS_NAMES: Final[Mapping[str, str]] = {
    SocialCareStatus.none: "not open to children's social care",
    SocialCareStatus.early_help: "supported by early help",
    SocialCareStatus.child_in_need: "a child in need",
    SocialCareStatus.child_protection_plan: "on a child protection plan",
    SocialCareStatus.child_looked_after: "looked after by the council",
    SocialCareStatus.closed: "closed to children's social care",
}


def join_words(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


@lru_cache(maxsize=16_384)
def when(instant: datetime, tz: ZoneInfo) -> str:
    """'Tue 19 May 2026 10:00', in the partnership's local time.

    Cached: an alert's chronology lists the child's earlier events, so the same instants
    are written again and again (equal instants give the same words, whatever offset)."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def deadline(instant: datetime, tz: ZoneInfo) -> str:
    """A deadline: 'Tue 19 May 2026 14:00', or 'the end of Mon 21 Sep 2026' at midnight."""
    local = instant.astimezone(tz)
    if (local.hour, local.minute) == (0, 0):
        before = local - timedelta(days=1)
        return f"the end of {before:%a} {before.day} {before:%b %Y}"
    return when(instant, tz)


def counted(number: int, thing: str) -> str:
    """'1 missing event', '2 missing events': a count a person can read aloud."""
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def sentence(text: str) -> str:
    """`text` ending with one full stop, whether or not it had one (an identity note is
    a sentence already when an explanation quotes it)."""
    return text if text.endswith(".") else f"{text}."


def day(d: date) -> str:
    """'19 May 2026'."""
    return f"{d.day} {d:%b %Y}"


def agency_name(agency: str) -> str:
    return AGENCY_NAMES.get(agency, str(agency))


def agencies(items: Iterable[str]) -> str:
    """'the school and CAMHS'."""
    return join_words(agency_name(a) for a in items)


def concerns(items: Iterable[str]) -> str:
    return join_words(CONCERN_NAMES.get(c, str(c).replace("_", " ")) for c in items)


def first_name(picture: ChildPicture) -> str:
    return picture.identity.given_name if picture.identity else "the child"


def describe(summary: EventSummary, article: str = "a") -> str:
    """What an event was, without its narrative: 'a GREEN police notice (neglect)'.
    `article` is "a" or "the"."""
    about = f" ({concerns(summary.concerns)})" if summary.concerns else ""
    if summary.event_type == "police.vist":
        rag = f"{summary.rag.value} " if summary.rag else ""
        what = f"{rag}police vulnerability notice{about}"
    elif summary.event_type == "yot.referral":
        level = summary.risk_level.value.replace("_", " ") if summary.risk_level else "unknown"
        listed = f"{concerns(summary.concerns)}; " if summary.concerns else ""
        what = f"youth offending team referral ({listed}risk {level})"
    elif summary.event_type == "health.update":
        kind = HEALTH_KINDS.get(summary.kind or "", "health update")
        setting = summary.body.get("setting")
        at = f" at {setting}" if isinstance(setting, str) and setting else ""
        what = f"{kind}{at}{about}"
    elif summary.event_type == "school.transition":
        what = "school move"
    else:
        what = f"{summary.event_type} event"
    if article == "a" and what[:1].lower() in "aeiou":
        article = "an"
    return f"{article} {what}"


def chronology_line(summary: EventSummary, tz: ZoneInfo) -> str:
    """One line of a chronology: when, who, what, and the flags that matter."""
    flags = []
    if summary.significant_harm:
        flags.append("significant harm")
    flags_text = f" [{', '.join(flags)}]" if flags else ""
    source = agency_name(summary.source_agency)
    what = describe(summary, "")[1:]
    return f"- {when(summary.occurred_at, tz)}: {source}: {what}{flags_text}."


def status_sentence(name: str, context: ChildContext) -> str:
    """'Poppy is a child in need (since 11 May 2026); allocated worker Sam Reed (...).'"""
    status = context.status
    if not status:
        sentence = f"{name} is not known to children's social care"
    else:
        since = context.status_since
        since_text = f" (since {day(since)})" if since else ""
        sentence = f"{name} is {STATUS_NAMES.get(status, status)}{since_text}"
        worker = context.allocated_worker
        if worker:
            sentence += f"; allocated worker {worker.name} ({worker.team})"
    return sentence + "."


def enrichment_text(name: str, context: ChildContext) -> str:
    """The enrichment (broker.picture.enrichment) as two or three short sentences."""
    parts = [status_sentence(name, context)]
    named = [agency_name(a) for a in context.agencies_involved if a != Agency.school]
    if context.current_school:
        named.append(f"{context.current_school.name} (school)")
    parts.append(
        f"Agencies involved: {join_words(named)}." if named else "No other agency is involved."
    )
    referrals = context.previous_referrals
    if referrals:
        listed = join_words(day(d) for d in referrals)
        parts.append(f"Previous referrals: {len(referrals)} ({listed}).")
    parts.append(
        f"Risk events: {context.risk_events_90_days} in 90 days, "
        f"{context.risk_events_365_days} in 365 days."
    )
    return " ".join(parts)
