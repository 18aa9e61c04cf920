"""Operations on the real Kafka: watch the streams without seeing a child.

The real `mash-broker worker` process, with its web server on a free port, is fed a
known mix (good events, invalid ones with known reasons, a duplicate, an event on the
wrong topic, garbage bytes) full of recognisable personal data. `/metrics` must count
exactly what was published; no name, date of birth, NHS number, postcode or narrative
may appear in the worker's log, `/metrics`, `/ops`, `/ops.json` or `mash-broker status`;
and readiness must follow Kafka down and up again.

The inbound topics are shared by the whole session (earlier tests published to them),
and a new consumer group reads them from the beginning: counts are therefore taken as
differences from a baseline read once the worker has caught up (lag 0, counts still).
The worker and its traffic are shared by the tests of this module; the test that stops
Kafka runs last.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from broker.kafka.local import LocalKafka
from tests.integration.conftest import free_ports
from tests.integration.worker import CODEC, WorkerProcess, read_topic, run, worker_env
from tests.unit.test_ingest import GOOD

# Personal data that must never show where an operator looks.
GIVEN, FAMILY = "Zephyrine", "Quillfeather"
DOB, FUTURE_DOB = "2012-03-04", "2027-01-01"
NHS, BAD_NHS = "9434765919", "9434765910"
POSTCODE = "ZE2 9QX"
NARRATIVE = "Officers found Zephyrine by the marmalade lighthouse on Quillfeather Lane."
PERSONAL = (GIVEN, FAMILY, DOB, FUTURE_DOB, NHS, BAD_NHS, POSTCODE, "marmalade lighthouse")

SOURCES = ("police.vist.v1", "yot.referral.v1", "health.update.v1", "broker.accepted.v1")

Counts = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class OpsWorker:
    process: WorkerProcess
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass
class Published:
    """What the module published, and the counts before it did."""

    run_id: str
    baseline: Counts
    after: Counts


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def counts(text: str) -> Counts:
    out: Counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(snapshot: Counts, name: str, **labels: str) -> float:
    return snapshot.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(a: Counts, b: Counts, name: str, **labels: str) -> float:
    return value(b, name, **labels) - value(a, name, **labels)


def scrape(worker: OpsWorker) -> Counts:
    status, text = get(worker.url("/metrics"))
    assert status == 200, worker.process.tail()
    return counts(text)


def poll(check: Callable[[], bool], timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def settled(worker: OpsWorker, timeout: float = 90) -> Counts:
    """The counts once the worker has caught up: every source at lag 0, nothing moving."""
    previous: list[Counts] = []

    def still() -> bool:
        now = scrape(worker)
        lags = [value(now, "mash_consumer_lag", topic=t, partition="0") for t in SOURCES]
        present = all(
            ("mash_consumer_lag", (("partition", "0"), ("topic", t))) in now for t in SOURCES
        )
        moving = {k: v for k, v in now.items() if k[0].startswith(("mash_events", "mash_dup"))}
        steady = bool(previous) and previous[-1] == moving
        previous.append(moving)
        return present and not any(lags) and steady

    assert poll(still, timeout, every=2.0), worker.process.tail()
    return scrape(worker)


def event(event_id: str, narrative: str = NARRATIVE, **subject: Any) -> dict[str, Any]:
    data = deepcopy(GOOD)
    data["event_id"] = event_id
    data["narrative"] = narrative
    data["subject"].update(
        given_name=GIVEN, family_name=FAMILY, date_of_birth=DOB, nhs_number=NHS, postcode=POSTCODE
    )
    data["subject"].update(subject)
    return data


def the_mix(run_id: str) -> list[tuple[str, bytes]]:
    """(topic, bytes) in publishing order; one partition keeps the order."""

    def vist(data: dict[str, Any], topic: str = "police.vist.v1") -> tuple[str, bytes]:
        return topic, CODEC.encode_dict("police.vist", data, topic=topic)

    first = vist(event(f"ops-good1-{run_id}"))
    return [
        first,
        vist(event(f"ops-good2-{run_id}", given_name="Ottoline")),
        vist(event(f"ops-good3-{run_id}", family_name="Ravenscroft")),
        vist(event(f"ops-badnhs-{run_id}", nhs_number=BAD_NHS)),  # subject.nhs_number
        vist(event(f"ops-future-{run_id}", date_of_birth=FUTURE_DOB)),  # subject.date_of_birth
        first,  # the same event again: a duplicate
        vist(event(f"ops-wrongtopic-{run_id}"), topic="yot.referral.v1"),  # event_type
        ("health.update.v1", f"\x07\x01{GIVEN} {FAMILY} {DOB} {NHS} {run_id}".encode()),  # payload
    ]


async def send_all(bootstrap: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, raw in messages:
            await producer.send_and_wait(topic, raw)
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def ops_worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpsWorker]:
    tmp = tmp_path_factory.mktemp("ops")
    env = worker_env(kafka_bootstrap, tmp / "state", f"mash-ops-{uuid.uuid4().hex[:8]}")
    [port] = free_ports(1)
    env["MASH_WORKER_WEB_PORT"] = str(port)
    worker = OpsWorker(WorkerProcess(env, tmp / "worker.log"), port)
    worker.process.start()
    ready = poll(lambda: get(worker.url("/health/ready"))[0] == 200, timeout=90)
    assert ready, worker.process.tail()
    yield worker
    worker.process.stop()


@pytest.fixture(scope="module")
def published(kafka_bootstrap: str, ops_worker: OpsWorker) -> Published:
    baseline = settled(ops_worker)
    run_id = uuid.uuid4().hex[:8]
    run(send_all(kafka_bootstrap, the_mix(run_id)))

    def counted() -> bool:  # the last message of each topic and stage has been counted
        now = scrape(ops_worker)
        garbage = {"topic": "health.update.v1", "agency": "unknown"}
        wrong_topic = {"topic": "yot.referral.v1", "agency": "police"}
        return (
            delta(baseline, now, "mash_events_in_total", **garbage) >= 1
            and delta(baseline, now, "mash_events_in_total", **wrong_topic) >= 1
            and delta(baseline, now, "mash_duplicates_total") >= 1
        )

    assert poll(counted, timeout=60), ops_worker.process.tail()
    return Published(run_id, baseline, settled(ops_worker))


def test_metrics_count_exactly_what_was_published(published: Published) -> None:
    a, b = published.baseline, published.after
    assert delta(a, b, "mash_events_in_total", topic="police.vist.v1", agency="police") == 6
    assert delta(a, b, "mash_events_in_total", topic="yot.referral.v1", agency="police") == 1
    assert delta(a, b, "mash_events_in_total", topic="health.update.v1", agency="unknown") == 1
    for reason in ("subject.nhs_number", "subject.date_of_birth", "event_type", "payload"):
        assert delta(a, b, "mash_rejection_reasons_total", reason=reason) == 1, reason
    assert delta(a, b, "mash_events_rejected_total", source_topic="police.vist.v1") == 2
    assert delta(a, b, "mash_events_rejected_total", source_topic="yot.referral.v1") == 1
    assert delta(a, b, "mash_events_rejected_total", source_topic="health.update.v1") == 1
    assert delta(a, b, "mash_duplicates_total") == 1
    assert delta(a, b, "mash_events_out_total", topic="broker.accepted.v1") == 4
    # three events reach their child (ticks for deadlines may follow on the same topic)
    assert delta(a, b, "mash_stage_outcomes_total", stage="child", outcome="event") == 3
    assert delta(a, b, "mash_events_out_total", topic="broker.linked.v1") >= 3
    assert delta(a, b, "mash_events_out_total", topic="broker.rejected.v1") == 4
    assert delta(a, b, "mash_events_out_total", topic="agency.police.feedback.v1") == 3
    # faust's own consumer-side metrics are served beside ours (with every stage a loop,
    # faust's consumer reads none of the stages' topics: counted, and 0)
    assert ("faust_messages_received_total", ()) in b


def test_a_worker_caught_up_has_fetched_every_partition_it_holds(published: Published) -> None:
    after = published.after
    assert ("mash_partitions_unfetched", ()) in after  # served, and 0: nothing held unread
    assert value(after, "mash_partitions_unfetched") == 0


def test_alerts_by_rule_and_severity_match_the_alerts_published(
    kafka_bootstrap: str, published: Published
) -> None:
    """Every alert the worker published about this run's events is counted once, under
    its rule and severity (the mix raises some: the notices are about a child nobody
    was told of, and their decisions are long overdue on the wall clock)."""
    run_id = published.run_id

    def ours(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in records if any(run_id in t for t in r["value"]["triggered_by"])]

    def complete(records: list[dict[str, Any]]) -> bool:
        found = ours(records)
        return len(found) >= sum(
            delta(published.baseline, published.after, "mash_alerts_total", **labels)
            for labels in _alert_labels(published.after)
        )

    alerts = ours(run(read_topic(kafka_bootstrap, "mash.alert.v1", complete, timeout=30)))
    assert alerts, "the mix raises alerts"
    published_counts: dict[tuple[str, str], int] = {}
    for record in alerts:
        key = (record["value"]["rule_id"], record["value"]["severity"])
        published_counts[key] = published_counts.get(key, 0) + 1
    counted = {
        (labels["rule_id"], labels["severity"]): delta(
            published.baseline, published.after, "mash_alerts_total", **labels
        )
        for labels in _alert_labels(published.after)
    }
    assert {k: v for k, v in counted.items() if v} == published_counts


def _alert_labels(snapshot: Counts) -> list[dict[str, str]]:
    return [dict(labels) for (name, labels) in snapshot if name == "mash_alerts_total"]


def test_no_deadline_is_left_overdue_once_the_worker_has_caught_up(
    ops_worker: OpsWorker, published: Published
) -> None:
    """The notices' decision deadlines passed long ago on the wall clock: the ticker
    fires them, so the backlog of passed-but-unfired deadlines drains to nothing."""
    assert poll(lambda: value(scrape(ops_worker), "mash_deadlines_overdue") == 0, 30)
    text = get(ops_worker.url("/metrics"))[1]
    assert "mash_deadlines_due_within_hour " in text


def test_no_personal_data_where_an_operator_looks(
    ops_worker: OpsWorker, published: Published
) -> None:
    seen: dict[str, str] = {}
    for path in ("/metrics", "/ops", "/ops.json", "/health/ready", "/health/live"):
        status, text = get(ops_worker.url(path))
        assert status in (200, 503), path
        seen[path] = text
    figures = json.loads(seen["/ops.json"])
    assert {r["reason"] for r in figures["rejections_by_reason"]} >= {
        "subject.nhs_number",
        "subject.date_of_birth",
        "event_type",
        "payload",
    }
    for flag in ((), ("--json",)):
        status_cmd = subprocess.run(
            [sys.executable, "-m", "broker.cli", "status", *flag],
            env=ops_worker.process.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status_cmd.returncode == 0, status_cmd.stderr
        seen[f"status {flag}"] = status_cmd.stdout + status_cmd.stderr
    assert "Rejections by reason" in seen["status ()"]
    log = ops_worker.process.log.read_text(errors="replace")
    assert "event rejected" in log  # the log does speak of the rejections...
    seen["worker log"] = log
    for where, text in seen.items():
        for personal in PERSONAL:
            assert personal not in text, f"{personal!r} in {where}"
    for line in log.splitlines():  # ...and every line is JSON, faust's and aiokafka's too
        json.loads(line)


def test_rejection_reasons_name_fields_never_values(
    kafka_bootstrap: str, published: Published
) -> None:
    """The reasons (exception messages made data) go to the sender and the rejected topic:
    they say what is wrong with which field, never what the field held."""

    def mine(record: dict[str, Any]) -> bool:
        value = record["value"]
        return published.run_id in (value.get("event_id") or "") or (
            published.run_id.encode() in (record["raw"] or b"")
        )

    records = run(
        read_topic(kafka_bootstrap, "broker.rejected.v1", lambda rs: sum(map(mine, rs)) >= 4)
    )
    reasons = [r["value"]["reasons"] for r in records if mine(r)]
    assert len(reasons) == 4
    text = json.dumps(reasons)
    for personal in PERSONAL:
        assert personal not in text, personal


def test_readiness_follows_kafka_down_and_up(kafka: LocalKafka, ops_worker: OpsWorker) -> None:
    def ready_is(code: int) -> Callable[[], bool]:
        return lambda: get(ops_worker.url("/health/ready"), timeout=5)[0] == code

    assert poll(ready_is(200), timeout=60), ops_worker.process.tail()
    kafka.stop()
    try:
        assert poll(ready_is(503), timeout=30), ops_worker.process.tail()
        body = json.loads(get(ops_worker.url("/health/ready"))[1])
        assert body["kafka_reachable"] is False
        assert get(ops_worker.url("/health/live"))[0] == 200  # alive: leave it be
    finally:
        kafka.start()
    assert poll(ready_is(200), timeout=90), ops_worker.process.tail()
    assert ops_worker.process.alive()
