"""The timeliness report: how quickly the front door acted, per month and per agency.

The 2023 inspection found that leaders could not see how quickly the front door acted.
The broker already holds every deadline, decision and disclosure; this reads them back
as a whole. It is one pure function over what replay prints and the live worker keeps:
the children's pictures (events with their times, MASH decisions, strategy meetings,
school moves, the deadlines running or fired), the alerts and the disclosure audit.
Every deadline is recomputed with the very functions the rules use
(`broker.rules.decision.deadline`, the calendar's working hours, working days and
school days, bank holidays included), so "in time" here means what it meant when the
rule decided.

Each row counts one measure for one month and one agency: the agency whose record
started the clock (the contact's publisher for a decision, the school for a file, the
police for an Operation Encompass notice, the youth offending team for a referral), and
the month of the instant the clock started (a contact's `recorded_at`, a decision's,
the file's deadline, an alert's `raised_at`). "Late" includes what is still undone
after its deadline (overdue); "pending" is what is undone with time left at `as_of`.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from broker.config.partnership import PartnershipConfig
from broker.models import Alert, AuditDisclosure, RuleId
from broker.picture.model import ChildPicture, DecisionMade, EventSummary
from broker.policy.shares import RULE_ENCOMPASS
from broker.rules import decision as decision_rule
from broker.rules import school as school_rule
from broker.rules import strategy as strategy_rule


@dataclass(frozen=True, slots=True)
class Measure:
    key: str
    title: str
    met: str
    """What the `in_time` column means for this measure, in words."""
    missed: str
    """What the `late` column means."""
    timed: bool = True
    """False: a plain count (contacts received)."""


MEASURES: Final[tuple[Measure, ...]] = (
    Measure(
        "contacts",
        "Contacts received (police notices, referrals, health updates)",
        "",
        "",
        timed=False,
    ),
    Measure(
        "decision_urgent",
        "MASH decisions within 4 working hours (RED or significant harm)",
        "decided in time",
        "decided late or overdue",
    ),
    Measure(
        "decision_day",
        "MASH decisions within 1 working day",
        "decided in time",
        "decided late or overdue",
    ),
    Measure(
        "strategy_meeting",
        "Strategy meetings held within 1 working day of the decision",
        "held in time",
        "held late or not held",
    ),
    Measure(
        "school_file",
        "School files transferred within 5 school days",
        "transferred in time",
        "transferred late or not transferred",
    ),
    Measure(
        "encompass",
        "Operation Encompass notices to the school by 08:30 the next school day",
        "told in time",
        "told late, or school not known",
    ),
    Measure(
        "unshared_risk",
        "Unshared-risk alerts shared by their deadline",
        "shared in time",
        "shared late or not shared",
    ),
    Measure(
        "referral_complete",
        "Referrals complete (not returned as incomplete)",
        "complete",
        "returned as incomplete",
    ),
    Measure(
        "info_request_complete",
        "Information requests naming every relevant agency",
        "",
        "left out a relevant agency",
    ),
)
MEASURE_BY_KEY: Final = {m.key: m for m in MEASURES}

Status = Literal["count", "in_time", "late", "pending"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One thing measured: which measure, whose, when its clock started, how it went,
    and how many hours it took (when it was done)."""

    measure: str
    agency: str
    started: datetime
    status: Status
    hours: float | None = None


@dataclass
class Tally:
    """One row of the report."""

    month: str
    agency: str
    measure: str
    total: int = 0
    in_time: int = 0
    late: int = 0
    pending: int = 0
    hours: list[float] = field(default_factory=list)

    @property
    def percent_in_time(self) -> float | None:
        """In time as a share of what is settled (in time or late), to one decimal."""
        settled = self.in_time + self.late
        return round(100 * self.in_time / settled, 1) if settled else None

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.hours), 2) if self.hours else None


CSV_COLUMNS: Final = (
    "month",
    "agency",
    "measure",
    "total",
    "in_time",
    "late",
    "pending",
    "percent_in_time",
    "median_hours",
)


