"""The link stage as a batched consume -> link -> produce loop, one Kafka transaction a batch.

With `MASH_LINK_STAGE=loop` (docs/identity.md, "The link stage as a transactional
loop") the worker runs this beside faust instead of the faust `link` agent: its own
`AIOKafkaConsumer` on broker.accepted.v1 (group `<app id>-link`, read_committed, no
auto-commit, the worker's static member id) and, while it owns the partition, a
transactional producer (`<app id>-link-0`: one id per input partition, so that whoever
takes the partition over fences whoever had it). For each batch:

1. the transform links it (agents/link_loop.py: the faust agent's own function over the
   state in memory) and the records are encoded, before any transaction begins: a fault
   of our own code there is not Kafka's, and stops the worker as it does in faust mode;
2. one transaction: every output (the last one to each partition marked: its marker
   follows, broker.pipeline.offsets), every state record (to `<app id>-link-state`,
   compacted), among them the next offset of the source; the sends' futures are awaited
   before the commit, because aiokafka, unlike Java, commits a transaction one of whose
   sends failed (docs/notes/faust-kafka.md). The group's offsets are committed after it,
   outside it, for the tools that read them, at most once a second
   (broker.kafka.group_offsets);
3. a Kafka error aborts the transaction, the in-memory state is read again from the
   state topic and the partition from the state's next offset, and the batch is linked
   again (with backoff); a producer fenced mid-batch (`ProducerFenced`: another owner
   initialised the same transactional id) raises `Fenced`, and nothing more is written.

Taking the partition: the producer is started (which aborts whatever transaction the
previous owner left open: a worker killed mid-batch), the state topic is read to its
end (read_committed: what was committed, nothing of an aborted batch), and the
partition is read from the state's next offset (the group's committed offset for a
state that holds none). What the consumer had fetched before is
dropped. Losing it (a rebalance): the producer is stopped and the state forgotten. A
state topic found empty while the faust link agent's tables hold state (a worker that
ran MASH_LINK_STAGE=faust) is first filled from them, with faust's committed offset, in
one transaction (`migration`: broker/kafka/link_migration.py). A Kafka error while
taking the partition gives it up, to be taken again at the next turn (with backoff).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced

from broker.errors import Fenced
from broker.kafka.admin import partition_counts
from broker.kafka.group_offsets import GroupOffsets
from broker.kafka.placement import Wired, placed_records
from broker.kafka.transactions import (
    abort_quietly,
    lag_from,
    read_committed,
    start_or_give_up,
    stop_quietly,
    transactional_producer,
)
from broker.pipeline import offsets as offsets_plan
from broker.pipeline.link_state import LinkedBatch, StateRecord
from broker.pipeline.sink import Encoder, Outgoing
from broker.topics import ACCEPTED

log = logging.getLogger(__name__)


class Transform(Protocol):
    """What the loop runs over a batch (agents.link_loop.LoopLinker)."""

    def reset(self) -> None: ...

    def load(self, key: bytes, value: bytes | None) -> None: ...

    def next_offset(self) -> int | None:
        """The offset of the source partition to link next, as the state holds it."""
        ...

    async def __call__(self, raws: Sequence[bytes], offsets: Sequence[int]) -> LinkedBatch: ...


class Moved(Protocol):
    """A state moved over from elsewhere (broker.kafka.link_migration.Migration)."""

    @property
    def state(self) -> Sequence[StateRecord]: ...

    @property
    def offset(self) -> int: ...


MIGRATED = "migrated"
"""The outcome of the one batch a migration is (as `before_commit` hears of it)."""

Migration = Callable[[], Awaitable[Moved | None]]
"""What the loop runs when it takes the partition and its state topic is empty: the
state to start from, and the offset, or None (nothing to move: a fresh app id)."""


def link_producer(loop: LinkLoop) -> AIOKafkaProducer:
    """The loop's transactional producer (broker.kafka.transactions)."""
    return transactional_producer(
        loop.bootstrap,
        loop.transactional_id,
        linger_ms=loop.linger_ms,
        batch_bytes=loop.batch_bytes,
        client_options=loop.client_options,
    )


