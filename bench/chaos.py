"""`python -m bench.chaos`: the broker under random faults, checked against replay.

A benchmark, not a test (a CI-sized run is tests/integration/test_chaos_ci.py). It starts
a Kafka of its own, two workers of one group (bench/chaos_group.py) on the event clock,
and a producer sending the synthetic council's events (bench/council.py), with hostile
records mixed in (bench/chaos_fuzz.py), at a steady rate. Meanwhile a seeded schedule of
faults: `--kills` SIGKILLs of a random worker at random moments, each restarted after a
random pause, recovery measured after each (probes: bench/chaos_group.py); one restart
of Kafka half-way; one worker paused (SIGSTOP) past the session timeout so the group
rebalances around it; and one worker's state directory made unwritable
(bench/chaos_disk.py: it must stop, exit 75, and come back once it can write). At the
end the outputs are compared with replay of exactly the events Kafka accepted
(bench/chaos_compare.py) and the figures printed.

One Kafka broker, not three: `broker.kafka.local.LocalKafka` runs a single KRaft node,
and the machine this was written on has two cores shared with other work; three brokers
and two workers would measure the machine's contention more than the broker. The
topics have replication factor 1 here; production's 3 and min ISR 2 are in deploy/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.chaos_compare import Verdict, compare, expected, read_all, settled_outputs
from bench.chaos_disk import DiskFault, unwritable_state
from bench.chaos_fuzz import Hostile, expected_outcome, hostile_records
from bench.chaos_group import CODEC, AlertWatch, Group, Probes, publish, recovery_after, wait
from bench.council import Council
from bench.live_kafka import free_port, scrape
from broker.errors import InvalidInput
from broker.kafka.admin import create_topics
from broker.kafka.jars import ensure_jars
from broker.kafka.local import LocalKafka
from broker.kafka.publish import partition_key
from broker.kafka.tables import PICTURES, changelog_topic
from broker.models import to_json_dict
from broker.models.events import parse_event
from broker.settings import PROJECT_ROOT, Settings
from broker.topics import (
    ACCEPTED,
    INBOUND_TOPICS,
    LINKED,
    all_topics,
    link_state_topic,
    topic_for_event_type,
)

PARTITIONS = 4
LINK_STAGE: str = Settings.model_fields["link_stage"].default
CHILD_STAGE: str = Settings.model_fields["child_stage"].default
SESSION_TIMEOUT = 10.0


@dataclass
class Plan:
    seed: int = 1
    kills: int = 50
    events: int = 3000
    hostile: int = 500
    rate: float = 8.0
    """Records a second from the producer."""
    pause: bool = True
    kafka_restart: bool = True
    disk: bool = True
    """One worker's state directory made unwritable (bench/chaos_disk.py)."""
    keep: Path | None = None
    """Where to leave the outputs, replay's records and the workers' logs."""
    link_stage: str = LINK_STAGE
    """The workers' MASH_LINK_STAGE: `loop` (the transactional loop,
    broker/kafka/link_loop.py) or `faust` (the link agent); the worker's default if not
    said."""
    child_stage: str = CHILD_STAGE
    """The workers' MASH_CHILD_STAGE (broker/kafka/child_loop.py), likewise."""


@dataclass
class Stream:
    """The records to send, in order: the council's events with hostile ones mixed in."""

    items: list[tuple[str, bytes, bytes, str]]
    """(topic, key, value, kind): kind is 'event' or the hostile record's kind."""
    sent: int = 0
    last_time: datetime | None = None
    times: list[datetime] = field(default_factory=list)

    @classmethod
    def build(cls, plan: Plan) -> Stream:
        rng = random.Random(f"chaos-{plan.seed}")
        valid = council_events(plan.seed, plan.events)
        items = [_event_item(e) for e in valid]
        times = [datetime.fromisoformat(e["recorded_at"]) for e in valid]
        for record in hostile_records(rng, valid, plan.hostile, CODEC):
            at = rng.randrange(len(items) + 1)
            items.insert(at, (record.topic, record.key, record.value, record.kind))
            times.insert(at, times[max(0, at - 1)] if times else datetime.now())
        return cls(items, times=times)


def council_events(seed: int, count: int) -> list[dict[str, Any]]:
    """The council's events, less the lines it spoils on purpose (the fuzzer's job)."""
    found = []
    for line in Council(seed=seed, events=count).lines():
        try:
            event = json.loads(line)
            parse_event(event)
        except (ValueError, InvalidInput):
            continue
        found.append(event)
    return found


