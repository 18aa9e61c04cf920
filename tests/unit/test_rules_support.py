"""Builders and a runner shared by the rule and policy tests (no tests of its own).

Events are built from the JSON form through `parse_event`, as a publisher's would be;
`feed` runs them through `broker.rules.process` and `fire_due` exactly as the replay
engine does (timers due strictly before each event's recorded_at fire first, and at
the end every timer due at or before `until`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from broker.config.partnership import PartnershipConfig, load_config
from broker.models import (
    Alert,
    AuditDisclosure,
    Event,
    Feedback,
    Notification,
    parse_event,
)
from broker.picture import ChildPicture
from broker.pipeline.records import OutRecord, records_for
from broker.rules import fire_due, process

LONDON = ZoneInfo("Europe/London")
CONFIG = load_config()
CHILD = "child-test"
_ids = itertools.count(1)


def at(text: str) -> datetime:
    """'2026-05-19 10:00' in London local time."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def subject(**changes: Any) -> dict[str, Any]:
    base = {
        "given_name": "Poppy",
        "family_name": "Evans",
        "date_of_birth": "2013-04-18",
        "socialcare_id": "SC-9001",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def event(
    event_type: str,
    source: str,
    when: datetime,
    *,
    event_id: str | None = None,
    occurred: datetime | None = None,
    consent: str | None = None,
    who: dict[str, Any] | None = None,
    **body: Any,
) -> Event:
    data: dict[str, Any] = {
        "event_id": event_id or f"ev-{next(_ids):04d}",
        "event_type": event_type,
        "source": {"agency": source, "system": f"{source}-records"},
        "occurred_at": (occurred or when).isoformat(),
        "recorded_at": when.isoformat(),
        "subject": who or subject(),
        **body,
    }
    if consent:
        data["consent"] = {"status": consent}
    return parse_event(data)


def vist(
    when: datetime,
    rag: str = "GREEN",
    concerns: Sequence[str] = ("neglect",),
    narrative: str = "Officers attended the address.",
    **kw: Any,
) -> Event:
    return event(
        "police.vist",
        "police",
        when,
        vist_id=f"V-{next(_ids)}",
        rag=rag,
        concerns=list(concerns),
        narrative=narrative,
        out_of_hours=False,
        **kw,
    )


def health(
    when: datetime, kind: str = "ed_attendance", concerns: Sequence[str] = (), **kw: Any
) -> Event:
    agency = kw.pop("agency", "health")
    return event(
        "health.update",
        agency,
        when,
        update_id=f"H-{next(_ids)}",
        kind=kind,
        setting="University Hospitals Plymouth",
        concerns=list(concerns),
        narrative=kw.pop("narrative", "Seen in the department."),
        **kw,
    )


GOOD_SUMMARY = "Arrested twice this month for criminal damage near the station with older youths."
GOOD_IMPACT = (
    "Dylan is frightened at home, sleeps little, has stopped attending school and "
    "says he feels he has nobody to turn to."
)


def yot(
    when: datetime,
    concerns: Sequence[str] = ("offending",),
    risk_level: str = "medium",
    **kw: Any,
) -> Event:
    body: dict[str, Any] = {
        "referral_id": f"Y-{next(_ids)}",
        "template_version": "3",
        "concerns": list(concerns),
        "risk_level": risk_level,
        "case_manager": {"name": "Jo Hart", "team": "Youth Justice"},
        "concern_summary": GOOD_SUMMARY,
        "impact_on_child": GOOD_IMPACT,
    }
    body.update(kw)
    body = {k: v for k, v in body.items() if v is not None}
    return event("yot.referral", "yot", when, **body)


def record(when: datetime, status: str = "child_in_need", **kw: Any) -> Event:
    return event(
        "socialcare.record",
        "socialcare",
        when,
        status=status,
        status_since=when.date().isoformat(),
        allocated_worker={"name": "Sam Reed", "team": "Plymouth Central CIN"},
        previous_referrals=kw.pop("previous_referrals", []),
        **kw,
    )


SCHOOL = {"urn": "113500", "name": "Stoke Damerel Primary"}
NEW_SCHOOL = {"urn": "113612", "name": "Keyham Barton Primary"}


def involvement(when: datetime, agency: str = "school", status: str = "open", **kw: Any) -> Event:
    if agency == "school":
        kw.setdefault("school", SCHOOL)
    kw.setdefault("team", "DSL")
    return event("agency.involvement", agency, when, agency=agency, status=status, **kw)


def transition(
    when: datetime,
    transition_id: str = "tr-1",
    *,
    leave: str = "2026-09-11",
    start: str | None = "2026-09-14",
    cp_file_exists: bool = True,
    **kw: Any,
) -> Event:
    body: dict[str, Any] = {
        "transition_id": transition_id,
        "from_school": SCHOOL,
        "to_school": NEW_SCHOOL,
        "leave_date": leave,
        "cp_file_exists": cp_file_exists,
    }
    if start:
        body["start_date"] = start
    body.update(kw)
    return event("school.transition", "school", when, **body)


def decision(
    when: datetime,
    refers_to: str,
    kind: str = "no_further_action",
    share_with: Sequence[str] = (),
    **kw: Any,
) -> Event:
    return event(
        "mash.decision",
        "mash",
        when,
        decision_id=f"D-{next(_ids)}",
        refers_to=refers_to,
        decision=kind,
        share_with=list(share_with),
        rationale="Considered with the partner agencies.",
        decided_by="Alex Moss",
        **kw,
    )


def screening(when: datetime, outcome: str = "medium", **kw: Any) -> Event:
    return event(
        "mash.screening",
        "mash",
        when,
        screening_id=f"S-{next(_ids)}",
        tool="exploitation",
        outcome=outcome,
        **kw,
    )


def meeting(
    when: datetime,
    attendees: Sequence[str] = ("socialcare", "police", "health"),
    held: datetime | None = None,
    **kw: Any,
) -> Event:
    return event(
        "socialcare.strategy_meeting",
        "socialcare",
        when,
        meeting_id=f"M-{next(_ids)}",
        held_at=(held or when).isoformat(),
        attendees=list(attendees),
        **kw,
    )


def info_request(when: datetime, agencies: Sequence[str]) -> Event:
    return event(
        "mash.info_request",
        "mash",
        when,
        request_id=f"R-{next(_ids)}",
        agencies_contacted=list(agencies),
        reason="Gathering information after a police notice.",
    )


def feed(
    events: Iterable[Event],
    until: datetime | None = None,
    config: PartnershipConfig = CONFIG,
    picture: ChildPicture | None = None,
) -> tuple[ChildPicture | None, list[OutRecord]]:
    """The events for one child, as the replay engine runs them; then `until`."""
    records: list[OutRecord] = []
    clock = datetime(1970, 1, 1, tzinfo=LONDON)
    for e in events:
        clock = max(clock, e.recorded_at)
        if picture is not None:
            fired = fire_due(picture, before=clock, config=config)
            picture, records = fired.picture, records + records_for(fired.outputs)
        out = process(
            picture,
            e,
            child_id=CHILD,
            link_note="identified by socialcare id",
            now=clock,
            config=config,
        )
        picture, records = out.picture, records + records_for(out.outputs)
    if until is not None and picture is not None:
        fired = fire_due(picture, before=until, inclusive=True, config=config)
        picture, records = fired.picture, records + records_for(fired.outputs)
    return picture, records


def alerts(records: Iterable[OutRecord], rule: str | None = None) -> list[Alert]:
    found = [r.value for r in records if isinstance(r.value, Alert)]
    return [a for a in found if rule is None or a.rule_id == rule]


def notifications(records: Iterable[OutRecord], agency: str | None = None) -> list[Notification]:
    found = [r.value for r in records if isinstance(r.value, Notification)]
    return [n for n in found if agency is None or n.to_agency == agency]


def audits(records: Iterable[OutRecord]) -> list[AuditDisclosure]:
    return [r.value for r in records if isinstance(r.value, AuditDisclosure)]


def feedback(records: Iterable[OutRecord], kind: str | None = None) -> list[Feedback]:
    found = [r.value for r in records if isinstance(r.value, Feedback)]
    return [f for f in found if kind is None or f.kind == kind]


def rule_ids(records: Iterable[OutRecord]) -> list[str]:
    return [a.rule_id.value for a in alerts(records)]


MINUTE = timedelta(minutes=1)
