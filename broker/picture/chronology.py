"""A child's multi-agency chronology: what each agency knew, in the order it happened.

Inspectors found that history and cumulative harm were not analysed because nobody saw
the agencies' pieces side by side. This turns a child's picture (the same one the rules
read) into rows — date, agency, what happened, RAG, concerns — for the command line
and, later, the MASH page. Pure: picture in, rows out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from broker.picture import ChildPicture
from broker.picture.wording import describe, when

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class ChronologyRow:
    occurred_at: datetime
    agency: str
    what: str
    rag: str | None
    concerns: tuple[str, ...]
    event_id: str

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["occurred_at"] = self.occurred_at.isoformat()
        row["concerns"] = list(self.concerns)
        return row


def chronology(picture: ChildPicture, tz: ZoneInfo = LONDON) -> list[ChronologyRow]:
    """Every event, decision, screening and strategy meeting the broker holds for the child."""
    rows = [
        ChronologyRow(
            e.occurred_at,
            e.source_agency.value,
            _capitalised(describe(e, "")[1:]),
            e.rag.value if e.rag else None,
            tuple(c.value for c in e.concerns),
            e.event_id,
        )
        for e in picture.events
    ]
    rows += [
        ChronologyRow(
            d.occurred_at,
            "mash",
            f"MASH decision: {d.decision.value.replace('_', ' ')}"
            + (f" (share with {', '.join(a.value for a in d.share_with)})" if d.share_with else "")
            + f", by {d.decided_by}",
            None,
            (),
            d.event_id,
        )
        for d in picture.decisions
    ]
    rows += [
        ChronologyRow(
            s.recorded_at,
            "mash",
            f"Exploitation screening: {s.outcome.value} risk",
            None,
            (),
            s.event_id,
        )
        for s in picture.screenings
    ]
    rows += [
        ChronologyRow(
            m.held_at,
            "socialcare",
            "Strategy meeting held with " + ", ".join(a.value for a in m.attendees),
            None,
            (),
            m.event_id,
        )
        for m in picture.meetings
    ]
    rows += [
        ChronologyRow(
            i.since,
            i.agency.value,
            f"{'Opened' if i.status.value == 'open' else 'Closed'} its work ({i.team}"
            + (f", {i.school.name}" if i.school else "")
            + ")",
            None,
            (),
            i.event_id,
        )
        for i in picture.involvements.values()
    ]
    if picture.socialcare is not None:
        record = picture.socialcare
        since = datetime.combine(record.status_since, time(), tzinfo=tz)  # a date, locally
        status = record.status.value.replace("_", " ")
        rows.append(
            ChronologyRow(
                since, "socialcare", f"Social care status: {status}", None, (), record.event_id
            )
        )
    return sorted(rows, key=lambda r: (r.occurred_at, r.event_id))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def find_child(
    pictures: dict[str, ChildPicture],
    *,
    child_id: str | None = None,
    identifier: tuple[str, str] | None = None,
) -> ChildPicture | None:
    """The child by the broker's id, or by one of its identifiers (kind, value)."""
    if child_id is not None:
        return pictures.get(child_id)
    if identifier is not None:
        kind, value = identifier
        for picture in pictures.values():
            known = picture.identity.identifiers if picture.identity else {}
            social = picture.socialcare.socialcare_id if picture.socialcare else None
            if known.get(kind) == value or (kind == "socialcare_id" and social == value):
                return picture
    return None


def render_text(picture: ChildPicture, rows: list[ChronologyRow], tz: ZoneInfo) -> str:
    """A plain-text chronology, as a practitioner would read it."""
    identity = picture.identity
    head = (
        f"Chronology for {identity.given_name} {identity.family_name} "
        f"(born {identity.date_of_birth.isoformat()}; broker id {picture.child_id})"
        if identity
        else f"Chronology for broker id {picture.child_id}"
    )
    lines = [head]
    for row in rows:
        lines.append(f"{when(row.occurred_at, tz):<22} {row.agency:<17} {row.what}")
    return "\n".join(lines)