@dataclass
class LinkLoop:
    transform: Transform
    encoder: Encoder
    bootstrap: str
    app_id: str
    state_topic: str
    client_options: Mapping[str, Any] = field(default_factory=dict)
    batch_max: int = 500
    instance_id: str | None = None
    session_timeout_ms: int = 10_000
    heartbeat_ms: int = 1_000
    linger_ms: int = 5
    batch_bytes: int = 262_144
    source: str = ACCEPTED.name
    group_id: str | None = None
    """The consumer group; None: `<app id>-link`."""
    on_committed: Callable[[Sequence[Outgoing]], object] = lambda outgoing: None
    """Hears of each batch's outputs once its transaction has committed (metrics)."""
    before_commit: Callable[[LinkedBatch], object] = lambda batch: None
    """Runs once a batch's sends are acknowledged, before its commit (the tests' kill);
    and before a migration's commit, with a batch of its state and no outputs."""
    migration: Migration | None = None
    """The state to move over when the state topic is empty (link_migration.FromFaust)."""
    producer_factory: Callable[[LinkLoop], AIOKafkaProducer] = field(default=link_producer)
    """Makes the transactional producer the loop takes its partition with (a port: the
    tests hand a fake)."""
    _producer: AIOKafkaProducer | None = field(default=None, init=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)
    _offsets: GroupOffsets | None = field(default=None, init=False)
    _owned: frozenset[TopicPartition] = field(default=frozenset(), init=False)
    _linked_to: dict[TopicPartition, int] = field(default_factory=dict, init=False)
    """Per partition held, the offset linked next (committed): what its lag counts from."""

    @property
    def group(self) -> str:
        return self.group_id or f"{self.app_id}-link"

    @property
    def transactional_id(self) -> str:
        return f"{self.app_id}-link-0"  # one per input partition: broker.accepted.v1 has one

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Link until `stop` is set (or the task is cancelled); raises `Fenced`."""
        consumer = AIOKafkaConsumer(
            self.source,
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            group_instance_id=self.instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_ms,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=100,
            **self.client_options,
        )
        await consumer.start()
        self._consumer = consumer
        self._offsets = GroupOffsets(consumer, "link")
        delay = 0.2
        try:
            while stop is None or not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=100, max_records=self.batch_max)
                assigned = frozenset(consumer.assignment())
                if assigned != self._owned:
                    await self._release()
                    if assigned and not await self._try_take(consumer, assigned):
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 10.0)
                    continue  # what was fetched before is read again from the committed offset
                if not fetched:
                    continue
                try:
                    await self._batch(fetched)
                    delay = 0.2
                except KafkaError as exc:
                    log.warning(
                        "link transaction failed; aborted, linking the batch again",
                        extra={"error": type(exc).__name__},
                    )
                    await self._abort()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    await self._release()  # taken again at the next turn: state and offset
        finally:
            await self._release()
            await consumer.stop()

    def held(self) -> int:
        """How many partitions this loop holds (taken, state read): readiness counts them."""
        return len(self._owned)

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages of the source not yet linked, per partition this loop holds: its
        highwater less the offset it links next (read at scrape time, never raising)."""
        return lag_from(self._consumer, self._linked_to)

    async def _try_take(
        self, consumer: AIOKafkaConsumer, assigned: frozenset[TopicPartition]
    ) -> bool:
        """Take the partition; False (given up, to be taken again at the next turn, after
        a backoff) on a Kafka error, or on a fencing while taking it.

        A fencing while taking is not a zombie's: the partition is ours by the group's
        latest assignment, and another producer with the transactional id initialised
        in the same moment of a rebalance (its owner by the assignment before, about to
        learn it lost it). `bench.chaos` seed 2 with the loop had a worker stop on it
        (`Fenced` from `producer.start()`), its partitions moving again. Taking it again
        fences that other producer in turn, after two heartbeats, by which
        time a stale owner's consumer has heard of the rebalance and no longer takes
        it. A producer fenced mid-batch, after it took the partition, is a zombie
        and stops (`_batch`)."""
        try:
            await self._take(consumer, assigned)
            return True
        except (KafkaError, Fenced) as exc:
            log.warning(
                "link loop could not take its partition; trying again",
                extra={"error": type(exc.__cause__ or exc).__name__},
            )
            await self._release()  # its next producer aborts what is open
            if isinstance(exc, Fenced):  # two heartbeats: time for a stale owner's consumer
                await asyncio.sleep(2 * self.heartbeat_ms / 1000)  # to hear it lost it
            return False

    async def _take(self, consumer: AIOKafkaConsumer, assigned: frozenset[TopicPartition]) -> None:
        producer = self.producer_factory(self)
        await start_or_give_up(producer, "link")
        self._producer = producer
        started = time.monotonic()
        self.transform.reset()
        count = await read_state(
            self.bootstrap, self.state_topic, self.transform.load, self.client_options
        )
        if count == 0 and self.migration is not None:
            count = await self._migrate(producer, assigned)
        for tp in assigned:
            resume = await self._resume_offset(consumer, tp)
            if resume is None:
                await consumer.seek_to_beginning(tp)
                resume = (await consumer.beginning_offsets([tp]))[tp]
            else:
                consumer.seek(tp, resume)
            self._linked_to[tp] = resume
        self._owned = assigned
        log.info(
            "link loop took its partition",
            extra={"count": count, "seconds": round(time.monotonic() - started, 3)},
        )

    async def _resume_offset(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
        """Where to link from: the state's next offset, committed in the same transaction
        as the outputs; the group's committed offset only for a state that holds none."""
        kept = self.transform.next_offset()
        return kept if kept is not None else await consumer.committed(tp)

    async def _migrate(
        self, producer: AIOKafkaProducer, assigned: frozenset[TopicPartition]
    ) -> int:
        """Move a state over (from the faust link tables) into the empty state topic:
        its records and the offset to start from, in one transaction, so that a kill
        before the commit leaves the topic empty and the group without an offset, and
        the next owner moves it again. How many records."""
        assert self.migration is not None
        moved = await self.migration()
        if moved is None:
            return 0
        try:
            await producer.begin_transaction()
            sent = [
                await producer.send(self.state_topic, value, key=key, partition=0)
                for key, value in moved.state
            ]
            offsets = dict.fromkeys(assigned, moved.offset)
            await producer.send_offsets_to_transaction(offsets, self.group)
            for acknowledgement in sent:
                await acknowledgement
            migrated = LinkedBatch([], list(moved.state), [MIGRATED])
            if inspect.isawaitable(waiting := self.before_commit(migrated)):
                await waiting
            await producer.commit_transaction()
        except ProducerFenced as exc:
            raise Fenced("the link stage's transactional id is taken") from exc
        for key, value in moved.state:
            self.transform.load(key, value)
        log.info(
            "link loop moved the faust link tables over",
            extra={"count": len(moved.state), "offset": moved.offset},
        )
        return len(moved.state)

    async def _release(self) -> None:
        if self._offsets is not None:
            await self._offsets.flush()
        producer, self._producer = self._producer, None
        self._owned = frozenset()
        self._linked_to = {}
        if producer is not None:
            await stop_quietly(producer, "link")

    async def _abort(self) -> None:
        """Abort the open transaction, if the producer still can; the caller then gives
        the producer up, and the next one (initialised with the same transactional id)
        aborts whatever this one could not.

        aiokafka refuses an abort its transaction manager's state does not allow with an
        AssertionError (`_transition_to`): `bench.chaos` seed 2 had Kafka stop while a
        batch's offsets were being sent to the transaction, the sender routine failed on
        FindCoordinator ("Unexpected error in sender routine"), and the abort asserted.
        Uncaught, it stopped the worker at the very moment Kafka came back, and its
        partitions moved to the other worker mid-restart (docs/notes/faust-kafka.md)."""
        producer = self._producer
        if producer is None:
            return
        try:
            await abort_quietly(producer, "link", fenced=True)
        except ProducerFenced as exc:
            raise Fenced("the link stage's transactional id is taken") from exc

    async def _batch(self, fetched: Mapping[TopicPartition, Sequence[Any]]) -> None:
        messages = [m for ms in fetched.values() for m in ms]
        batch = await self.transform(
            [m.value or b"" for m in messages], [m.offset for m in messages]
        )
        wired = [self._wire(record) for record, _ in batch.outgoing]  # a fault: raised
        producer = self._producer
        assert producer is not None
        offsets = {tp: ms[-1].offset + 1 for tp, ms in fetched.items() if ms}  # the group's
        try:
            await producer.begin_transaction()
            placed = await placed_records(producer, wired)
            closing = offsets_plan.closing([(t, p) for t, p, _, _ in placed])
            sent = [
                await producer.send(
                    t, v, key=k, partition=p, headers=[CLOSING_HEADER] if closes else None
                )
                for (t, p, k, v), closes in zip(placed, closing, strict=True)
            ]
            sent += [
                await producer.send(self.state_topic, value, key=key, partition=0)
                for key, value in batch.state
            ]
            for acknowledgement in sent:
                await acknowledgement  # raises if a send failed: then nothing is committed
            if inspect.isawaitable(waiting := self.before_commit(batch)):
                await waiting
            await producer.commit_transaction()
        except ProducerFenced as exc:
            raise Fenced("the link stage's transactional id is taken") from exc
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the loop itself is stopping
            # the producer's own waits cancelled: its sender stopped on a fatal error
            # (ProducerFenced, a sequence or authorisation error), and it can write no more
            raise Fenced("the link producer stopped on a fatal error") from exc
        self._commit_offsets(offsets)
        self._linked_to.update(offsets)
        self.on_committed(batch.outgoing)

    def _commit_offsets(self, offsets: Mapping[TopicPartition, int]) -> None:
        """The group's offsets, committed outside the transaction, at most once a second.

        Where the loop links from is the state's next offset (`_resume_offset`),
        written in the batch's transaction; the group's offset only says how far it is
        for the tools that read it (lag, kafka-consumer-groups). In the transaction
        (`send_offsets_to_transaction`) it cost two more round trips to the
        coordinators a batch, AddOffsetsToTxn and TxnOffsetCommit, one after the other
        and before the commit: 19 ms of the 73 a transaction took at 100 events/s."""
        if self._offsets is not None:
            self._offsets.note(offsets)

    def _wire(self, record: Any) -> Wired:
        """As `KafkaSink` encodes a record (broker/kafka/sink.py)."""
        value = self.encoder.encode(record.value, topic=record.topic)
        key = record.key.encode("utf-8") if record.key is not None else None
        return record.topic, key, value


CLOSING_HEADER = (offsets_plan.CLOSES_TRANSACTION, b"")
"""On the last record a transaction writes to a partition: the child stage then knows
the offset after it for the transaction's marker, without asking Kafka
(broker.pipeline.offsets)."""


async def read_state(
    bootstrap: str,
    topic: str,
    load: Callable[[bytes, bytes | None], None],
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """Every committed record of the state topic, from its beginning to its end, handed
    to `load` in order; how many."""
    partitions = (await partition_counts(bootstrap, [topic], client_options))[topic]
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    return await read_committed(
        bootstrap, tps, lambda tp, key, value: load(key, value), client_options
    )
