"""A child's subject access record: everything the broker holds and has disclosed about
one child, for the data protection officer answering a subject access request (UK GDPR
Art. 15).

Pure: built from the child's picture (identity, social care record, involvements, school
moves, each event as the agency sent it without the subject, decisions, screenings,
meetings), the alerts about the child, the disclosure audit (each recipient, the fields
shared, the lawful basis, consent, who decided) and the access audit (each person shown
the child's record). It holds nothing about any other child: every part is selected by
this child's id.

Third parties' personal data is **marked for the reviewer, never dropped**: free text an
agency wrote (a narrative, a referral's analysis) may name parents, siblings or others,
and professionals are named (officers, case managers, workers, whoever decided or
looked). Each such value carries `review` with the reason; the reviewer decides what to
redact before release (ICO: the right of access and others' information).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from pydantic import JsonValue

from broker.models import AccessAudit, Alert, AuditDisclosure
from broker.picture.chronology import chronology
from broker.picture.model import ChildPicture

FREE_TEXT: Final = frozenset(
    {"narrative", "concern_summary", "impact_on_child", "mental_health_impact", "reason"}
)
NAMED_PEOPLE: Final = frozenset({"officer", "case_manager", "allocated_worker", "decided_by"})
LEFT_OUT: Final = frozenset({"event_id", "event_type", "source", "occurred_at", "recorded_at"})
"""Envelope fields each record lists once, beside its fields."""

FREE_TEXT_REVIEW: Final = "free text an agency wrote: may name family members or other people"
PROFESSIONAL_REVIEW: Final = "names a professional (a third party)"


def marked(value: JsonValue, review: str | None) -> dict[str, JsonValue]:
    """A value, with the reason a reviewer must look at it before release (if any)."""
    return {"value": value, "review": review} if review else {"value": value}


def _field_review(name: str) -> str | None:
    if name in FREE_TEXT:
        return FREE_TEXT_REVIEW
    if name in NAMED_PEOPLE:
        return PROFESSIONAL_REVIEW
    return None


def _person_review(decided_by: str) -> str | None:
    return None if decided_by.startswith("rule:") else PROFESSIONAL_REVIEW


def subject_access(
    child_id: str,
    picture: ChildPicture | None,
    alerts: Iterable[Alert],
    disclosures: Iterable[AuditDisclosure],
    accesses: Iterable[AccessAudit],
    *,
    generated_at: datetime,
    requested_by: str,
) -> dict[str, Any]:
    """The record as JSON-ready data (the PDF is rendered from the same data)."""
    mine_alerts = sorted(
        (a for a in alerts if a.child.child_id == child_id), key=lambda a: a.raised_at
    )
    mine_told = sorted(
        (d for d in disclosures if d.child_id == child_id), key=lambda d: d.disclosed_at
    )
    mine_seen = sorted((a for a in accesses if a.child_id == child_id), key=lambda a: a.accessed_at)
    record: dict[str, Any] = {
        "about": {
            "child_id": child_id,
            "generated_at": generated_at.isoformat(),
            "requested_by": requested_by,
            "note": (
                "Everything mash-broker holds and has disclosed about this child. Values "
                "marked for review may contain other people's personal data: the reviewer "
                "decides what to redact before release."
            ),
        },
        "identity": _identity(picture),
        "social_care": _social_care(picture),
        "involvements": _involvements(picture),
        "school_moves": _moves(picture),
        "chronology": _chronology(picture),
        "records": _records(picture),
        "alerts": [
            {
                "raised_at": a.raised_at.isoformat(),
                "rule_id": a.rule_id.value,
                "severity": a.severity.value,
                "summary": marked(
                    a.summary, PROFESSIONAL_REVIEW if "decided" in a.summary else None
                ),
                "recommended_action": a.recommended_action,
            }
            for a in mine_alerts
        ],
        "disclosures": [
            {
                "disclosed_at": d.disclosed_at.isoformat(),
                "to_agency": d.to_agency.value,
                "fields": list(d.fields),
                "lawful_basis": d.lawful_basis,
                "consent": d.consent.value,
                "decided_by": marked(d.decided_by, _person_review(d.decided_by)),
                "event_id": d.event_id,
                "disclosure_id": d.disclosure_id,
            }
            for d in mine_told
        ],
        "accesses": [
            {
                "accessed_at": a.accessed_at.isoformat(),
                "by": marked(f"{a.user_name} ({a.user})", PROFESSIONAL_REVIEW),
                "role": a.role,
                "what": a.what,
            }
            for a in mine_seen
        ],
    }
    record["for_review"] = sum(1 for _ in _reviews(record))
    return record


def _reviews(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        if "review" in value and "value" in value:
            yield str(value["review"])
        for item in value.values():
            yield from _reviews(item)
    elif isinstance(value, list):
        for item in value:
            yield from _reviews(item)


def _identity(picture: ChildPicture | None) -> dict[str, Any] | None:
    if picture is None or picture.identity is None:
        return None
    ident = picture.identity
    return {
        "given_name": ident.given_name,
        "family_name": ident.family_name,
        "date_of_birth": ident.date_of_birth.isoformat(),
        "postcode": ident.postcode,
        "identifiers": dict(ident.identifiers),
    }


def _social_care(picture: ChildPicture | None) -> dict[str, Any] | None:
    if picture is None or picture.socialcare is None:
        return None
    care = picture.socialcare
    worker = care.allocated_worker
    return {
        "socialcare_id": care.socialcare_id,
        "status": care.status.value,
        "status_since": care.status_since.isoformat(),
        "allocated_worker": marked(f"{worker.name} ({worker.team})", PROFESSIONAL_REVIEW)
        if worker
        else None,
        "previous_referrals": [d.isoformat() for d in care.previous_referrals],
    }


def _involvements(picture: ChildPicture | None) -> list[dict[str, Any]]:
    if picture is None:
        return []
    return [
        {
            "agency": i.agency.value,
            "status": i.status.value,
            "team": i.team,
            "school": i.school.name if i.school else None,
            "since": i.since.isoformat(),
        }
        for i in sorted(picture.involvements.values(), key=lambda i: i.since)
    ]


def _moves(picture: ChildPicture | None) -> list[dict[str, Any]]:
    if picture is None:
        return []
    return [
        {
            "from_school": m.from_school.name,
            "to_school": m.to_school.name,
            "leave_date": m.leave_date.isoformat(),
            "start_date": m.start_date.isoformat() if m.start_date else None,
            "cp_file_exists": m.cp_file_exists,
            "cp_file_transferred_at": m.cp_file_transferred_at.isoformat()
            if m.cp_file_transferred_at
            else None,
        }
        for m in sorted(picture.transitions.values(), key=lambda m: m.seq)
    ]


def _chronology(picture: ChildPicture | None) -> list[dict[str, Any]]:
    if picture is None:
        return []
    decisions = {d.event_id for d in picture.decisions}
    return [
        {
            "occurred_at": row.occurred_at.isoformat(),
            "agency": row.agency,
            "what": marked(row.what, PROFESSIONAL_REVIEW if row.event_id in decisions else None),
            "event_id": row.event_id,
        }
        for row in chronology(picture)
    ]


def _records(picture: ChildPicture | None) -> list[dict[str, Any]]:
    """Each event as the agency sent it (without the subject, which is the identity)."""
    if picture is None:
        return []
    return [
        {
            "event_id": e.event_id,
            "event_type": e.event_type,
            "from": e.source_agency.value,
            "occurred_at": e.occurred_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "fields": {
                name: marked(value, _field_review(name))
                for name, value in e.body.items()
                if name not in LEFT_OUT
            },
        }
        for e in picture.events
    ]