@dataclass(frozen=True)
class TimelinessReport:
    start: datetime
    end: datetime
    as_of: datetime
    rows: list[Tally]

    def row(self, month: str, agency: str, measure: str) -> Tally | None:
        return next(
            (r for r in self.rows if (r.month, r.agency, r.measure) == (month, agency, measure)),
            None,
        )

    def totals(self, measure: str) -> Tally:
        """One measure over every month and agency."""
        whole = Tally("all", "all", measure)
        for r in self.rows:
            if r.measure == measure:
                whole.total += r.total
                whole.in_time += r.in_time
                whole.late += r.late
                whole.pending += r.pending
                whole.hours += r.hours
        return whole

    def months(self) -> list[str]:
        return sorted({r.month for r in self.rows})

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.rows:
            percent, median = r.percent_in_time, r.median_hours
            writer.writerow(
                [
                    r.month,
                    r.agency,
                    r.measure,
                    r.total,
                    r.in_time,
                    r.late,
                    r.pending,
                    "" if percent is None else percent,
                    "" if median is None else median,
                ]
            )
        return out.getvalue()


def timeliness(
    pictures: Iterable[ChildPicture],
    alerts: Iterable[Alert],
    disclosures: Iterable[AuditDisclosure],
    config: PartnershipConfig,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
) -> TimelinessReport:
    """The report of what started in [start, end), as it stood at `as_of`."""
    pictures = list(pictures)
    alerts = list(alerts)
    events = {e.event_id: e for p in pictures for e in p.events}
    outcomes = [
        *_contacts(events.values()),
        *_decisions(pictures, config, as_of),
        *_strategy_meetings(pictures, events, config, as_of),
        *_school_files(pictures, config, as_of),
        *_encompass(events, alerts, disclosures, config),
        *_unshared(events, alerts, disclosures, as_of),
        *_referrals(events.values(), alerts),
        *_info_requests(alerts),
    ]
    tz = config.calendar.tz
    tallies: dict[tuple[str, str, str], Tally] = {}
    for o in outcomes:
        if not start <= o.started < end:
            continue
        month = o.started.astimezone(tz).strftime("%Y-%m")
        tally = tallies.setdefault((month, o.agency, o.measure), Tally(month, o.agency, o.measure))
        tally.total += 1
        if o.status == "in_time":
            tally.in_time += 1
        elif o.status == "late":
            tally.late += 1
        elif o.status == "pending":
            tally.pending += 1
        if o.hours is not None:
            tally.hours.append(o.hours)
    order = {m.key: i for i, m in enumerate(MEASURES)}
    rows = sorted(tallies.values(), key=lambda t: (order[t.measure], t.month, t.agency))
    return TimelinessReport(start, end, as_of, rows)


def _hours(begin: datetime, done: datetime) -> float:
    return round((done - begin).total_seconds() / 3600, 2)


def _settled(done: datetime | None, due: datetime, as_of: datetime) -> Status:
    if done is not None:
        return "in_time" if done <= due else "late"
    return "late" if due <= as_of else "pending"


def _contacts(events: Iterable[EventSummary]) -> Iterator[Outcome]:
    """A police notice, a referral or a health update (a school move is not a contact)."""
    for e in events:
        if e.event_type != "school.transition":
            yield Outcome("contacts", e.source_agency.value, e.recorded_at, "count")


def _decisions(
    pictures: list[ChildPicture], config: PartnershipConfig, as_of: datetime
) -> Iterator[Outcome]:
    """Every event that needed a decision (its deadline ran: it is running, fired, or a
    decision stopped it) or got one."""
    for picture in pictures:
        for e in picture.events:
            key = decision_rule.timer_key(e.event_id)
            made = [d for d in picture.decisions if e.event_id in (d.target_event_id, d.refers_to)]
            if not made and picture.timer(key) is None and key not in picture.fired:
                continue
            due = decision_rule.deadline(e, config)
            done = min((d.recorded_at for d in made), default=None)
            measure = "decision_urgent" if decision_rule.urgent(e) else "decision_day"
            hours = _hours(e.recorded_at, done) if done else None
            status = _settled(done, due, as_of)
            yield Outcome(measure, e.source_agency.value, e.recorded_at, status, hours)


def _strategy_meetings(
    pictures: list[ChildPicture],
    events: dict[str, EventSummary],
    config: PartnershipConfig,
    as_of: datetime,
) -> Iterator[Outcome]:
    days = config.deadlines.strategy_discussion_working_days
    for picture in pictures:
        for made in picture.decisions:
            if made.decision not in strategy_rule.CALLING:
                continue
            due = config.calendar.add_working_days(made.recorded_at, days)
            held = _first_meeting(picture, made)
            status = _settled(held, due, as_of)
            target = events.get(made.target_event_id or "")
            agency = target.source_agency.value if target else "mash"
            hours = _hours(made.recorded_at, held) if held else None
            yield Outcome("strategy_meeting", agency, made.recorded_at, status, hours)


