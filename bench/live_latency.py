"""Phase (d): latency at a steady rate, from an event's publish to its readable outputs.

One full worker on fresh topics and a fresh app id. First, untimed, the children
(`--latency-children`, 1,000 unless told) are set up (bench.live_events: a social care
record, child in need, and an open health involvement each) and the worker is waited for
until it has processed them. Then RED police VISTs about those children are sent at a
steady rate (by schedule: the n-th is due n/rate seconds after the start,
bench.live_stats), each recorded at the wall clock's time of sending, so the worker's
event clock follows real time and no deadline of theirs falls due during the run.

A consumer in this process, started before the first VIST and polling with a short fetch
wait, reads mash.alert.v1 and every agency's notification topic, and also the two topics
between the stages, broker.accepted.v1 and broker.linked.v1, all read committed (as the
next stage's loop and an agency's consumer read them: docs/contract.md; an output is
readable downstream once its transaction commits), so that the latency is also shown hop
by hop, on the records' own timestamps (the producer's clock when each stage sent it,
the same machine's): publish -> accepted sent (ingest), -> linked sent (the link stage),
-> first output sent (the child stage), and sent -> read here (`read`: the rest of its
transaction, the last fetch, and this process's own delay in getting to it). An alert is
matched to the VIST that fired it by the first id of its `triggered_by`, a notification
by its `event_id`; the latency of a VIST is from just before its send (time recorded
here) to when the first alert, and the first notification, about it was read. Every such
VIST is sent to social care and raises an alert, so each has both to wait for; the phase
ends when all have been read, when none has come for a while, or at the latest a few
minutes after the last send; those never read are counted, not dropped silently. When
the worker is slower than the rate, its backlog grows for the whole run and the
latencies measure that queue: `handled_per_second` (outputs read over the time from the
first send to the last output) says so, and a lower --rate shows the unloaded latency.

A warm-up comes first (`--latency-warmup`, 5 s unless told): VISTs sent at the same rate,
about the same children, whose latencies are printed apart (`warmup`) and not counted in
the percentiles. The worker and Kafka are both freshly started for the phase, and the
first seconds of a cold worker are not its steady state: in a run of 30 s at 100 events/s
on 2026-12-05 the VISTs of the first three seconds had a median of 0.9-1.4 s and the rest
0.1-0.2 s, so that the cold start alone made the whole run's p99 1.6 s against 0.23 s
after it (docs/notes/faust-kafka.md, "The latency benchmark's cold start"). A worker
started in production pays it once; the steady state is what each event then meets.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.live_events import probe_children, probe_vist, to_wire
from bench.live_kafka import blast, fresh_topics
from bench.live_stats import late_by, send_offsets, summary
from bench.live_worker import Workers
from broker.codec import AvroCodec, codec_from_settings
from broker.settings import Settings
from broker.topics import ACCEPTED, AGENCIES, ALERTS, LINKED, notification_topic

STALL = 15.0
"""Seconds without a new notification after which the phase stops waiting for more."""
GRACE = 180.0
"""Seconds after the last send that outputs are waited for at most (a worker slower than
the rate has a backlog to work off: its outputs still count, later)."""


class Outputs:
    """Reads alerts and notifications; when each event's first of each was read."""

    def __init__(self, bootstrap: str, codec: AvroCodec) -> None:
        self.codec = codec
        self.alerts: dict[str, float] = {}
        self.notifications: dict[str, float] = {}
        self.between: dict[str, dict[str, float]] = {ACCEPTED.name: {}, LINKED.name: {}}
        """Topic between two stages -> event id -> its first record's timestamp."""
        self.sent: dict[str, float] = {}
        """Event id -> the timestamp of its first alert or notification record."""
        self.consumer = AIOKafkaConsumer(
            ALERTS.name,
            ACCEPTED.name,
            LINKED.name,
            *(notification_topic(a) for a in AGENCIES),
            bootstrap_servers=bootstrap,
            group_id=f"bench-latency-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            fetch_max_wait_ms=10,
        )

    async def start(self) -> None:
        await self.consumer.start()
        while not self.consumer.assignment():
            await self.consumer.getmany(timeout_ms=100)

    def all_read(self, wanted: set[str]) -> bool:
        return wanted <= self.notifications.keys() and wanted <= self.alerts.keys()

    async def read(self, until: float, wanted: set[str]) -> None:
        """Read until every wanted event has a notification and an alert, none came for STALL s,
        or the wall clock's `until`."""
        progress = time.time()
        while (
            time.time() < min(until, progress + STALL) and not wanted <= self.notifications.keys()
        ):
            batches = await self.consumer.getmany(timeout_ms=50)
            seen = time.time()
            progress = seen if batches else progress
            for tp, records in batches.items():
                for record in records:
                    data = self.codec.decode_dict(record.value or b"")
                    if tp.topic in self.between:
                        event_id = event_of(data)
                        if event_id:
                            self.between[tp.topic].setdefault(event_id, record.timestamp / 1000)
                    elif tp.topic == ALERTS.name:
                        ids = data.get("triggered_by") or []
                        if ids:
                            self.alerts.setdefault(str(ids[0]), seen)
                            self._sent(str(ids[0]), record.timestamp)
                    elif data.get("event_id"):
                        self.notifications.setdefault(str(data["event_id"]), seen)
                        self._sent(str(data["event_id"]), record.timestamp)

    def _sent(self, event_id: str, timestamp_ms: int) -> None:
        at = timestamp_ms / 1000
        self.sent[event_id] = min(at, self.sent.get(event_id, at))

    async def stop(self) -> None:
        await self.consumer.stop()


