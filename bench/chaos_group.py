"""Workers of one consumer group that can be killed, paused and restarted, and a watch
on what they publish: the machinery of `python -m bench.chaos` and of the integration
tests of recovery (tests/integration/test_recovery_after_kill.py, test_chaos_ci.py).

Each worker is `python -m broker.cli worker` (what an operator runs) with its own state
directory and web port, started in its own session so that a SIGKILL takes exactly it.
A restarted worker keeps its state directory, so it rejoins the group as the same static
member (broker/app.py, `group_instance_id`).

Recovery is measured end to end: after a kill, *probes* are published, one RED police
notice to each partition of police.vist.v1 about children whose school is known to the
broker (so each raises an UNSHARED_RISK alert at once); the worker has recovered when
every probe's alert is on mash.alert.v1. The probes' children are spread over the
children's partitions, so the link stage (one partition, on one worker) and every child
partition must be working again, whichever worker held them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.live_ceiling import clean_env
from bench.live_kafka import free_port, ready
from broker.codec import AvroCodec
from broker.kafka.publish import partition_key
from broker.models.events import parse_event
from broker.settings import PROJECT_ROOT, Settings
from broker.topics import ALERTS, topic_for_event_type

CODEC = AvroCodec(Settings().schemas_dir)
PROBE_CHILDREN = 24
"""Enough children that every child partition (at most 12) most likely holds one."""


class Worker:
    """One worker process: start, SIGKILL, SIGSTOP/SIGCONT, stop."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = int(env["MASH_WORKER_WEB_PORT"])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "broker.cli", "worker"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ready(self) -> bool:
        return self.alive() and ready(self.port)

    def tail(self, lines: int = 20) -> str:
        """The log's last lines, but for the consumer's heartbeat warnings: a worker
        stuck in a rebalance logs one a second, and they would hide what came before."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        kept = [line for line in text.splitlines() if "Heartbeat failed" not in line]
        return "\n".join(kept[-lines:])

    def tasks(self) -> str:
        """Where each of the worker's coroutines waits (`/debug/tasks`), if it answers:
        what a worker alive but not ready is stuck on."""
        if not self.alive():
            return "(not running)"
        try:
            url = f"http://127.0.0.1:{self.port}/debug/tasks"
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode(errors="replace"))
        except OSError as exc:
            return f"(no answer: {type(exc).__name__})"


class Group:
    """`count` workers of one fresh app id on `bootstrap`, each with its own state."""

    def __init__(
        self, bootstrap: str, root: Path, count: int = 2, partitions: int = 4, **env: str
    ) -> None:
        self.bootstrap = bootstrap
        self.app_id = f"chaos-{uuid.uuid4().hex[:6]}"
        self.workers = []
        for n in range(count):
            worker_env = clean_env() | {
                "MASH_KAFKA_BOOTSTRAP": bootstrap,
                "MASH_STATE_DIR": str(root / f"state-{n}"),
                "MASH_APP_ID": self.app_id,
                "MASH_TOPIC_PARTITIONS": str(partitions),
                "MASH_WORKER_WEB_PORT": str(free_port()),
                **env,
            }
            self.workers.append(Worker(worker_env, root / f"worker-{n}.log"))

    def start(self, timeout: float = 180.0) -> None:
        for worker in self.workers:
            worker.start()
        if not wait(lambda: all(w.ready() for w in self.workers), timeout):
            raise RuntimeError(f"the workers did not become ready:\n{self.tail()}")

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def tail(self) -> str:
        """Each worker's last log lines, and where a worker not ready waits."""
        return "\n".join(
            f"--- worker {n}\n{w.tail()}" + ("" if w.ready() else f"\n--- its tasks\n{w.tasks()}")
            for n, w in enumerate(self.workers)
        )


def wait(check: Any, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return bool(check())


@dataclass
class Probes:
    """Children whose school the broker knows; each probe is a RED notice about one."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    sent: int = 0

    def child(self, n: int) -> dict[str, Any]:
        return {
            "given_name": "Probe",
            "family_name": f"Child {self.run} {n}",
            "date_of_birth": "2014-09-09",
            "socialcare_id": f"SC-PROBE-{self.run}-{n}",
        }

    def involvements(self, now: datetime) -> list[dict[str, Any]]:
        return [
            {
                **_envelope(f"inv-{self.run}-{n}", "agency.involvement", "school", now),
                "subject": self.child(n),
                "agency": "school",
                "status": "open",
                "team": "DSL",
                "school": {"urn": "113500", "name": "Stoke Damerel Primary"},
            }
            for n in range(PROBE_CHILDREN)
        ]

    def notices(self, now: datetime) -> list[dict[str, Any]]:
        self.sent += 1
        return [
            {
                **_envelope(f"probe-{self.run}-{self.sent}-{n}", "police.vist", "police", now),
                "subject": self.child(n),
                "vist_id": f"V-{self.run}-{self.sent}-{n}",
                "rag": "RED",
                "concerns": ["physical_abuse"],
                "narrative": "Officers attended the address.",
                "out_of_hours": False,
            }
            for n in range(PROBE_CHILDREN)
        ]


def _envelope(event_id: str, event_type: str, agency: str, now: datetime) -> dict[str, Any]:
    at = now.isoformat()
    return {
        "event_id": event_id,
        "event_type": event_type,
        "source": {"agency": agency, "system": f"{agency}-records"},
        "occurred_at": at,
        "recorded_at": at,
    }


async def publish(bootstrap: str, events: list[dict[str, Any]]) -> None:
    """Each event encoded and sent to its topic with its key, as `mash-broker publish`."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = []
        for event in events:
            model = parse_event(event)
            topic = topic_for_event_type(model.event_type)
            assert topic is not None
            value = CODEC.encode(model, topic=topic)
            key = partition_key(model).encode()
            sent.append(await producer.send(topic, value, key=key))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


class AlertWatch:
    """Every alert's triggering event ids, read from mash.alert.v1 as they arrive."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.seen: dict[str, float] = {}

    async def collect(self, consumer: AIOKafkaConsumer, seconds: float) -> None:
        batch = await consumer.getmany(timeout_ms=int(seconds * 1000))
        for messages in batch.values():
            for message in messages:
                value = CODEC.decode(message.value or b"").model_dump(mode="json")
                for event_id in value.get("triggered_by", []):
                    self.seen.setdefault(event_id, time.monotonic())

    async def until(self, ids: set[str], timeout: float) -> float | None:
        """Seconds (monotonic) at which the last of `ids` was seen, or None at timeout."""
        consumer = AIOKafkaConsumer(
            ALERTS.name, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        deadline = time.monotonic() + timeout
        try:
            while not ids <= set(self.seen) and time.monotonic() < deadline:
                await self.collect(consumer, 0.2)
        finally:
            await consumer.stop()
        return max(self.seen[i] for i in ids) if ids <= set(self.seen) else None


def recovery_after(
    group: Group,
    probes: Probes,
    watch: AlertWatch,
    killed_at: float,
    timeout: float = 120.0,
    at: datetime | None = None,
) -> float | None:
    """Publish one round of probes now (recorded `at`, by default a second ago: on the
    event clock, the stream's latest time); seconds from `killed_at` until every probe's
    alert is out (None: not within `timeout`)."""
    notices = probes.notices(at or datetime.now(UTC) - timedelta(seconds=1))
    asyncio.run(publish(group.bootstrap, notices))
    done = asyncio.run(watch.until({n["event_id"] for n in notices}, timeout))
    return None if done is None else done - killed_at