def _first_meeting(picture: ChildPicture, made: DecisionMade) -> datetime | None:
    """The first meeting that answers the decision, whenever it was held."""
    far = datetime.max.replace(tzinfo=made.recorded_at.tzinfo)
    held = [
        m.held_at
        for m in picture.meetings
        if strategy_rule.answers(m.held_at, m.refers_to, made, far)
    ]
    return min(held, default=None)


def _school_files(
    pictures: list[ChildPicture], config: PartnershipConfig, as_of: datetime
) -> Iterator[Outcome]:
    """Moves whose file had to follow the child: a file exists, or one was transferred,
    or the rule's deadline ran (a child known to social care)."""
    n = config.deadlines.school_file_school_days
    for picture in pictures:
        for move in picture.transitions.values():
            key = school_rule.file_timer_key(move.transition_id)
            ran = picture.timer(key) is not None or key in picture.fired
            if not (move.cp_file_exists or move.cp_file_transferred_at or ran):
                continue
            due = config.calendar.end_of_nth_school_day_after(move.start_date or move.leave_date, n)
            done = move.cp_file_transferred_at
            status = _settled(done, due, as_of)
            first = picture.event(move.event_ids[0])
            started = first.recorded_at if first else due
            hours = _hours(started, done) if done else None
            yield Outcome("school_file", "school", started, status, hours)


def _encompass(
    events: dict[str, EventSummary],
    alerts: list[Alert],
    disclosures: Iterable[AuditDisclosure],
    config: PartnershipConfig,
) -> Iterator[Outcome]:
    for d in disclosures:
        e = events.get(d.event_id)
        if d.decided_by != RULE_ENCOMPASS or e is None:
            continue
        due = config.calendar.next_school_day_0830(e.recorded_at)
        status: Status = "in_time" if d.disclosed_at <= due else "late"
        hours = _hours(e.recorded_at, d.disclosed_at)
        yield Outcome("encompass", e.source_agency.value, e.recorded_at, status, hours)
    for alert in alerts:
        if alert.rule_id == RuleId.ENCOMPASS_SCHOOL_UNKNOWN:
            e = events.get(alert.triggered_by[0])
            agency = e.source_agency.value if e else "police"
            yield Outcome("encompass", agency, e.recorded_at if e else alert.raised_at, "late")


def _unshared(
    events: dict[str, EventSummary],
    alerts: list[Alert],
    disclosures: Iterable[AuditDisclosure],
    as_of: datetime,
) -> Iterator[Outcome]:
    told: dict[tuple[str, str], list[datetime]] = {}
    for d in disclosures:
        told.setdefault((d.event_id, d.to_agency.value), []).append(d.disclosed_at)
    for alert in alerts:
        if alert.rule_id != RuleId.UNSHARED_RISK:
            continue
        event_id = alert.triggered_by[0]
        times = [
            t
            for agency in alert.unshared_with
            for t in told.get((event_id, agency.value), [])
            if t >= alert.raised_at
        ]
        shared = min(times, default=None)
        due = alert.due_by or alert.raised_at
        e = events.get(event_id)
        agency = e.source_agency.value if e else "other"
        hours = _hours(alert.raised_at, shared) if shared else None
        yield Outcome("unshared_risk", agency, alert.raised_at, _settled(shared, due, as_of), hours)


def _referrals(events: Iterable[EventSummary], alerts: list[Alert]) -> Iterator[Outcome]:
    incomplete = {a.triggered_by[0] for a in alerts if a.rule_id == RuleId.REFERRAL_INCOMPLETE}
    for e in events:
        if e.event_type == "yot.referral":
            status: Status = "late" if e.event_id in incomplete else "in_time"
            yield Outcome("referral_complete", e.source_agency.value, e.recorded_at, status)


def _info_requests(alerts: list[Alert]) -> Iterator[Outcome]:
    """Only what the broker can see: a request that left out a relevant agency. The
    contract has no answer to a request (events.md), so "answered on time" cannot be
    measured from the topics."""
    for alert in alerts:
        if alert.rule_id == RuleId.RELEVANT_AGENCY_OMITTED:
            yield Outcome("info_request_complete", "mash", alert.raised_at, "late")
