"""What changed since an alert was raised: the picture now beside the alert's snapshot.

An alert carries the child's picture as it stood when it was raised (`Alert.context`).
A record can reach the broker after an alert although it was recorded before it (a
**late record**: agencies' systems publish on different topics, read at their own
pace), and a record can link the child to one the broker already knew (a link made
later). Shown side by side without a word, the snapshot ("not known to social care")
and the chronology (a child protection plan from two months earlier) read as a
contradiction. This says what differs, which record brought it, and whether that
record was late (recorded before the alert was raised) or simply newer.

Pure: the alert, the child's current picture, and the partnership's time zone in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from broker.models import Agency, Alert, ChildContext
from broker.picture.derived import agencies_involved, current_school, in_agency_order
from broker.picture.model import ChildPicture
from broker.web.present import agency_title, local_day, status_title


@dataclass(frozen=True, slots=True)
class Change:
    what: str
    then: str
    now: str
    event_id: str | None
    """The record that brought the change (None when several did)."""
    recorded_at: datetime | None
    late: bool
    """Recorded before the alert was raised, yet not in its snapshot: it came late."""


@dataclass(frozen=True, slots=True)
class SinceAlert:
    changes: list[Change]
    late: frozenset[str]
    """Event ids of late records (marked in the chronology)."""
    after: frozenset[str]
    """Event ids recorded after the alert was raised."""


def _care_text(status: str | None, since: date | None, worker: str | None) -> str:
    if status is None:
        return "Not known to children's social care"
    text = status_title(status)
    if since is not None:
        text += f" since {local_day(since)}"
    if worker:
        text += f"; allocated worker {worker}"
    return text


def since_alert(alert: Alert, picture: ChildPicture | None) -> SinceAlert:
    """The differences between the alert's snapshot and the picture now."""
    if picture is None or alert.context is None:
        return SinceAlert([], frozenset(), frozenset())
    then: ChildContext = alert.context
    raised = alert.raised_at
    recorded = picture.processed
    after = frozenset(e for e, at in recorded.items() if at > raised)
    changes: list[Change] = []

    care = picture.socialcare
    then_worker = then.allocated_worker
    now_worker = care.allocated_worker if care else None
    then_key = (then.status, then.status_since, then_worker)
    now_key = (care.status, care.status_since, now_worker) if care else (None, None, None)
    if then_key != now_key and care is not None:
        at = recorded.get(care.event_id)
        changes.append(
            Change(
                "Social care",
                _care_text(
                    then.status.value if then.status else None,
                    then.status_since,
                    f"{then_worker.name} ({then_worker.team})" if then_worker else None,
                ),
                _care_text(
                    care.status.value,
                    care.status_since,
                    f"{now_worker.name} ({now_worker.team})" if now_worker else None,
                ),
                care.event_id,
                at,
                at is not None and at <= raised,
            )
        )

    now_agencies = agencies_involved(picture) - {Agency.mash}
    then_agencies = frozenset(then.agencies_involved) - {Agency.mash}
    if now_agencies != then_agencies:
        sources = _agency_sources(picture, now_agencies - then_agencies)
        times = [recorded[e] for e in sources if e in recorded]
        changes.append(
            Change(
                "Agencies involved",
                ", ".join(agency_title(a) for a in in_agency_order(set(then_agencies))) or "None",
                ", ".join(agency_title(a) for a in in_agency_order(set(now_agencies))) or "None",
                sources[0] if len(sources) == 1 else None,
                max(times, default=None),
                any(at <= raised for at in times),
            )
        )

    school = current_school(picture)
    then_school = then.current_school
    if (school.urn if school else None) != (then_school.urn if then_school else None):
        changes.append(
            Change(
                "School",
                then_school.name if then_school else "Not known",
                school.name if school else "Not known",
                None,
                None,
                False,
            )
        )
    late = frozenset(c.event_id for c in changes if c.late and c.event_id)
    return SinceAlert(changes, late, after)


def _agency_sources(picture: ChildPicture, added: frozenset[Agency]) -> list[str]:
    """The records that made these agencies involved: involvements, the social care
    record (social care, early help), the latest school move (the school)."""
    found: list[str] = []
    for agency in in_agency_order(set(added)):
        involvement = picture.involvements.get(agency.value)
        if involvement is not None:
            found.append(involvement.event_id)
        elif agency in (Agency.socialcare, Agency.early_help) and picture.socialcare:
            found.append(picture.socialcare.event_id)
        elif agency == Agency.school and picture.transitions:
            latest = max(picture.transitions.values(), key=lambda m: m.seq)
            found.append(latest.event_ids[-1])
    return list(dict.fromkeys(found))