def _event_item(event: dict[str, Any]) -> tuple[str, bytes, bytes, str]:
    model = parse_event(event)
    topic = topic_for_event_type(model.event_type)
    assert topic is not None
    return topic, partition_key(model).encode(), CODEC.encode(model, topic=topic), "event"


class Producer(threading.Thread):
    """Sends the stream at `rate` a second; a failed send is tried again until it goes
    (Kafka restarting): what is on the topics at the end is what counts."""

    def __init__(self, bootstrap: str, stream: Stream, rate: float) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.stream, self.rate = bootstrap, stream, rate
        self.stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self._send())

    async def _send(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            max_request_size=2_000_000,
        )
        await producer.start()
        started = time.monotonic()
        try:
            for n, (topic, key, value, _kind) in enumerate(self.stream.items):
                if self.stopping.is_set():
                    return
                while time.monotonic() < started + n / self.rate:
                    await asyncio.sleep(0.01)
                while not self.stopping.is_set():
                    try:
                        await producer.send_and_wait(topic, value, key=key)
                        break
                    except Exception:  # Kafka away: try again, as an agency's system would
                        await asyncio.sleep(0.5)
                self.stream.sent = n + 1
                self.stream.last_time = self.stream.times[n]
        finally:
            await producer.stop()


class Readiness(threading.Thread):
    """Looks at every worker's /health/ready twice a second; a look that finds one not
    ready while no fault is under way (`faulting` clear) counts against the broker."""

    def __init__(self, group: Group) -> None:
        super().__init__(daemon=True)
        self.group = group
        self.faulting = threading.Event()
        self.stopping = threading.Event()
        self.looks = 0
        self.not_ready = 0

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            if self.faulting.is_set():
                continue
            ready = all(w.ready() for w in self.group.workers)
            if self.faulting.is_set():
                continue  # a fault began during the look
            self.looks += 1
            self.not_ready += not ready


@dataclass
class Report:
    seed: int
    kills: int
    recoveries: list[float | None]
    verdict: Verdict
    outcomes: Counter[tuple[str, str]]
    sent: int
    seconds: float
    late_deadlines: list[float]
    personal_data_in_logs: int
    readiness: tuple[int, int]
    """(looks at the workers' readiness outside faults, looks that found one not ready)"""
    notes: list[str]
    disk_faults: list[DiskFault] = field(default_factory=list)

    def lines(self) -> list[str]:
        measured = [r for r in self.recoveries if r is not None]
        verdict = self.verdict
        out = [
            f"chaos seed {self.seed}: {self.kills} SIGKILLs, {self.sent} records sent, "
            f"{self.seconds:.0f} s",
            f"  lost {verdict.lost}, duplicated {verdict.duplicated}, changed {verdict.changed}"
            f" (re-sent byte for byte after a crash: {verdict.resent})",
            f"  refusals lost {verdict.refusals_lost}, changed {verdict.refusals_changed}"
            f" (re-sent: {verdict.refusals_resent})",
        ]
        if measured:
            out.append(
                f"  recovery after a kill: median {statistics.median(measured):.1f} s, "
                f"max {max(measured):.1f} s, not recovered within 120 s: "
                f"{self.recoveries.count(None)}"
            )
        late = self.late_deadlines
        out.append(
            f"  deadlines fired late: {len(late)}"
            + (f" (by at most {max(late):.0f} s)" if late else "")
        )
        out.append(f"  personal data in worker logs: {self.personal_data_in_logs} line(s)")
        looks, not_ready = self.readiness
        out.append(f"  readiness outside faults: not ready at {not_ready} of {looks} looks")
        out += [f"  {fault.line()}" for fault in self.disk_faults]
        out.append("  hostile records by kind and outcome:")
        out += [
            f"    {kind}: {outcome} {n}" for (kind, outcome), n in sorted(self.outcomes.items())
        ]
        out += [f"  {note}" for note in self.notes]
        out += [f"  e.g. {e}" for e in verdict.examples]
        return out


