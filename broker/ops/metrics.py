"""The broker's own metrics: what happened to the events, never what was in them.

One `Metrics` object is built by the composition root around a `CollectorRegistry` it
is handed (never prometheus_client's global one), so every worker, test and replay has
its own counts. faust's consumer-side metrics (faust.sensors.prometheus) live in the
same registry, under the `faust_` prefix; the ones here are prefixed `mash_`.

Labels are closed vocabularies only: topic names, agencies of the contract, rule ids,
severities, outcome names and reason FIELD names checked against the contract's own
field names. A label value is never taken from an event's body as it stands: a typo'd
agency becomes `unknown`, a field path segment the contract does not know becomes `*`,
so no child's name, date of birth or number can become a time series by accident.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel

from broker.models.events import EVENT_CLASSES
from broker.models.outputs import Alert, Feedback, Notification, Rejected
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import Outgoing, Sink
from broker.topics import AGENCIES

UNKNOWN = "unknown"

#: Seconds from an event's `recorded_at` to a record published because of it. Agencies
#: may publish late (hours); the broker's own part is seconds.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

#: Reason "fields" that are not fields of an event: the bytes as a whole, the broker's
#: own fault, the wire format's parts.
_NON_FIELD_REASONS = frozenset({"payload", "broker", "value", "topic"})
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class DeadlineCounts:
    """How many deadlines (timers) are due within the hour, and how many are overdue."""

    due_within_hour: int = 0
    overdue: int = 0


class StageObserver(Protocol):
    """What an agent reports per message (a `Metrics`, or `NO_OBSERVER` in tests)."""

    def event_in(self, topic: str, agency: object) -> None: ...

    def outcome(self, stage: str, outcome: str) -> None: ...

    def batch(self, stage: str, size: int) -> None:
        """One batch taken by a stage, of `size` messages."""
        ...


class _NoObserver:
    def event_in(self, topic: str, agency: object) -> None:
        return None

    def outcome(self, stage: str, outcome: str) -> None:
        return None

    def batch(self, stage: str, size: int) -> None:
        return None


NO_OBSERVER: StageObserver = _NoObserver()


class WorkerState(Protocol):
    """What the metrics read from the running worker (broker.ops.faust_state adapts faust)."""

    def lag(self) -> Mapping[tuple[str, int], int]:
        """Messages not yet processed, per (topic, partition) of the agents' sources."""
        ...

    def unfetched(self) -> int:
        """Assigned partitions of the agents' sources not fetched since assignment."""
        ...

    def recovery_complete(self) -> bool: ...

    def in_recovery(self) -> bool: ...

    def assigned_partitions(self) -> int | None: ...


@cache
def contract_field_names() -> frozenset[str]:
    """Every field name of every inbound event model, nested models included."""
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            stack: list[object] = [info.annotation]
            while stack:
                annotation = stack.pop()
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    walk(annotation)
                stack.extend(typing.get_args(annotation))

    for cls in EVENT_CLASSES.values():
        walk(cls)
    return frozenset(names | _NON_FIELD_REASONS)


def reason_label(field: str) -> str:
    """A reason's field path as a label: `concerns[2]` -> `concerns[]`, unknown parts `*`.

    Field paths come from validation and could, for a map-typed field, include a key
    chosen by the sender; only the contract's own field names pass through.
    """
    known = contract_field_names()
    parts = []
    for segment in _INDEX.sub("[]", field).split(".")[:6]:
        bare = segment.removesuffix("[]")
        parts.append(segment if bare in known else "*")
    return ".".join(parts) or "*"


def agency_label(agency: object) -> str:
    """An agency of the contract, or `unknown` (garbage bytes, a typo, a missing field)."""
    value = getattr(agency, "value", agency)
    return value if isinstance(value, str) and value in AGENCIES else UNKNOWN


