"""What changed between two runs of the same history: the answer to "what would we have
caught?".

Alerts are matched in two passes. The same alert (same id: same rule, child and
evidence) in both runs is the same alert; if it was raised at another time (a deadline
moved) it was raised earlier or later. What is left is paired by rule and child, in the
order raised: under a lowered threshold a child's first CUMULATIVE_NEGLECT comes at the
second event instead of the third, which is the same concern flagged earlier, not one
alert removed and another added. What still has no partner was added or removed.

A serious case review asks a question of children rather than of alerts: would the new
rule have flagged this child earlier? So each rule's first alert about each child is
compared too (`FirstFlag`): flagged sooner or later (and by how much), newly flagged,
or no longer flagged. Under `cumulative_neglect_every` lowered from 2 to 1, the alert on
a child's second concern is the same alert in both runs, one more is added on the
first, and the child is flagged sooner by the time between the two concerns.

Disclosures are the same disclosure when their ids agree (the event, the agency and who
decided); one in a run only is a notification that would, or would not, have been sent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from broker.pipeline.whatif import MadeDisclosure, Outcomes, RaisedAlert

AlertChangeKind = Literal["added", "removed", "earlier", "later"]


@dataclass(frozen=True)
class Moved:
    """Something about a child under a rule, at one time in each run (None: not at all)."""

    change: str
    rule: str
    child_id: str
    baseline_at: datetime | None
    new_at: datetime | None

    @property
    def gained(self) -> timedelta | None:
        """How much sooner the new configuration did it (negative: later)."""
        if self.baseline_at is None or self.new_at is None:
            return None
        return self.baseline_at - self.new_at

    def to_json(self) -> dict[str, Any]:
        gained = self.gained
        return {
            "change": self.change,
            "rule": self.rule,
            "child_id": self.child_id,
            "baseline_at": _iso(self.baseline_at),
            "new_at": _iso(self.new_at),
            "gained_seconds": int(gained.total_seconds()) if gained is not None else None,
        }


@dataclass(frozen=True)
class AlertChange(Moved):
    """An alert added, removed, or raised earlier or later."""

    change: AlertChangeKind
    event_id: str
    """The event that raised it under the new configuration (the baseline's if removed)."""

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "event_id": self.event_id}


FirstFlagKind = Literal["sooner", "later", "newly flagged", "no longer flagged"]


@dataclass(frozen=True)
class FirstFlag(Moved):
    """When a rule first flagged a child under each run, where that differs."""

    change: FirstFlagKind


@dataclass(frozen=True)
class DisclosureChange:
    change: Literal["would happen", "would not happen"]
    disclosure: MadeDisclosure

    def to_json(self) -> dict[str, Any]:
        d = self.disclosure
        return {
            "change": self.change,
            "child_id": d.child_id,
            "to_agency": d.to_agency,
            "event_id": d.event_id,
            "decided_by": d.decided_by,
            "at": d.disclosed_at.isoformat(),
        }