def run(plan: Plan, root: Path, kafka: LocalKafka | None = None) -> Report:
    """The run, on `kafka` (a fresh one of its own when None, stopped at the end)."""
    started = time.monotonic()
    rng = random.Random(f"faults-{plan.seed}")
    own = kafka is None
    if kafka is None:
        jars = ensure_jars(PROJECT_ROOT / ".kafka" / "jars")
        kafka = LocalKafka(root / "kafka", jars, free_port(), free_port())
    kafka.start()
    notes: list[str] = []
    floor = root / "clock-floor"
    group = Group(
        kafka.bootstrap,
        root,
        count=2,
        partitions=PARTITIONS,
        MASH_CLOCK="event",
        MASH_CLOCK_FLOOR_FILE=str(floor),
        MASH_TICK_SECONDS="0.5",
        MASH_SESSION_TIMEOUT_SECONDS=str(SESSION_TIMEOUT),
        MASH_LINK_STAGE=plan.link_stage,
        MASH_CHILD_STAGE=plan.child_stage,
    )
    try:
        asyncio.run(create_topics(kafka.bootstrap, all_topics(), PARTITIONS, 1))
        stream = Stream.build(plan)
        group.start()
        probes, watch = Probes(), AlertWatch(kafka.bootstrap)
        start_time = stream.times[0]
        asyncio.run(publish(kafka.bootstrap, probes.involvements(start_time)))
        producer = Producer(kafka.bootstrap, stream, plan.rate)
        readiness = Readiness(group)
        producer.start()
        readiness.start()
        disk_faults: list[DiskFault] = []
        recoveries = _faults(
            plan, rng, group, kafka, probes, watch, stream, notes, readiness, disk_faults
        )
        producer.join()
        readiness.stopping.set()
        readiness.join()
        until = (stream.last_time or start_time) + timedelta(days=14)
        outputs = _drain(kafka.bootstrap, stream, floor, until, group, plan.link_stage)
        inbound = asyncio.run(read_all(kafka.bootstrap, list(INBOUND_TOPICS)))
        accepted = asyncio.run(read_all(kafka.bootstrap, [ACCEPTED.name]))
        want = expected(inbound, accepted, CODEC, until)
        verdict = compare(outputs, want, CODEC)
        if plan.keep is not None:
            keep(plan.keep, outputs, want, accepted, group)
            asyncio.run(keep_topics(plan.keep, kafka.bootstrap, group.app_id, plan.link_stage))
        outcomes = Counter(
            (kind, expected_outcome(Hostile(kind, topic, key, value), CODEC))
            for topic, key, value, kind in stream.items[: stream.sent]
            if kind != "event"
        )
        late = _late_deadlines(outputs)
        leaks = _personal_data_in_logs(group, stream)
    finally:
        group.stop()
        if own:
            kafka.stop()
    return Report(
        plan.seed,
        plan.kills,
        recoveries,
        verdict,
        outcomes,
        stream.sent,
        time.monotonic() - started,
        late,
        leaks,
        (readiness.looks, readiness.not_ready),
        notes,
        disk_faults,
    )


def _faults(
    plan: Plan,
    rng: random.Random,
    group: Group,
    kafka: LocalKafka,
    probes: Probes,
    watch: AlertWatch,
    stream: Stream,
    notes: list[str],
    readiness: Readiness,
    disk_faults: list[DiskFault] | None = None,
) -> list[float | None]:
    """The seeded schedule: kills (each measured), one Kafka restart, one long pause,
    one unwritable state directory (its own generator: the rest of the schedule is the
    same with or without it)."""
    recoveries: list[float | None] = []
    disk_at = plan.kills // 4 if plan.disk and disk_faults is not None else -1
    restart_at = plan.kills // 2 if plan.kafka_restart else -1
    pause_at = plan.kills // 3 if plan.pause else -1
    for n in range(plan.kills):
        readiness.faulting.clear()
        time.sleep(rng.uniform(1.0, 4.0))
        readiness.faulting.set()
        if n == restart_at:
            kafka.stop()
            time.sleep(rng.uniform(1.0, 3.0))
            kafka.start()
            notes.append(f"Kafka restarted before kill {n + 1}")
            wait(lambda: all(w.ready() for w in group.workers), 120)
        if n == pause_at:
            paused = rng.choice(group.workers)
            paused.signal(signal.SIGSTOP)
            time.sleep(SESSION_TIMEOUT + 3)
            paused.signal(signal.SIGCONT)
            notes.append(f"a worker paused {SESSION_TIMEOUT + 3:.0f} s before kill {n + 1}")
            wait(lambda: all(w.ready() for w in group.workers), 120)
        if n == disk_at and disk_faults is not None:
            which = random.Random(f"disk-{plan.seed}").randrange(len(group.workers))
            at = stream.last_time or stream.times[0]
            disk_faults.append(unwritable_state(group, which, probes, watch, at))
            notes.append(f"worker {which}'s state directory unwritable before kill {n + 1}")
            wait(lambda: all(w.ready() for w in group.workers), 120)
        worker = rng.choice(group.workers)
        notes += [
            f"worker {i} had died by itself" for i, w in enumerate(group.workers) if not w.alive()
        ]
        killed_at = time.monotonic()
        worker.kill()
        time.sleep(rng.uniform(0.0, 3.0))
        worker.start()
        recovered = recovery_after(
            group, probes, watch, killed_at, at=stream.last_time or stream.times[0]
        )
        recoveries.append(recovered)
        if recovered is None:
            notes.append(f"kill {n + 1} not recovered: {_lags(group)}")
        wait(lambda: all(w.ready() for w in group.workers), 120)
    readiness.faulting.clear()
    return recoveries


