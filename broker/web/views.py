"""The MASH page's materialised views: what the page shows, built from the topics.

Plain, synchronous state: `MashViews.apply(record)` folds one record read from Kafka
into it, and the queries answer the pages (the open alerts by deadline, an alert, a
child's picture and disclosures). Nothing here does I/O, so every rule of what is open
and what is closed is unit-tested without Kafka; `broker.web.feed` is the thin adapter
that reads the topics and calls `apply`.

What closes an alert, whatever order the topics are read in (a restart reads them all
again, each at its own pace):

- a `mash.decision` whose `refers_to` is the alert's id, or the event behind it (the
  first of `triggered_by`), or another alert on that same event: a decision on an alert
  is a decision on its event (as the broker's rules read it), so it answers every alert
  that event raised;
- for IDENTITY_REVIEW, an identity decision naming the alert (`review_alert_id`) or its
  held event (`event_ids`).

Any decision on the topic counts, whichever system recorded it: the page is one way
among others for the MASH to record its decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from broker.models import (
    AccessAudit,
    Alert,
    AuditDisclosure,
    IdentityDecision,
    MashDecision,
    RuleId,
    Severity,
    SocialCareStatus,
)
from broker.picture.model import ChildPicture

DUTY_TEAM: Final = "MASH duty (unallocated)"
"""The team of an alert about a child with no allocated social worker."""

SEVERITY_RANK: Final = {Severity.high: 0, Severity.medium: 1, Severity.low: 2}

_NOT_OPEN: Final = frozenset({SocialCareStatus.none, SocialCareStatus.closed})


@dataclass(frozen=True, slots=True)
class AlertSeen:
    alert: Alert


@dataclass(frozen=True, slots=True)
class DecisionSeen:
    decision: MashDecision


@dataclass(frozen=True, slots=True)
class IdentityDecisionSeen:
    decision: IdentityDecision


@dataclass(frozen=True, slots=True)
class DisclosureSeen:
    disclosure: AuditDisclosure


@dataclass(frozen=True, slots=True)
class AccessSeen:
    """A record of audit.access.v1: someone was shown a child's record on the page."""

    access: AccessAudit


@dataclass(frozen=True, slots=True)
class PictureSeen:
    """A record of the worker's child-pictures changelog; None: the child was merged
    into another (a tombstone)."""

    child_id: str
    picture: ChildPicture | None


ViewRecord = (
    AlertSeen | DecisionSeen | IdentityDecisionSeen | DisclosureSeen | AccessSeen | PictureSeen
)


@dataclass(frozen=True, slots=True)
class Closure:
    """What closed an alert: the decision, who made it, when, on which system."""

    decision: str
    decided_by: str
    decided_at: datetime
    event_id: str
    system: str
    rationale: str
    share_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueFilter:
    rule: RuleId | None = None
    severity: Severity | None = None
    team: str | None = None
    overdue_only: bool = False


@dataclass(frozen=True, slots=True)
class QueueRow:
    alert: Alert
    team: str
    time_left: timedelta | None
    """Until `due_by` (negative once overdue); None when the alert has no deadline."""

    @property
    def overdue(self) -> bool:
        return self.time_left is not None and self.time_left <= timedelta(0)


