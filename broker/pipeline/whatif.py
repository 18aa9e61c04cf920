"""The same history through the broker under several configurations, in step.

`mash-broker what-if` asks what the broker would have done had the partnership's
configuration been different. The honest answer is to run the broker again, so this
module holds no rule: each configuration gets its own `Engine` (replay's, with its own
state and replay clock), every input goes to each engine in turn, and what each
publishes is noted (`Outcomes`). An input is ingested once and the accepted event
shared: events are frozen, and ingesting does not depend on the configuration.

Only what the comparison needs is kept of each record (ids, rule, child id, times):
never names or narratives, so nothing of a child's personal data is copied out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from broker.calendar.clock import ManualClock
from broker.config.partnership import PartnershipConfig
from broker.models import Alert, AuditDisclosure, Feedback, RuleId
from broker.pipeline.engine import Engine
from broker.pipeline.ingest import Accepted, IngestResult, ingest_json
from broker.pipeline.records import OutRecord
from broker.topics import ALERTS, AUDIT_DISCLOSURE, REJECTED


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """An alert as the comparison sees it: which rule, about which child, when."""

    alert_id: str
    rule: str
    child_id: str
    raised_at: datetime
    severity: str
    event_id: str
    """The event (or deadline's event) that raised it: triggered_by's first."""


@dataclass(frozen=True, slots=True)
class MadeDisclosure:
    """A notification to an agency, as its audit record says it."""

    disclosure_id: str
    child_id: str
    to_agency: str
    event_id: str
    decided_by: str
    disclosed_at: datetime


@dataclass
class Outcomes:
    """What the broker published over the history under one configuration."""

    alerts: list[RaisedAlert] = field(default_factory=list)
    disclosures: list[MadeDisclosure] = field(default_factory=list)
    feedback: Counter[str] = field(default_factory=Counter)
    rejected: int = 0

    def note(self, record: OutRecord) -> None:
        value = record.value
        if record.topic == ALERTS.name and isinstance(value, Alert):
            self.alerts.append(
                RaisedAlert(
                    value.alert_id,
                    value.rule_id.value,
                    value.child.child_id,
                    value.raised_at,
                    value.severity.value,
                    value.triggered_by[0],
                )
            )
        elif record.topic == AUDIT_DISCLOSURE.name and isinstance(value, AuditDisclosure):
            self.disclosures.append(
                MadeDisclosure(
                    value.disclosure_id,
                    value.child_id,
                    value.to_agency.value,
                    value.event_id,
                    value.decided_by,
                    value.disclosed_at,
                )
            )
        elif isinstance(value, Feedback):
            self.feedback[value.kind.value] += 1
        elif record.topic == REJECTED.name:
            self.rejected += 1

    @property
    def identity_reviews(self) -> int:
        return sum(1 for a in self.alerts if a.rule == RuleId.IDENTITY_REVIEW)


class InStep:
    """One engine per configuration, each handed every input in the same order.

    Linking an event to a child reads no configuration (`link_step` is given none: the
    matcher's weights are the broker's, not a partnership's), so it runs once, on the
    first engine, and what it publishes is followed by every engine's own children,
    timers and rules. That is about half of a replay's work not done twice. Should
    linking ever read the configuration, `shares_linking` must say when it may be shared
    (tests/unit/test_what_if.py checks the result against separate replays)."""

    def __init__(self, configs: Mapping[str, PartnershipConfig]) -> None:
        self.engines = {name: Engine(ManualClock(), config=c) for name, c in configs.items()}
        self.outcomes = {name: Outcomes() for name in configs}
        self.inputs = 0
        self.shared_linking = shares_linking(list(configs.values()))

    def submit(self, result: IngestResult) -> None:
        self.inputs += 1
        engines = self.engines
        if not self.shared_linking or not isinstance(result, Accepted):
            for name, engine in engines.items():
                self._note(name, engine.submit_at_its_time(result))
            return
        linked: list[OutRecord] | None = None
        for name, engine in engines.items():
            engine.advance_for(result)
            records = engine.fire_timers(before=engine.clock.now())
            if linked is None:  # the first engine links, before any child hears of it
                linked = engine.link(result)
            self._note(name, records + engine.follow(linked))

    def _note(self, name: str, records: list[OutRecord]) -> None:
        noted = self.outcomes[name].note
        for record in records:
            noted(record)

    def submit_lines(self, lines: Iterable[bytes]) -> None:
        """JSON lines, as `mash-broker replay` reads them (blank lines skipped)."""
        for line in lines:
            if line.strip():
                self.submit(ingest_json(line.rstrip(b"\r\n")))

    def finish(self, until: datetime | None = None) -> dict[str, Outcomes]:
        """Each engine's clock to `until`, firing what falls due by then (as replay's
        `--until`); what each configuration published."""
        if until is not None:
            for name, engine in self.engines.items():
                engine.clock.advance_to(until)
                for record in engine.fire_timers(before=until, inclusive=True):
                    self.outcomes[name].note(record)
        return self.outcomes


def shares_linking(configs: list[PartnershipConfig]) -> bool:
    """Whether one link stage may serve every configuration: today always, as linking
    reads no configuration."""
    return bool(configs)


def outcomes_of(
    lines: Iterable[bytes], configs: Mapping[str, PartnershipConfig], until: datetime | None = None
) -> dict[str, Outcomes]:
    """Every configuration's outcomes over the JSON lines."""
    runs = InStep(configs)
    runs.submit_lines(lines)
    return runs.finish(until)