def keep(where: Path, outputs: list[Any], want: Any, accepted: list[Any], group: Group) -> None:
    """The evidence of a run, for a reader of a difference: live and replay as sorted
    JSON lines, the accepted events in the link stage's order, the workers' logs."""
    where.mkdir(parents=True, exist_ok=True)
    live = sorted(
        json.dumps(
            {
                "topic": w.topic,
                "key": w.key.decode() if w.key else None,
                "value": CODEC.decode(w.value).model_dump(mode="json"),
            },
            sort_keys=True,
        )
        for w in outputs
    )
    (where / "live.jsonl").write_text("\n".join(live) + "\n")
    (where / "replay.jsonl").write_text("\n".join(sorted(want.records.elements())) + "\n")
    events = [json.dumps(to_json_dict(CODEC.decode(w.value))) for w in accepted]
    (where / "accepted.jsonl").write_text("\n".join(events) + "\n")
    for n, worker in enumerate(group.workers):
        (where / f"worker-{n}.log").write_bytes(worker.log.read_bytes())


async def keep_topics(
    where: Path, bootstrap: str, app_id: str, link_stage: str = LINK_STAGE
) -> None:
    """broker.linked.v1 and the tables' changelogs as Kafka holds them, each record with
    its partition, offset and timestamp (wall clock, to set beside the workers' logs):
    what each child partition was told, in its order, and every state write. With the
    link loop, its state topic too, and every record as written (read_uncommitted: an
    aborted transaction's records are evidence too; their markers are the offsets
    missing between them)."""
    tables = ["seen-events", "identity", "held-events", PICTURES, "child-inbox", "child-timers"]
    topics = [LINKED.name, *(changelog_topic(app_id, t) for t in tables)]
    if link_stage == "loop":
        topics.append(link_state_topic(app_id).name)
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    lines = []
    try:
        while batch := await consumer.getmany(timeout_ms=1500, max_records=5000):
            for messages in batch.values():
                for m in messages:
                    value: Any = None
                    if m.value is not None:
                        try:
                            value = CODEC.decode(m.value).model_dump(mode="json")
                        except Exception:
                            value = m.value.decode("utf-8", "replace")
                    key = m.key.decode("utf-8", "replace") if m.key else None
                    record = [m.topic, m.partition, m.offset, m.timestamp, key, value]
                    lines.append(json.dumps(record, sort_keys=True))
    finally:
        await consumer.stop()
    (where / "topics.jsonl").write_text("\n".join(lines) + "\n")


def _lags(group: Group) -> str:
    """Each worker's consumer lag by topic, for a note on a recovery that did not come."""
    shown = [
        f"worker {n} ready={worker.ready()} lag={dict(_lag(worker))}"
        for n, worker in enumerate(group.workers)
    ]
    return "; ".join(shown)


def _lag(worker: Any) -> Counter[str]:
    """A worker's messages not yet read or not yet committed, by topic
    (`mash_consumer_lag`, broker.ops.faust_state); empty when it does not answer."""
    lags = Counter[str]()
    for (name, labels), value in scrape(worker.port).items():
        if name == "mash_consumer_lag" and value:
            lags[dict(labels).get("topic", "?")] += int(value)
    return lags


