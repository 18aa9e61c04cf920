"""The domain metrics: counts by closed labels, in a registry of their own.

Every test builds its own `CollectorRegistry`, as the composition root does, so no test
sees another's counts and nothing is registered in prometheus_client's global registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from agents.ingest import handle_inbound
from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.models.common import Agency, ConsentStatus, FeedbackKind, RuleId, Severity
from broker.models.events import parse_event
from broker.models.outputs import (
    Alert,
    ChildRef,
    Feedback,
    Notification,
    NotifiedChild,
    ProblemOut,
    Rejected,
)
from broker.ops.metrics import (
    DeadlineCounts,
    MeteredSink,
    Metrics,
    agency_label,
    contract_field_names,
    reason_label,
)
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import MemorySink
from broker.settings import Settings
from tests.unit.test_ingest import GOOD

NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry(), now=lambda: NOW)


def rejected(*fields: str, topic: str | None = "police.vist.v1") -> OutRecord:
    reasons = [ProblemOut(field=f, message="is not valid") for f in fields]
    value = Rejected(
        rejection_id="rej-1", topic=topic, reasons=reasons, original=b"x", rejected_at=NOW
    )
    return OutRecord("broker.rejected.v1", "rej-1", value)


def test_reason_labels_are_field_names_of_the_contract_only() -> None:
    assert reason_label("subject.nhs_number") == "subject.nhs_number"
    assert reason_label("concerns[2]") == "concerns[]"
    assert reason_label("payload") == "payload"
    # a segment the contract does not know (a map key a sender chose) never passes
    assert reason_label("subject.Zephyrine") == "subject.*"
    assert reason_label("9434765919") == "*"
    assert {"nhs_number", "date_of_birth", "postcode", "vist_id"} <= contract_field_names()


def test_agency_labels_are_agencies_of_the_contract_or_unknown() -> None:
    assert agency_label("police") == "police"
    assert agency_label(Agency.school) == "school"
    assert agency_label(None) == "unknown"
    assert agency_label("Zephyrine Quillfeather") == "unknown"


def test_rejections_count_once_per_reason_field(metrics: Metrics) -> None:
    metrics.record_published(rejected("subject.nhs_number", "rag", "concerns[0]", "concerns[3]"))
    metrics.record_published(rejected("payload", topic=None))
    assert sample(metrics, "mash_rejection_reasons_total", reason="subject.nhs_number") == 1
    assert sample(metrics, "mash_rejection_reasons_total", reason="concerns[]") == 1
    assert sample(metrics, "mash_rejection_reasons_total", reason="payload") == 1
    assert sample(metrics, "mash_events_rejected_total", source_topic="police.vist.v1") == 1
    assert sample(metrics, "mash_events_rejected_total", source_topic="unknown") == 1
    assert sample(metrics, "mash_events_out_total", topic="broker.rejected.v1") == 2


def test_alerts_notifications_and_feedback_are_counted_from_published_records(
    metrics: Metrics,
) -> None:
    child = ChildRef(
        child_id="child-1", given_name="Zephyrine", family_name="Quillfeather",
        date_of_birth=datetime(2012, 3, 4).date(),
    )  # fmt: skip
    alert = Alert(
        alert_id="a-1", rule_id=RuleId.DECISION_OVERDUE, severity=Severity.high, child=child,
        triggered_by=["e-1"], summary="s", explanation="e", recommended_action="r",
        raised_at=NOW,
    )  # fmt: skip
    notified = NotifiedChild(
        given_name="Zephyrine", family_name="Quillfeather", date_of_birth=child.date_of_birth
    )
    notification = Notification(
        notification_id="n-1", event_id="e-1", event_type="police.vist",
        to_agency=Agency.school, child=notified, summary="s", lawful_basis="b",
        consent=ConsentStatus.not_sought,
    )  # fmt: skip
    feedback = Feedback(
        feedback_id="f-1", to_agency=Agency.yot, kind=FeedbackKind.incomplete, created_at=NOW
    )
    metrics.record_published(OutRecord("mash.alert.v1", "child-1", alert))
    metrics.record_published(OutRecord("agency.school.notification.v1", "child-1", notification))
    metrics.record_published(OutRecord("agency.yot.feedback.v1", "e-1", feedback))
    labels = {"rule_id": "DECISION_OVERDUE", "severity": "high"}
    assert sample(metrics, "mash_alerts_total", **labels) == 1
    assert sample(metrics, "mash_notifications_total", agency="school") == 1
    assert sample(metrics, "mash_feedback_total", agency="yot", kind="incomplete") == 1
    exposition = generate_latest(metrics.registry).decode()
    assert "Zephyrine" not in exposition
    assert "2012-03-04" not in exposition


def test_latency_runs_from_recorded_at_to_publication(metrics: Metrics) -> None:
    event = parse_event(GOOD)
    metrics.record_published(OutRecord("broker.accepted.v1", "pol-1", event))
    metrics.record_published(
        rejected("payload"), recorded_at=NOW - timedelta(seconds=30)
    )  # given explicitly when the record itself has no recorded_at
    expected = (NOW - event.recorded_at).total_seconds()
    topic = {"topic": "broker.accepted.v1"}
    assert sample(metrics, "mash_end_to_end_latency_seconds_sum", **topic) == expected
    assert sample(metrics, "mash_end_to_end_latency_seconds_count", **topic) == 1
    rejected_sum = "mash_end_to_end_latency_seconds_sum"
    assert sample(metrics, rejected_sum, topic="broker.rejected.v1") == 30
    future = deepcopy(GOOD) | {"recorded_at": "2026-05-19T14:00:00+01:00"}  # a fast clock
    metrics.record_published(OutRecord("broker.linked.v1", "c", parse_event(future)))
    assert sample(metrics, rejected_sum, topic="broker.linked.v1") == 0  # never negative


def test_duplicates_are_a_link_outcome(metrics: Metrics) -> None:
    metrics.outcome("link", "linked")
    metrics.outcome("link", "duplicate")
    assert sample(metrics, "mash_duplicates_total") == 1
    assert sample(metrics, "mash_stage_outcomes_total", stage="link", outcome="linked") == 1


@pytest.mark.asyncio
async def test_the_metered_sink_counts_only_what_the_inner_sink_accepted(
    metrics: Metrics,
) -> None:
    inner = MemorySink()
    sink = MeteredSink(inner, metrics)
    await sink.send(rejected("payload"))
    assert len(inner.records) == 1
    assert sample(metrics, "mash_events_out_total", topic="broker.rejected.v1") == 1

    class Broken:
        async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
            raise ConnectionError("Kafka away")

    with pytest.raises(ConnectionError):
        await MeteredSink(Broken(), metrics).send(rejected("payload"))
    assert sample(metrics, "mash_events_out_total", topic="broker.rejected.v1") == 1


@pytest.mark.asyncio
async def test_ingest_reports_topic_and_agency_of_each_message(metrics: Metrics) -> None:
    codec = AvroCodec(Settings().schemas_dir)
    raw = codec.encode(parse_event(GOOD), topic="police.vist.v1")
    clock = ManualClock(NOW)
    sink = MeteredSink(MemorySink(), metrics)
    await handle_inbound(raw, "police.vist.v1", codec, sink, clock, observer=metrics)
    await handle_inbound(b"\x07garbage", "health.update.v1", codec, sink, clock, observer=metrics)
    police = {"topic": "police.vist.v1", "agency": "police"}
    assert sample(metrics, "mash_events_in_total", **police) == 1
    garbage = {"topic": "health.update.v1", "agency": "unknown"}
    assert sample(metrics, "mash_events_in_total", **garbage) == 1
    assert sample(metrics, "mash_rejection_reasons_total", reason="payload") == 1


def test_deadline_gauges_read_the_hook_and_are_zero_until_there_is_one(
    metrics: Metrics,
) -> None:
    assert sample(metrics, "mash_deadlines_due_within_hour") == 0
    assert sample(metrics, "mash_deadlines_overdue") == 0
    metrics.watch_deadlines(lambda: DeadlineCounts(due_within_hour=3, overdue=1))
    assert sample(metrics, "mash_deadlines_due_within_hour") == 3
    assert sample(metrics, "mash_deadlines_overdue") == 1


class FakeWorker:
    def __init__(self, lag: Mapping[tuple[str, int], int], unfetched: int = 0) -> None:
        self._lag = lag
        self._unfetched = unfetched

    def lag(self) -> Mapping[tuple[str, int], int]:
        return self._lag

    def unfetched(self) -> int:
        return self._unfetched

    def recovery_complete(self) -> bool:
        return False

    def in_recovery(self) -> bool:
        return True

    def assigned_partitions(self) -> int | None:
        return None


def test_worker_state_is_read_at_scrape_time(metrics: Metrics) -> None:
    lags = {("police.vist.v1", 0): 7}
    metrics.watch_worker(FakeWorker(lags, unfetched=2))
    assert sample(metrics, "mash_consumer_lag", topic="police.vist.v1", partition="0") == 7
    assert sample(metrics, "mash_partitions_unfetched") == 2
    lags[("police.vist.v1", 0)] = 0
    assert sample(metrics, "mash_consumer_lag", topic="police.vist.v1", partition="0") == 0
    assert sample(metrics, "mash_table_recovery_in_progress") == 1
    assert sample(metrics, "mash_table_recovery_complete") == 0
    assert sample(metrics, "mash_assigned_partitions") == 0


def test_each_registry_is_its_own_and_the_global_one_is_untouched() -> None:
    one, two = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    one.outcome("link", "duplicate")
    assert sample(one, "mash_duplicates_total") == 1
    assert sample(two, "mash_duplicates_total") == 0
    assert REGISTRY.get_sample_value("mash_duplicates_total") is None
