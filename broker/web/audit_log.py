"""The auditor's log: who saw or was told what about which child, when, and on which
lawful basis, from the two audit topics (audit.disclosure.v1 and audit.access.v1).

Pure: entries are built from the audit records the views hold and filtered here, so
the rules of the log are unit-tested without a page. A disclosure is an agency told
(the lawful basis and consent it was shared under, who decided); an access is a person
shown a child's record on the page (their role is the basis on which they saw it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

from broker.models import AccessAudit, Agency, AuditDisclosure

PAGE_AGENCY: Final = Agency.mash.value
"""The agency of everyone who uses the page: the MASH."""

WHAT_WORDS: Final = {
    "alert": "an alert, with the child's record",
    "child": "the child's record",
    "identity_review": "the record, as a candidate in an identity review",
    "audit_log": "the child's entries in this log",
    "subject_access": "the subject access record",
}


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: datetime
    kind: Literal["told", "saw"]
    agency: str
    """The agency told, or the MASH for someone who saw a record on the page."""
    who: str
    """The person who saw, or who decided the disclosure (`rule:<name>` for the rules)."""
    login: str
    what: str
    child_id: str
    basis: str
    consent: str = ""


@dataclass(frozen=True, slots=True)
class LogFilter:
    agency: str | None = None
    worker: str | None = None
    """Part of a name or login, any case."""
    start: date | None = None
    end: date | None = None
    """Both days included, in the partnership's time zone."""
    kind: str | None = None
    child: str | None = None
    """One child's entries (the broker's child id)."""


def entries(
    disclosures: Iterable[AuditDisclosure], accesses: Iterable[AccessAudit]
) -> list[LogEntry]:
    """Every entry, the latest first."""
    found = [
        LogEntry(
            at=d.disclosed_at,
            kind="told",
            agency=d.to_agency.value,
            who=d.decided_by,
            login="",
            what=", ".join(d.fields),
            child_id=d.child_id,
            basis=d.lawful_basis,
            consent=d.consent.value,
        )
        for d in disclosures
    ]
    found += [
        LogEntry(
            at=a.accessed_at,
            kind="saw",
            agency=PAGE_AGENCY,
            who=a.user_name,
            login=a.user,
            what=WHAT_WORDS.get(a.what, a.what),
            child_id=a.child_id,
            basis=f"{a.role} on the MASH page",
        )
        for a in accesses
    ]
    return sorted(found, key=lambda e: (e.at, e.kind, e.child_id), reverse=True)


def matches(entry: LogEntry, wanted: LogFilter, tz: ZoneInfo) -> bool:
    day = entry.at.astimezone(tz).date()
    worker = (wanted.worker or "").strip().lower()
    return (
        (wanted.agency is None or entry.agency == wanted.agency)
        and (not worker or worker in entry.who.lower() or worker == entry.login.lower())
        and (wanted.start is None or day >= wanted.start)
        and (wanted.end is None or day <= wanted.end)
        and (wanted.kind is None or entry.kind == wanted.kind)
        and (wanted.child is None or entry.child_id == wanted.child)
    )


def filtered(log: Iterable[LogEntry], wanted: LogFilter, tz: ZoneInfo) -> list[LogEntry]:
    return [e for e in log if matches(e, wanted, tz)]