class MashViews:
    """Alerts, decisions, identity decisions, disclosures and child pictures, as read."""

    def __init__(self) -> None:
        self.version = 0
        self._alerts: dict[str, Alert] = {}
        self._alerts_by_event: dict[str, set[str]] = {}
        self._alerts_by_child: dict[str, set[str]] = {}
        self._decisions: dict[str, MashDecision] = {}
        self._decisions_by_ref: dict[str, list[MashDecision]] = {}
        self._identity: dict[str, IdentityDecision] = {}
        self._identity_by_ref: dict[str, list[IdentityDecision]] = {}
        self._disclosures: dict[str, dict[str, AuditDisclosure]] = {}
        self._pictures: dict[str, ChildPicture] = {}
        self._merged_away: set[str] = set()
        self._accesses: dict[str, AccessAudit] = {}

    # -- folding records in ------------------------------------------------------------

    def apply(self, record: ViewRecord) -> bool:
        """Fold one record in; False when it changed nothing (seen before). An access
        record changes nothing the queue shows: it is kept for the auditor's log, and
        neither moves `version` nor wakes the live queue (every page view writes one)."""
        if isinstance(record, AccessSeen):
            self._access_seen(record.access)
            return False
        changed = self._apply(record)
        if changed:
            self.version += 1
        return changed

    def _apply(
        self, record: AlertSeen | DecisionSeen | IdentityDecisionSeen | DisclosureSeen | PictureSeen
    ) -> bool:
        if isinstance(record, AlertSeen):
            return self._alert_seen(record.alert)
        if isinstance(record, DecisionSeen):
            return self._decision_seen(record.decision)
        if isinstance(record, IdentityDecisionSeen):
            return self._identity_seen(record.decision)
        if isinstance(record, DisclosureSeen):
            known = self._disclosures.setdefault(record.disclosure.child_id, {})
            if record.disclosure.disclosure_id in known:
                return False
            known[record.disclosure.disclosure_id] = record.disclosure
            return True
        return self._picture_seen(record.child_id, record.picture)

    def _access_seen(self, access: AccessAudit) -> bool:
        if access.access_id in self._accesses:
            return False
        self._accesses[access.access_id] = access
        return True

    def _alert_seen(self, alert: Alert) -> bool:
        if self._alerts.get(alert.alert_id) == alert:
            return False
        self._alerts[alert.alert_id] = alert
        self._alerts_by_event.setdefault(alert.triggered_by[0], set()).add(alert.alert_id)
        self._alerts_by_child.setdefault(alert.child.child_id, set()).add(alert.alert_id)
        return True

    def _decision_seen(self, decision: MashDecision) -> bool:
        if decision.event_id in self._decisions:
            return False
        self._decisions[decision.event_id] = decision
        self._decisions_by_ref.setdefault(decision.refers_to, []).append(decision)
        return True

    def _identity_seen(self, decision: IdentityDecision) -> bool:
        if decision.event_id in self._identity:
            return False
        self._identity[decision.event_id] = decision
        refs = [*decision.event_ids, *decision.child_ids]
        if decision.review_alert_id:
            refs.append(decision.review_alert_id)
        for ref in dict.fromkeys(refs):
            self._identity_by_ref.setdefault(ref, []).append(decision)
        return True

    def _picture_seen(self, child_id: str, picture: ChildPicture | None) -> bool:
        if picture is None:
            self._pictures.pop(child_id, None)
            self._merged_away.add(child_id)
        else:
            self._merged_away.discard(child_id)
            self._pictures[child_id] = picture
        return True

    # -- alerts ------------------------------------------------------------------------

    def alert(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def closure(self, alert: Alert) -> Closure | None:
        """The first decision that closed the alert, or None while it is open."""
        if alert.rule_id == RuleId.IDENTITY_REVIEW:
            found = [
                d
                for ref in (alert.alert_id, alert.triggered_by[0])
                for d in self._identity_by_ref.get(ref, [])
                if d.review_alert_id == alert.alert_id or alert.triggered_by[0] in d.event_ids
            ]
            if not found:
                return None
            first = min(found, key=lambda d: d.recorded_at)
            return Closure(
                first.decision.value,
                first.decided_by,
                first.recorded_at,
                first.event_id,
                first.source.system,
                first.rationale,
            )
        decisions = [d for ref in self._refs(alert) for d in self._decisions_by_ref.get(ref, [])]
        if not decisions:
            return None
        chosen = min(decisions, key=lambda d: (d.recorded_at, d.event_id))
        return Closure(
            chosen.decision.value,
            chosen.decided_by,
            chosen.recorded_at,
            chosen.event_id,
            chosen.source.system,
            chosen.rationale,
            tuple(a.value for a in chosen.share_with),
        )

    def _refs(self, alert: Alert) -> set[str]:
        """Every `refers_to` that decides this alert: itself, its event, and the other
        alerts on its event."""
        event_id = alert.triggered_by[0]
        return {alert.alert_id, event_id, *self._alerts_by_event.get(event_id, set())}

    def is_open(self, alert: Alert) -> bool:
        return self.closure(alert) is None

    def closed_with(self, alert: Alert) -> list[Alert]:
        """The other open alerts a decision on this alert would close too."""
        if alert.rule_id == RuleId.IDENTITY_REVIEW:
            return []
        others = self._alerts_by_event.get(alert.triggered_by[0], set()) - {alert.alert_id}
        found = [
            self._alerts[a] for a in others if self._alerts[a].rule_id != RuleId.IDENTITY_REVIEW
        ]
        return sorted((a for a in found if self.is_open(a)), key=lambda a: a.raised_at)

    def team(self, alert: Alert) -> str:
        """The team the alert is for: the child's allocated social care team, if any."""
        picture = self._pictures.get(alert.child.child_id)
        social = picture.socialcare if picture else None
        if social and social.allocated_worker and social.status not in _NOT_OPEN:
            return social.allocated_worker.team
        return DUTY_TEAM

    def open_queue(self, now: datetime, wanted: QueueFilter = QueueFilter()) -> list[QueueRow]:
        """Open alerts, the earliest deadline first (those without one last), then by
        severity and the order raised."""
        rows = []
        for alert in self._alerts.values():
            if not self.is_open(alert):
                continue
            left = alert.due_by - now if alert.due_by is not None else None
            row = QueueRow(alert, self.team(alert), left)
            if _wanted(row, wanted):
                rows.append(row)
        far = datetime.max.replace(tzinfo=now.tzinfo)
        return sorted(
            rows,
            key=lambda r: (
                r.alert.due_by or far,
                SEVERITY_RANK[r.alert.severity],
                r.alert.raised_at,
                r.alert.alert_id,
            ),
        )

    def facets(self, now: datetime) -> tuple[list[RuleId], list[str]]:
        """The rules and teams of the open alerts (for the queue's filters)."""
        rows = self.open_queue(now)
        rules = sorted({r.alert.rule_id for r in rows}, key=list(RuleId).index)
        return rules, sorted({r.team for r in rows})

    def alerts_for_child(self, child_id: str) -> list[Alert]:
        """Every alert about the child, the latest first."""
        found = [self._alerts[a] for a in self._alerts_by_child.get(child_id, set())]
        return sorted(found, key=lambda a: (a.raised_at, a.alert_id), reverse=True)

    # -- children ----------------------------------------------------------------------

    def picture(self, child_id: str) -> ChildPicture | None:
        return self._pictures.get(child_id)

    def merged_away(self, child_id: str) -> bool:
        return child_id in self._merged_away

    def known_child(self, child_id: str) -> bool:
        """Whether the page has anything about this child id."""
        return (
            child_id in self._pictures
            or child_id in self._merged_away
            or child_id in self._alerts_by_child
        )

    def decided_with(self, child_id: str) -> list[str]:
        """Other children named with this one in identity decisions (where a merged
        child's record went)."""
        names: dict[str, None] = {}
        for decision in self._identity_by_ref.get(child_id, []):
            names.update(dict.fromkeys(c for c in decision.child_ids if c != child_id))
        return list(names)

    # -- oversight (the report, the auditor's log) ---------------------------------------

    def all_alerts(self) -> list[Alert]:
        return list(self._alerts.values())

    def all_pictures(self) -> list[ChildPicture]:
        return list(self._pictures.values())

    def all_disclosures(self) -> list[AuditDisclosure]:
        return [d for found in self._disclosures.values() for d in found.values()]

    def all_accesses(self) -> list[AccessAudit]:
        return list(self._accesses.values())

    def disclosures(self, child_id: str) -> list[AuditDisclosure]:
        """Every disclosure about the child, the latest first."""
        found = self._disclosures.get(child_id, {}).values()
        return sorted(found, key=lambda d: (d.disclosed_at, d.disclosure_id), reverse=True)


def _wanted(row: QueueRow, wanted: QueueFilter) -> bool:
    alert = row.alert
    return (
        (wanted.rule is None or alert.rule_id == wanted.rule)
        and (wanted.severity is None or alert.severity == wanted.severity)
        and (wanted.team is None or row.team == wanted.team)
        and (not wanted.overdue_only or row.overdue)
    )