def event_of(data: dict[str, Any]) -> str | None:
    """The event id of a record between two stages (accepted: the event's own fields;
    linked: the event inside the child message, decoded as a model; a tick has none)."""
    found = data.get("event_id")
    inner = data.get("event")  # the codec decodes a child message's event as a model
    if not found and inner is not None:
        found = (
            inner.get("event_id") if isinstance(inner, dict) else getattr(inner, "event_id", None)
        )
    return str(found) if found else None


def hops(published: dict[str, float], outputs: Outputs, first: dict[str, float]) -> dict[str, Any]:
    """Each event's time from one stage's record to the next's (their timestamps), and
    from its first output's to that output being read here."""
    accepted, linked = outputs.between[ACCEPTED.name], outputs.between[LINKED.name]
    steps = (
        ("ingest", published, accepted),
        ("link", accepted, linked),
        ("child", linked, outputs.sent),
        ("read", outputs.sent, first),
    )
    return {
        name: summary([after[e] - before[e] for e in before if e in after and e in published])
        for name, before, after in steps
    }


async def paced(
    bootstrap: str, codec: AvroCodec, rate: float, seconds: float, children: int, outputs: Outputs
) -> tuple[dict[str, float], float]:
    """Send the VISTs on schedule while reading outputs; their publish times, lateness."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    published: dict[str, float] = {}
    due = send_offsets(rate, seconds)
    sent: list[float] = []
    reader = asyncio.create_task(outputs.read(float("inf"), {"never"}))
    try:
        start = time.monotonic()
        for n, offset in enumerate(due):
            await asyncio.sleep(max(0.0, start + offset - time.monotonic()))
            event = probe_vist(n, children, datetime.now(UTC))
            (wire,) = to_wire([event], codec)
            sent.append(time.monotonic() - start)
            published[wire.event_id] = time.time()
            await producer.send(wire.topic, wire.value, key=wire.key)
        await producer.flush()
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await producer.stop()
    await outputs.read(time.time() + GRACE, set(published))
    return published, late_by(due, sent)


def latencies(published: dict[str, float], read: dict[str, float]) -> list[float]:
    return [read[e] - t for e, t in published.items() if e in read]


def split_warmup(
    published: dict[str, float], warmup: float
) -> tuple[dict[str, float], dict[str, float]]:
    """(the warm-up's events, the measured ones): an event published less than `warmup`
    seconds after the first is the warm-up's."""
    if not published:
        return {}, {}
    cut = min(published.values()) + warmup
    warm = {e: t for e, t in published.items() if t < cut}
    return warm, {e: t for e, t in published.items() if t >= cut}


async def measure(
    bootstrap: str, rate: float, seconds: float, children: int, warmup: float = 0.0
) -> dict[str, Any]:
    codec = codec_from_settings(Settings())
    outputs = Outputs(bootstrap, codec)
    await outputs.start()
    try:
        sent, late = await paced(bootstrap, codec, rate, warmup + seconds, children, outputs)
    finally:
        await outputs.stop()
    first = {
        e: min(t for t in (outputs.alerts.get(e), outputs.notifications.get(e)) if t is not None)
        for e in sent
        if e in outputs.alerts or e in outputs.notifications
    }
    warm, published = split_warmup(sent, warmup)
    start = min(published.values())
    last = max((first[e] for e in published if e in first), default=0.0)
    return {
        "warmup": summary(latencies(warm, first)) | {"seconds": warmup},
        "sent": len(published),
        "handled_per_second": len(first) / (last - start) if last > start else None,
        "producer_late_by_seconds": late,
        "unmatched": sum(1 for e in published if e not in first),
        "first_output": summary(latencies(published, first)),
        "notification": summary(latencies(published, outputs.notifications)),
        "alert": summary(latencies(published, outputs.alerts)),
        "hops": hops(published, outputs, first),
    }


def run_latency(
    bootstrap: str,
    root: Path,
    partitions: int,
    rate: float,
    seconds: float,
    children: int = 1000,
    warmup: float = 0.0,
) -> dict[str, Any]:
    asyncio.run(fresh_topics(bootstrap, partitions))
    codec = codec_from_settings(Settings())
    workers = Workers(1, bootstrap, root, partitions)
    try:
        workers.wait_ready()
        setup = to_wire(probe_children(children, datetime.now(UTC)), codec)
        asyncio.run(blast(bootstrap, setup))
        workers.settle(len(setup), time.time(), 120)
        figures = asyncio.run(measure(bootstrap, rate, seconds, children, warmup))
        if figures["unmatched"]:
            workers.dump_lag()  # where the worker stood: beside its log, for --keep
    finally:
        workers.stop()
    return {"rate": rate, "seconds": seconds, "children": children, **figures}