@dataclass(frozen=True)
class Totals:
    """One run's figures."""

    alerts: dict[str, int]
    disclosures: dict[str, int]
    identity_reviews: int
    feedback: dict[str, int]
    rejected: int

    @classmethod
    def of(cls, outcomes: Outcomes) -> Totals:
        return cls(
            alerts=_sorted(Counter(a.rule for a in outcomes.alerts)),
            disclosures=_sorted(Counter(d.to_agency for d in outcomes.disclosures)),
            identity_reviews=outcomes.identity_reviews,
            feedback=_sorted(outcomes.feedback),
            rejected=outcomes.rejected,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "alerts": self.alerts,
            "alerts_total": sum(self.alerts.values()),
            "disclosures": self.disclosures,
            "disclosures_total": sum(self.disclosures.values()),
            "identity_reviews": self.identity_reviews,
            "feedback": self.feedback,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class Comparison:
    baseline: Totals
    new: Totals
    alerts: list[AlertChange] = field(default_factory=list)
    first_flags: list[FirstFlag] = field(default_factory=list)
    disclosures: list[DisclosureChange] = field(default_factory=list)
    per_month: dict[str, tuple[int, int]] = field(default_factory=dict)
    """'2026-03' -> (alerts under the baseline, alerts under the new configuration)."""

    @property
    def no_difference(self) -> bool:
        return (
            not self.alerts
            and not self.first_flags
            and not self.disclosures
            and self.baseline == self.new
        )

    def by_rule(self) -> dict[str, Counter[str]]:
        """rule -> how many alerts of it were added, removed, raised earlier, later, and
        how many children it flagged sooner, later, newly, or no longer."""
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for change in self.alerts:
            table[change.rule][change.change] += 1
        for flag in self.first_flags:
            table[flag.rule][flag.change] += 1
        return dict(sorted(table.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "no_difference": self.no_difference,
            "baseline": self.baseline.to_json(),
            "new": self.new.to_json(),
            "alerts_by_rule": {r: dict(c) for r, c in self.by_rule().items()},
            "alert_changes": [c.to_json() for c in self.alerts],
            "first_flags": [f.to_json() for f in self.first_flags],
            "disclosure_changes": [c.to_json() for c in self.disclosures],
            "alerts_per_month": {
                m: {"baseline": b, "new": n} for m, (b, n) in self.per_month.items()
            },
        }


def compare(baseline: Outcomes, new: Outcomes) -> Comparison:
    return Comparison(
        baseline=Totals.of(baseline),
        new=Totals.of(new),
        alerts=alert_changes(baseline.alerts, new.alerts),
        first_flags=first_flags(baseline.alerts, new.alerts),
        disclosures=disclosure_changes(baseline.disclosures, new.disclosures),
        per_month=per_month(baseline.alerts, new.alerts),
    )


def alert_changes(baseline: list[RaisedAlert], new: list[RaisedAlert]) -> list[AlertChange]:
    """Every alert added, removed, or raised at another time, in the order of time."""
    before = {a.alert_id: a for a in baseline}
    after = {a.alert_id: a for a in new}
    changes: list[AlertChange] = []
    for alert_id in before.keys() & after.keys():
        old, now = before[alert_id], after[alert_id]
        if old.raised_at != now.raised_at:
            changes.append(_moved(old, now))
    left_before: dict[tuple[str, str], list[RaisedAlert]] = defaultdict(list)
    left_after: dict[tuple[str, str], list[RaisedAlert]] = defaultdict(list)
    for a in baseline:
        if a.alert_id not in after:
            left_before[a.rule, a.child_id].append(a)
    for a in new:
        if a.alert_id not in before:
            left_after[a.rule, a.child_id].append(a)
    for key in left_before.keys() | left_after.keys():
        olds = sorted(left_before.get(key, []), key=_when)
        nows = sorted(left_after.get(key, []), key=_when)
        for old, now in zip(olds, nows, strict=False):
            if old.raised_at != now.raised_at:
                changes.append(_moved(old, now))
        for old in olds[len(nows) :]:
            changes.append(
                AlertChange("removed", old.rule, old.child_id, old.raised_at, None, old.event_id)
            )
        for now in nows[len(olds) :]:
            changes.append(
                AlertChange("added", now.rule, now.child_id, None, now.raised_at, now.event_id)
            )
    return sorted(changes, key=_change_order)


def first_flags(baseline: list[RaisedAlert], new: list[RaisedAlert]) -> list[FirstFlag]:
    """Each (rule, child) whose first alert came at another time, or in one run only."""
    before, after = _firsts(baseline), _firsts(new)
    flags: list[FirstFlag] = []
    for rule, child in before.keys() | after.keys():
        old, now = before.get((rule, child)), after.get((rule, child))
        if old == now:
            continue
        kind: FirstFlagKind
        if old is None:
            kind = "newly flagged"
        elif now is None:
            kind = "no longer flagged"
        else:
            kind = "sooner" if now < old else "later"
        flags.append(FirstFlag(kind, rule, child, old, now))
    return sorted(flags, key=lambda f: (f.new_at or f.baseline_at, f.rule, f.child_id))


def _firsts(alerts: list[RaisedAlert]) -> dict[tuple[str, str], datetime]:
    firsts: dict[tuple[str, str], datetime] = {}
    for a in alerts:
        key = (a.rule, a.child_id)
        if key not in firsts or a.raised_at < firsts[key]:
            firsts[key] = a.raised_at
    return firsts


def disclosure_changes(
    baseline: list[MadeDisclosure], new: list[MadeDisclosure]
) -> list[DisclosureChange]:
    before = {d.disclosure_id for d in baseline}
    after = {d.disclosure_id for d in new}
    changes = [DisclosureChange("would happen", d) for d in new if d.disclosure_id not in before]
    changes += [
        DisclosureChange("would not happen", d) for d in baseline if d.disclosure_id not in after
    ]
    return sorted(changes, key=lambda c: (c.disclosure.disclosed_at, c.disclosure.disclosure_id))


def per_month(baseline: list[RaisedAlert], new: list[RaisedAlert]) -> dict[str, tuple[int, int]]:
    """Alerts a month (in the partnership's local time, as raised) under each run."""
    old = Counter(a.raised_at.strftime("%Y-%m") for a in baseline)
    now = Counter(a.raised_at.strftime("%Y-%m") for a in new)
    return {m: (old[m], now[m]) for m in sorted(old.keys() | now.keys())}


def _moved(old: RaisedAlert, now: RaisedAlert) -> AlertChange:
    kind: AlertChangeKind = "earlier" if now.raised_at < old.raised_at else "later"
    return AlertChange(kind, now.rule, now.child_id, old.raised_at, now.raised_at, now.event_id)


def _when(a: RaisedAlert) -> tuple[datetime, str]:
    return (a.raised_at, a.alert_id)


def _change_order(c: AlertChange) -> tuple[datetime, str, str, str]:
    at = c.new_at or c.baseline_at
    assert at is not None
    return (at, c.rule, c.child_id, c.change)


def _sorted(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items()))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