class Metrics:
    """The domain metrics, registered in the registry it is given."""

    def __init__(
        self, registry: CollectorRegistry, now: Callable[[], datetime] | None = None
    ) -> None:
        self.registry = registry
        self._labelled: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._now = now or (lambda: datetime.now(UTC))
        self.events_in = Counter(
            "mash_events_in",
            "Inbound messages read by ingest, by topic and sending agency",
            ["topic", "agency"],
            registry=registry,
        )
        self.events_out = Counter(
            "mash_events_out",
            "Records published by the broker (durable), by topic",
            ["topic"],
            registry=registry,
        )
        self.rejected = Counter(
            "mash_events_rejected",
            "Records put on broker.rejected.v1, by the topic the input came from",
            ["source_topic"],
            registry=registry,
        )
        self.rejection_reasons = Counter(
            "mash_rejection_reasons",
            "Reasons given in rejections, by field (one rejection may give several)",
            ["reason"],
            registry=registry,
        )
        self.duplicates = Counter(
            "mash_duplicates",
            "Events seen again with the same event_id and content, processed once",
            registry=registry,
        )
        self.outcomes = Counter(
            "mash_stage_outcomes",
            "What each stage made of each message (accepted, rejected, linked, ...)",
            ["stage", "outcome"],
            registry=registry,
        )
        self.batch_sizes = Histogram(
            "mash_batch_size",
            "Messages a stage took at once (one round trip to Kafka for their records)",
            ["stage"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.alerts = Counter(
            "mash_alerts",
            "Alerts raised for the MASH, by rule and severity",
            ["rule_id", "severity"],
            registry=registry,
        )
        self.notifications = Counter(
            "mash_notifications",
            "Notifications sent to agencies, by recipient",
            ["agency"],
            registry=registry,
        )
        self.feedback = Counter(
            "mash_feedback",
            "Feedback sent to publishing agencies, by recipient and kind",
            ["agency", "kind"],
            registry=registry,
        )
        self.latency = Histogram(
            "mash_end_to_end_latency_seconds",
            "From an event's recorded_at to a record published because of it, by topic",
            ["topic"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.rebalances = Counter(
            "mash_worker_rebalances",
            "Partition assignments this worker received (each consumer-group rebalance)",
            registry=registry,
        )
        self.kafka_reachable = Gauge(
            "mash_kafka_reachable",
            "1 when the last metadata request to Kafka answered in time",
            registry=registry,
        )
        self.ready = Gauge(
            "mash_worker_ready",
            "1 when the worker was last found ready (Kafka, partitions, recovery)",
            registry=registry,
        )
        self.stuck = Gauge(
            "mash_worker_stuck",
            "1 once the worker had messages waiting and handled none for MASH_STUCK_SECONDS "
            "(broker.ops.watchdog): its liveness fails and it is restarted",
            registry=registry,
        )
        self.handled = 0
        """Messages the stages have handled, every outcome (the watchdog's count)."""
        self._deadlines: Callable[[], DeadlineCounts] = DeadlineCounts
        due = Gauge(
            "mash_deadlines_due_within_hour",
            "Deadlines (timers) falling due within the next hour",
            registry=registry,
        )
        overdue = Gauge(
            "mash_deadlines_overdue",
            "Deadlines (timers) passed without the action they wait for",
            registry=registry,
        )
        due.set_function(lambda: self._deadlines().due_within_hour)
        overdue.set_function(lambda: self._deadlines().overdue)

    # -- hooks for what is only known once the worker runs ------------------------------

    def watch_deadlines(self, counts: Callable[[], DeadlineCounts]) -> None:
        """Where the deadline gauges read from (the timers, once they exist); 0 until then."""
        self._deadlines = counts

    def watch_worker(self, state: WorkerState) -> None:
        """Consumer lag, table recovery and assignment, read at scrape time."""
        self.registry.register(_WorkerCollector(state))

    def _series(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)` (in the order of its label names), looked up once: the
        agents report every message and every record, and prometheus_client validates
        and converts the labels at each lookup (a profile of the worker under load)."""
        key = (id(metric), values)
        series = self._labelled.get(key)
        if series is None:
            series = self._labelled[key] = metric.labels(*values)
        return series

    # -- what the agents and the sink report --------------------------------------------

    def event_in(self, topic: str, agency: object) -> None:
        self._series(self.events_in, topic, agency_label(agency)).inc()

    def batch(self, stage: str, size: int) -> None:
        self._series(self.batch_sizes, stage).observe(size)

    def outcome(self, stage: str, outcome: str) -> None:
        self._series(self.outcomes, stage, outcome).inc()
        self.handled += 1
        if outcome == "duplicate":
            self.duplicates.inc()

    def record_published(self, record: OutRecord, recorded_at: datetime | None = None) -> None:
        """Count one durable record by what it is: rejection, alert, notification, feedback.

        Called by `MeteredSink` after the record is acknowledged, so the counts are of
        what consumers can actually read.
        """
        self._series(self.events_out, record.topic).inc()
        value = record.value
        if isinstance(value, Rejected):
            self.rejected.labels(source_topic=value.topic or UNKNOWN).inc()
            for reason in sorted({reason_label(p.field) for p in value.reasons}):
                self.rejection_reasons.labels(reason=reason).inc()
        elif isinstance(value, Alert):
            self._series(self.alerts, str(value.rule_id), str(value.severity)).inc()
        elif isinstance(value, Notification):
            self._series(self.notifications, agency_label(value.to_agency)).inc()
        elif isinstance(value, Feedback):
            self._series(self.feedback, agency_label(value.to_agency), str(value.kind)).inc()
        when = recorded_at or _recorded_at(value)
        if when is not None:
            elapsed = (self._now() - when).total_seconds()
            self._series(self.latency, record.topic).observe(max(0.0, elapsed))


def _recorded_at(value: BaseModel) -> datetime | None:
    when = getattr(value, "recorded_at", None)
    return when if isinstance(when, datetime) and when.tzinfo is not None else None


class MeteredSink:
    """A sink that counts what the sink it wraps has made durable."""

    def __init__(self, inner: Sink, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        await self._inner.send(record, recorded_at=recorded_at)
        self._metrics.record_published(record, recorded_at)

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        await self._inner.send_all(records)
        for record, recorded_at in records:
            self._metrics.record_published(record, recorded_at)


class _WorkerCollector(Collector):
    """Gauges computed when scraped, from the worker's live state (never cached)."""

    def __init__(self, state: WorkerState) -> None:
        self._state = state

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # names are not known before the first scrape (partitions vary)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "mash_consumer_lag",
            "Messages behind the end of the partition (highwater - committed offset)",
            labels=["topic", "partition"],
        )
        for (topic, partition), behind in sorted(self._state.lag().items()):
            lag.add_metric([topic, str(partition)], behind)
        yield lag
        yield GaugeMetricFamily(
            "mash_partitions_unfetched",
            "Assigned partitions of the agents' sources not fetched since their assignment "
            "(held and not read: left out of mash_consumer_lag)",
            value=self._state.unfetched(),
        )
        yield GaugeMetricFamily(
            "mash_table_recovery_complete",
            "1 once the tables have been recovered from their changelogs",
            value=int(self._state.recovery_complete()),
        )
        yield GaugeMetricFamily(
            "mash_table_recovery_in_progress",
            "1 while tables are being recovered (after a start or a rebalance)",
            value=int(self._state.in_recovery()),
        )
        assigned = self._state.assigned_partitions()
        yield GaugeMetricFamily(
            "mash_assigned_partitions",
            "Partitions (sources and changelogs) actively assigned to this worker",
            value=assigned if assigned is not None else 0,
        )