def _drain(
    bootstrap: str,
    stream: Stream,
    floor: Path,
    until: datetime,
    group: Group,
    link_stage: str = LINK_STAGE,
) -> list[Any]:
    """Wait until the workers have linked everything, move the clock, wait until they
    have caught up, read the outputs. Caught up: the link loop's group committed at
    broker.accepted.v1's end (its lag is not among the faust agents' metrics), then no
    agent lagging. Outputs that merely look still are not enough: a worker recovering
    after the last kill, on a loaded machine, can be silent for longer than the three
    reads `settled_outputs` compares (a CI run counted an alert still to come as lost)."""
    want = {
        CODEC.decode(value).event_id  # type: ignore[attr-defined]
        for topic, key, value, kind in stream.items[: stream.sent]
        if expected_outcome(Hostile(kind, topic, key, value), CODEC) == "accepted"
    }

    def linked_all() -> bool:
        accepted = asyncio.run(read_all(bootstrap, [ACCEPTED.name], idle_ms=500))
        return want <= {CODEC.decode(w.value).event_id for w in accepted}  # type: ignore[attr-defined]

    wait(linked_all, 300, every=2.0)
    time.sleep(3.0)
    floor.write_text(until.isoformat())
    time.sleep(3.0)
    if link_stage == "loop":
        wait(lambda: asyncio.run(link_loop_behind(bootstrap, f"{group.app_id}-link")) == 0, 180)
    wait(lambda: _caught_up(group), 180, every=1.0)
    return settled_outputs(bootstrap, asyncio.run)


async def link_loop_behind(bootstrap: str, group_id: str) -> int:
    """Records of broker.accepted.v1 past the link loop's committed offset."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(ACCEPTED.name, 0)]  # one partition: the link stage's order
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)


def _caught_up(group: Group) -> bool:
    """Every worker ready, and none with a message of its sources not yet handled."""
    return all(worker.ready() and not _lag(worker) for worker in group.workers)


def _late_deadlines(outputs: list[Any]) -> list[float]:
    """Seconds by which each deadline alert was raised after it was due."""
    late = []
    for wire in outputs:
        if wire.topic != "mash.alert.v1":
            continue
        alert = CODEC.decode(wire.value)
        due, raised = getattr(alert, "due_by", None), getattr(alert, "raised_at", None)
        rule = str(getattr(alert, "rule_id", ""))
        if due and raised and rule.endswith("OVERDUE") and raised > due:
            late.append((raised - due).total_seconds())
    return late


def _personal_data_in_logs(group: Group, stream: Stream) -> int:
    """Log lines that hold a child's name or NHS number from the events sent."""
    secrets: set[str] = set()
    for _topic, _key, value, kind in stream.items[: stream.sent]:
        if kind != "event":
            continue
        subject = CODEC.decode(value).subject  # type: ignore[attr-defined]
        secrets |= {s for s in (subject.family_name, subject.nhs_number) if s and len(s) >= 5}
    found = 0
    for worker in group.workers:
        for line in worker.log.read_text(errors="replace").splitlines():
            found += any(s in line for s in secrets)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--hostile", type=int, default=500)
    parser.add_argument("--rate", type=float, default=8.0)
    parser.add_argument("--keep", type=Path, help="leave the run's evidence in this folder")
    parser.add_argument("--no-pause", action="store_true", help="no worker paused (SIGSTOP)")
    parser.add_argument(
        "--link-stage",
        choices=("faust", "loop"),
        default=LINK_STAGE,
        help="the workers' link stage (MASH_LINK_STAGE): the faust agent or the loop",
    )
    parser.add_argument(
        "--child-stage",
        choices=("faust", "loop"),
        default=CHILD_STAGE,
        help="the workers' child stage (MASH_CHILD_STAGE): the faust agent or the loop",
    )
    parser.add_argument(
        "--no-disk", action="store_true", help="no worker's state directory made unwritable"
    )
    args = parser.parse_args(argv)
    plan = Plan(
        args.seed,
        args.kills,
        args.events,
        args.hostile,
        args.rate,
        pause=not args.no_pause,
        disk=not args.no_disk,
        keep=args.keep,
        link_stage=args.link_stage,
        child_stage=args.child_stage,
    )
    with TemporaryDirectory(prefix="mash-chaos-") as tmp:
        report = run(plan, Path(tmp))
        if plan.keep is not None:  # each worker's RocksDB as it stopped, beside the changelogs
            for state in Path(tmp).glob("state-*"):
                shutil.copytree(state, plan.keep / state.name, dirs_exist_ok=True)
    print("\n".join(report.lines()))
    disks_right = all(fault.as_it_should for fault in report.disk_faults)
    return 0 if report.verdict.clean and disks_right else 1


if __name__ == "__main__":
    raise SystemExit(main())
