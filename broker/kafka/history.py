"""The inbound topics' history, read from the start of a cluster without writing anything.

`mash-broker what-if` replays what the agencies published. It must leave the cluster
as it found it: no consumer group (so no offsets committed, and nothing for the
worker's group to trip over), no producer, and it reads only up to the end offsets it
saw when it started, so a cluster that is still being written to gives a fixed history.

The history is put in the order the broker's clock would see it: by each event's
`recorded_at` (the replay clock), then by when Kafka received it, then by topic,
partition and offset (so one partition's records keep their order). A record that is
not a valid event is still part of the history (the broker would refuse it); it is
placed at the time Kafka received it. The history is held in memory to be put in that
order (a council's year is some 40,000 events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.codec import codec_from_settings
from broker.errors import InfrastructureError
from broker.kafka.admin import admin_client, client_options, refusals_as_not_authorized
from broker.pipeline.ingest import Accepted, IngestResult, ingest_wire
from broker.settings import Settings
from broker.topics import INBOUND_TOPICS

FETCH_TIMEOUT_MS = 1000
STALLED_AFTER_MS = 60_000
"""No record for this long while some are known to be there: Kafka is away."""


@dataclass(frozen=True, slots=True)
class Received:
    """One inbound record, ingested as the worker's ingest agent would."""

    result: IngestResult
    received_at: datetime
    topic: str
    partition: int
    offset: int

    def order(self) -> tuple[datetime, datetime, int, int, int]:
        result = self.result
        at = result.event.recorded_at if isinstance(result, Accepted) else self.received_at
        return (at, self.received_at, INBOUND_TOPICS.index(self.topic), self.partition, self.offset)


async def end_offsets(settings: Settings, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """Each partition's end offset now (what a writer would move)."""
    consumer = _consumer(settings)
    try:
        with refusals_as_not_authorized("reading the end offsets"):
            await consumer.start()
            partitions = await _partitions(settings, topics)
            return dict(await consumer.end_offsets(partitions)) if partitions else {}
    finally:
        await consumer.stop()


async def read_history(
    settings: Settings,
    topics: Sequence[str] = INBOUND_TOPICS,
    *,
    on_start: Callable[[int], None] | None = None,
    on_record: Callable[[], None] | None = None,
) -> list[IngestResult]:
    """Every record of `topics` from the start up to the end offsets seen at the start,
    ingested, in the replay clock's order. `on_start` is told how many records that is;
    `on_record` is called after each one (a progress bar)."""
    codec = codec_from_settings(settings)
    consumer = _consumer(settings)
    received: list[Received] = []
    try:
        with refusals_as_not_authorized("reading the inbound topics"):
            await consumer.start()
            partitions = await _partitions(settings, topics)
            if not partitions:
                return []
            consumer.assign(partitions)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            left = {tp: ends[tp] for tp in partitions if ends[tp] > starts[tp]}
            if on_start is not None:
                on_start(sum(ends[tp] - starts[tp] for tp in left))
            for tp in partitions:
                consumer.seek(tp, starts[tp])
            idle = 0
            while left:
                batches = await consumer.getmany(*left, timeout_ms=FETCH_TIMEOUT_MS)
                idle = 0 if batches else idle + 1
                if idle * FETCH_TIMEOUT_MS >= STALLED_AFTER_MS:
                    raise InfrastructureError(
                        f"reading the inbound topics: nothing for {STALLED_AFTER_MS // 1000} s "
                        f"with {len(left)} partition(s) short of their end offsets"
                    )
                for tp, messages in batches.items():
                    for message in messages:
                        if message.offset >= left.get(tp, 0):
                            continue
                        received.append(
                            Received(
                                ingest_wire(message.value or b"", tp.topic, codec),
                                datetime.fromtimestamp(message.timestamp / 1000, UTC),
                                tp.topic,
                                tp.partition,
                                message.offset,
                            )
                        )
                        if on_record is not None:
                            on_record()
                for tp in list(left):
                    if await consumer.position(tp) >= left[tp]:
                        del left[tp]
    finally:
        await consumer.stop()
    received.sort(key=Received.order)
    return [r.result for r in received]


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    """A consumer of no group: it commits nothing and joins nothing."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_options(settings),
    )


async def _partitions(settings: Settings, topics: Sequence[str]) -> list[TopicPartition]:
    """The topics' partitions, from the metadata of every topic (asking for a topic by
    name could create it on a cluster that creates topics on demand: a write). A topic
    the cluster does not have has none: nothing was published to it."""
    admin = admin_client(settings.kafka_bootstrap, client_options(settings))
    try:
        await admin.start()
        described = {t["topic"]: t for t in await admin.describe_topics(None)}
    finally:
        await admin.close()
    partitions: list[TopicPartition] = []
    for topic in topics:
        numbers = sorted(p["partition"] for p in described.get(topic, {}).get("partitions", []))
        partitions += [TopicPartition(topic, n) for n in numbers]
    return partitions
