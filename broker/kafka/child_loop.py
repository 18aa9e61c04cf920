"""The child stage as a batched consume -> step -> produce loop, a Kafka transaction per
partition and batch.

With `MASH_CHILD_STAGE=loop` the worker runs this beside faust instead of the faust
`child` agent: its own `AIOKafkaConsumer` on broker.linked.v1 (group `<app id>-child`,
read_committed, no auto-commit, the worker's static member id) and, for each partition
it owns, a transactional producer `<app id>-child-<partition>`: whoever takes a
partition over fences whoever had it, as the link loop's one producer does. For each
batch, each partition's messages in turn:

1. the agent's own function (`agents.child.handle_child_batch`) steps them over the
   partition's state in memory (broker/kafka/child_state.py: the faust tables' three
   mappings, restored from their changelog topics), its records gathered, not sent;
2. one transaction on the partition's producer: every record (the last one to each
   partition marked, as the link loop marks it: broker.pipeline.offsets), and every
   change of the state as a changelog record, the partition's next offset among them
   (`next_offset_key`); the sends are awaited before the commit (aiokafka commits a
   transaction one of whose sends failed). The group's offsets are committed after it,
   outside it, only for the tools that read them.
3. a Kafka error aborts the open transactions; every partition is then given up and
   taken again (its state read again from the changelogs, read committed, and its
   messages from the state's next offset), with backoff. A producer fenced mid-batch
   is a partition taken over (`PartitionTaken`): every partition is given up and taken
   again as the group now assigns them. A rebalance alone gives up nothing it keeps
   (below).

Taking a partition: its producer is started (which aborts what a killed owner left
open), its part of the three changelogs read to their end, read committed, and the
partition read from the state's next offset; a partition whose state holds none starts
where the faust agent's group (the app id) had committed, or at the beginning. The faust
agent's state is in those same changelogs, so a worker switched from the agent to the
loop starts from it: nothing moves. What it then handles again (the agent kept its
offset after a batch's records) it recognises by the picture's last message
(`agents.child.handled_before`), as the agent did.

Across a rebalance the loop keeps what it still holds. At each new assignment (an
`Assignments` listener counts them: a rebalance that leaves the partitions as they were
still resets their positions, and `consumer.assignment()` alone would not show it), with
no failure pending: a partition no longer assigned is given up (its producer stopped, its
keys and writes dropped from the maps: `StateMap.drop`); a partition kept keeps its
producer and its state, and the consumer is sought back to the offset it handles next
(`_next`: aiokafka resets a new assignment's positions to the group's committed offsets,
which trail); a new partition is taken as above, only its changelogs read
(`StateMap.load` touches no other partition's keys). The store's caches are forgotten
whole (`ChildStore.forget`: a partition dropped may come back with another worker's
pictures; what is lost is a few thousand pictures parsed again, not a changelog read).
After a kill, the surviving worker reads the killed one's partitions only.

Why a kept partition's state is right: it equals the partition's committed state, since
every batch either committed or failed, and a failure (a Kafka error, a fencing, in a
batch or while taking) gives every partition up and takes them all again, as before.
Had the partition gone to another worker and come back between two looks at the
assignment, that worker either never took it (nothing committed: the state is still
right) or started the producer `<app id>-child-<p>`, which fenced this one. Then
whatever it committed came from messages at or past our next offset, which the seek
reads again: our next transaction on the partition fails with ProducerFenced
(`PartitionTaken`), and everything is given up and read again. Nothing stale is ever
committed. The rest of the loop does not break it:
- the ticker looks only at the partitions held (`owned_partitions`, `_next`'s), and a
  partition leaves `_next` before its state is dropped; a tick from a state gone stale
  is a message like any other, stepped on the fresh state or failing with the fencing;
- `_next` past a transaction marker is only ever a position the consumer reached after
  records all handled: seeking there skips the marker, nothing else; messages below it
  that a reset position hands over before the loop hears of the rebalance are dropped
  before the step (`_unhandled`);
- the group's offsets, committed at most once a second (broker.kafka.group_offsets,
  those waiting committed when the partitions are given up), only trail the state's next
  offsets; a partition no longer assigned is left out, and they are read only where the
  state holds no next offset;
- a batch whose partition was taken away while it committed reads no position there
  (`_position`: aiokafka would raise, and every partition be given up).

Deadlines: the ticker is the agent's (`agents.child.Ticker`), over the loop's store and
the partitions it owns; its ticks are sent by the worker's producer, outside any
transaction, and handled in order with the child's events.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced

from broker.errors import Fenced
from broker.kafka.admin import committed_offsets
from broker.kafka.child_state import CHILD_TABLES, StateMap, child_state_maps
from broker.kafka.group_offsets import GroupOffsets
from broker.kafka.link_loop import CLOSING_HEADER
from broker.kafka.placement import Wired, placed_records
from broker.kafka.tables import changelog_topic
from broker.kafka.transactions import (
    abort_quietly,
    lag_from,
    read_committed,
    start_or_give_up,
    stop_quietly,
    transactional_producer,
)
from broker.pipeline import offsets as offsets_plan
from broker.pipeline.child_store import ChildStore
from broker.pipeline.sink import Encoder, Outgoing
from broker.topics import LINKED

log = logging.getLogger(__name__)

Handle = Callable[
    [Sequence[tuple[bytes, int]], Sequence[int], ChildStore, "Gathered"],
    Awaitable[Sequence[str]],
]
"""Steps one partition's messages ((bytes, partition), their offsets) over the store,
handing the records to the sink (agents.child.handle_child_batch); each one's outcome."""


TableReader = Callable[
    [str, str, Sequence[int], Mapping[str, StateMap], Mapping[str, Any] | None], Awaitable[int]
]
"""Reads the given partitions of the child tables' changelogs into the maps (`read_tables`;
a port: the tests count what is read)."""


async def read_tables(
    bootstrap: str,
    app_id: str,
    partitions: Sequence[int],
    maps: Mapping[str, StateMap],
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """The given partitions of the three changelogs, committed records only, from their
    beginning to their end, loaded into the maps in order; how many records."""
    by_topic = {changelog_topic(app_id, table): table for table in maps}
    tps = [TopicPartition(topic, p) for topic in by_topic for p in partitions]

    def load(tp: TopicPartition, key: bytes, value: bytes | None) -> None:
        maps[by_topic[tp.topic]].load(tp.partition, key, value)

    return await read_committed(bootstrap, tps, load, client_options)


def child_producer(loop: ChildLoop, partition: int) -> AIOKafkaProducer:
    """The transactional producer a partition is taken with (a port: the tests hand a
    fake)."""
    return transactional_producer(
        loop.bootstrap,
        loop.transactional_id(partition),
        linger_ms=loop.linger_ms,
        batch_bytes=loop.batch_bytes,
        client_options=loop.client_options,
    )


class Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts the assignments the group hands the loop's consumer. Each rebalance gives
    it a new assignment whose positions are the group's committed offsets, which this
    loop commits lazily (they may trail) — even one that leaves its partitions as they
    were, which comparing `consumer.assignment()` alone would not see."""

    def __init__(self) -> None:
        self.count = 0

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.count += 1


class Gathered:
    """The sink a partition's step writes to: records kept, sent in the transaction."""

    def __init__(self) -> None:
        self.outgoing: list[Outgoing] = []

    async def send(self, record: Any, *, recorded_at: Any = None) -> None:
        self.outgoing.append((record, recorded_at))

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        self.outgoing.extend(records)


class PartitionTaken(Exception):
    """A partition's producer was fenced mid-batch: another worker took the partition (a
    rebalance this worker's consumer had not yet heard of, or this worker paused past
    its session timeout). Its transaction is aborted by the new owner; the loop gives up
    every partition and takes what the group assigns it now (`run`), rather than stop
    the worker as the link loop's fencing does: with a producer per partition, every
    rebalance of a busy worker could meet one."""


@dataclass(frozen=True)
class PartitionBatch:
    """One partition's part of a batch, stepped and ready for its transaction."""

    tp: TopicPartition
    outgoing: Sequence[Outgoing]
    wired: Sequence[Wired]
    state: Sequence[tuple[str, bytes, bytes | None]]
    """The state's changes: (changelog topic, key, value or None)."""
    next_offset: int
    outcomes: Sequence[str] = ()
    """Each message's outcome (agents.child), reported once the transaction commits."""


@dataclass
class ChildLoop:
    handle: Handle
    encoder: Encoder
    bootstrap: str
    app_id: str
    client_options: Mapping[str, Any] = field(default_factory=dict)
    batch_max: int = 500
    instance_id: str | None = None
    session_timeout_ms: int = 10_000
    heartbeat_ms: int = 1_000
    linger_ms: int = 5
    batch_bytes: int = 262_144
    fetch_wait_ms: int = 20
    on_committed: Callable[[PartitionBatch], object] = lambda batch: None
    """Hears of a partition's batch once its transaction has committed (the metrics: its
    records and its outcomes, counted once however often a batch is stepped again)."""
    before_commit: Callable[[PartitionBatch], object] = lambda batch: None
    """Runs once a partition's sends are acknowledged, before its commit (the tests' kill)."""
    maps: dict[str, StateMap] = field(default_factory=child_state_maps)
    producer_factory: Callable[[ChildLoop, int], AIOKafkaProducer] = child_producer
    table_reader: TableReader = read_tables
    store: ChildStore = field(init=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)
    _producers: dict[int, AIOKafkaProducer] = field(default_factory=dict, init=False)
    _next: dict[TopicPartition, int] = field(default_factory=dict, init=False)
    """Per partition held, the offset handled next (committed): where its lag counts from.
    Past a transaction's marker that follows the last record handled (the consumer's
    position): else a partition the link loop wrote last would lag by one for ever."""
    _offsets: GroupOffsets | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.store = ChildStore(*(self.maps[table] for table in CHILD_TABLES))

    @property
    def group(self) -> str:
        return f"{self.app_id}-child"

    def transactional_id(self, partition: int) -> str:
        return f"{self.app_id}-child-{partition}"

    def held(self) -> int:
        """How many partitions this loop holds (taken, state read): readiness counts them."""
        return len(self._next)

    def owned_partitions(self) -> set[int]:
        """The partitions of broker.linked.v1 this loop holds (the ticker's)."""
        return {tp.partition for tp in self._next}

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Step until `stop` is set (or the task is cancelled); raises `Fenced`."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            group_instance_id=self.instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_ms,
            fetch_max_wait_ms=self.fetch_wait_ms,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            **self.client_options,
        )
        assignments = Assignments()
        consumer.subscribe([LINKED.name], listener=assignments)
        await consumer.start()
        self._consumer = consumer
        self._offsets = GroupOffsets(consumer, "child")
        delay = 0.2
        taken_at = 0  # the assignment (its count) the partitions held were taken for
        try:
            while stop is None or not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=100, max_records=self.batch_max)
                assigned = frozenset(consumer.assignment())
                if assigned != frozenset(self._next) or assignments.count != taken_at:
                    seen = assignments.count
                    if await self._try_take(consumer, assigned):
                        taken_at = seen
                    else:
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 10.0)
                    continue  # what was fetched is read again from each partition's next offset
                if not fetched:
                    continue
                try:
                    await self._batch(fetched)
                    delay = 0.2
                except (KafkaError, PartitionTaken) as exc:
                    log.warning(
                        "child transaction failed; aborted, stepping the batch again",
                        extra={"error": type(exc).__name__},
                    )
                    await self._release()  # taken again at the next turn: state and offsets
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            await self._release()
            await consumer.stop()

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet handled, per partition this loop holds: its highwater less the
        offset it handles next (read at scrape time, never raising)."""
        return lag_from(self._consumer, self._next)

    async def _try_take(
        self, consumer: AIOKafkaConsumer, assigned: frozenset[TopicPartition]
    ) -> bool:
        """Hold the assigned partitions: those held already kept, the others given up or
        taken (`_take`); False (all given up, taken again at the next turn) on a Kafka
        error or a fencing while taking them (another owner's producer initialised in the
        same moment of a rebalance: see broker.kafka.link_loop, `_try_take`)."""
        try:
            await self._take(consumer, assigned)
            return True
        except (KafkaError, Fenced) as exc:
            log.warning(
                "child loop could not take its partitions; trying again",
                extra={"error": type(exc.__cause__ or exc).__name__},
            )
            await self._release()
            if isinstance(exc, Fenced):
                await asyncio.sleep(2 * self.heartbeat_ms / 1000)
            return False

    async def _take(self, consumer: AIOKafkaConsumer, assigned: frozenset[TopicPartition]) -> None:
        """Give up the partitions no longer assigned, keep the others held (producer and
        state; sought back to their next offset: the new assignment's positions are the
        group's committed offsets), and take the new ones (see the module's doc)."""
        started = time.monotonic()
        await self._give_up([tp for tp in self._next if tp not in assigned])
        kept = {tp: self._next[tp] for tp in assigned if tp in self._next}
        new = sorted((tp for tp in assigned if tp not in kept), key=lambda tp: tp.partition)
        partitions = [tp.partition for tp in new]
        await self._start_producers(partitions)
        count = 0
        if partitions:
            count = await self.table_reader(
                self.bootstrap, self.app_id, partitions, self.maps, self.client_options
            )
        self.store.forget()  # its caches were filled while the new ones were read
        resume = await self._resume_offsets(consumer, new)
        for tp, offset in kept.items():
            consumer.seek(tp, offset)
        self._next.update(resume)
        log.info(
            "child loop took its partitions",
            extra={
                "count": count,
                "partitions_kept": len(kept),
                "partitions_read": len(new),
                "seconds": round(time.monotonic() - started, 3),
            },
        )

    async def _resume_offsets(
        self, consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Where each partition taken is read from, the consumer sought there: the state's
        next offset, else the group's (`_fallback_offsets`), else the beginning."""
        missing = [tp for tp in tps if self.store.next_offset(tp.partition) is None]
        fallback = await self._fallback_offsets(missing)
        resumed = {}
        for tp in tps:
            kept = self.store.next_offset(tp.partition)
            resume = kept if kept is not None else fallback.get(tp)
            if resume is None:
                await consumer.seek_to_beginning(tp)
                resume = (await consumer.beginning_offsets([tp]))[tp]
            else:
                consumer.seek(tp, resume)
            resumed[tp] = resume
        return resumed

    async def _start_producers(self, partitions: Sequence[int]) -> None:
        """A producer for each partition, started together (each start is a few round
        trips to the transaction coordinator: one after the other, a dozen of them were
        a second of every rebalance); if one fails, the first failure is raised and the
        others are left to `_release`."""
        started = await asyncio.gather(
            *(self._started(partition) for partition in partitions), return_exceptions=True
        )
        failed = None
        for partition, result in zip(partitions, started, strict=True):
            if isinstance(result, BaseException):
                failed = failed or result
            else:
                self._producers[partition] = result
        if failed is not None:
            raise failed

    async def _started(self, partition: int) -> AIOKafkaProducer:
        producer = self.producer_factory(self, partition)
        await start_or_give_up(producer, "child")
        return producer

    async def _fallback_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """For partitions the state holds no next offset for: this loop's group's
        committed offsets, else the faust agent's group's (the app id's)."""
        if not tps:
            return {}
        opts = self.client_options
        ours = await committed_offsets(self.bootstrap, self.group, tps, opts)
        rest = [tp for tp in tps if tp not in ours]
        agent = await committed_offsets(self.bootstrap, self.app_id, rest, opts) if rest else {}
        return {**agent, **ours}

    async def _give_up(self, tps: Sequence[TopicPartition]) -> None:
        """Give up the partitions no longer assigned, keeping the others: each one's
        producer stopped (as `_release` does), its state dropped from every map, writes
        not taken included (none are outside a batch: they are taken into its
        transactions), and the store's caches forgotten (they may picture its children).
        Stopped before dropped: the ticker looks at the partitions held only."""
        if not tps:
            return
        partitions = [tp.partition for tp in tps]
        for tp in tps:
            del self._next[tp]
        for mapping in self.maps.values():
            mapping.drop(partitions)
        self.store.forget()
        for partition in partitions:
            producer = self._producers.pop(partition, None)
            if producer is not None:
                await stop_quietly(producer, "child")

    async def _release(self) -> None:
        """Give every partition up: its producer stopped (aborting nothing: the next owner's
        start aborts what is open), its state forgotten."""
        if self._offsets is not None:
            await self._offsets.flush()
        producers, self._producers = self._producers, {}
        self._next = {}
        for mapping in self.maps.values():
            mapping.reset()
        self.store.forget()
        for producer in producers.values():
            await stop_quietly(producer, "child")

    async def _batch(self, fetched: Mapping[TopicPartition, Sequence[Any]]) -> None:
        fresh = {tp: self._unhandled(tp, messages) for tp, messages in fetched.items()}
        stepped = [await self._step(tp, messages) for tp, messages in fresh.items() if messages]
        results = await asyncio.gather(
            *(self._commit(batch) for batch in stepped), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        for batch in stepped:  # past the link loop's marker after the last record, if any:
            self._next[batch.tp] = max(batch.next_offset, await self._position(batch.tp))
        self._commit_offsets({batch.tp: batch.next_offset for batch in stepped})

    def _unhandled(self, tp: TopicPartition, messages: Sequence[Any]) -> Sequence[Any]:
        """The messages from the partition's next offset on. The loop seeks there at each
        assignment, but a position reset by a rebalance (to the group's committed offset,
        which trails) that reached the fetcher before the loop heard of the rebalance
        would hand it messages already committed: those are not stepped again."""
        handled = self._next.get(tp)
        if handled is None or not messages or messages[0].offset >= handled:
            return messages
        return [m for m in messages if m.offset >= handled]

    async def _position(self, tp: TopicPartition) -> int:
        """The consumer's position on a partition just committed; 0 (nothing past the
        batch) if a rebalance has taken it away meanwhile: the next turn gives it up
        (asked, aiokafka would raise, and the loop give every partition up)."""
        consumer = self._consumer
        if consumer is None or tp not in consumer.assignment():
            return 0
        return int(await consumer.position(tp))

    async def _step(self, tp: TopicPartition, messages: Sequence[Any]) -> PartitionBatch:
        """Step a partition's messages over the state in memory; its records and the
        state's changes, ready to send (nothing sent yet)."""
        for mapping in self.maps.values():
            mapping.partition = tp.partition
        gathered = Gathered()
        items = [(m.value or b"", tp.partition) for m in messages]
        outcomes = await self.handle(items, [m.offset for m in messages], self.store, gathered)
        wired = [self._wire(record) for record, _ in gathered.outgoing]  # a fault: raised
        state = [
            (changelog_topic(self.app_id, table), key, value)
            for table, mapping in self.maps.items()
            for key, value in mapping.taken(tp.partition)
        ]
        return PartitionBatch(
            tp, gathered.outgoing, wired, state, messages[-1].offset + 1, outcomes
        )

    async def _commit(self, batch: PartitionBatch) -> None:
        producer = self._producers[batch.tp.partition]
        try:
            await producer.begin_transaction()
            placed = await placed_records(producer, list(batch.wired))
            closing = offsets_plan.closing([(t, p) for t, p, _, _ in placed])
            sent = [
                await producer.send(
                    t, v, key=k, partition=p, headers=[CLOSING_HEADER] if closes else None
                )
                for (t, p, k, v), closes in zip(placed, closing, strict=True)
            ]
            sent += [
                await producer.send(topic, value, key=key, partition=batch.tp.partition)
                for topic, key, value in batch.state
            ]
            for acknowledgement in sent:
                await acknowledgement  # raises if a send failed: then nothing is committed
            if inspect.isawaitable(waiting := self.before_commit(batch)):
                await waiting
            await producer.commit_transaction()
        except ProducerFenced as exc:  # taken over: given up with the rest, taken again
            raise PartitionTaken(f"partition {batch.tp.partition} taken over") from exc
        except KafkaError:
            await abort_quietly(producer, "child")
            raise
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the loop itself is stopping
            raise Fenced("the child producer stopped on a fatal error") from exc
        self._next[batch.tp] = batch.next_offset
        self.on_committed(batch)

    def _commit_offsets(self, offsets: Mapping[TopicPartition, int]) -> None:
        """The group's offsets, committed outside the transactions, at most once a second
        (where the loop reads from is the state's next offset: see the module's doc)."""
        if self._offsets is not None:
            self._offsets.note(offsets)

    def _wire(self, record: Any) -> Wired:
        """As `KafkaSink` encodes a record (broker/kafka/sink.py)."""
        value = self.encoder.encode(record.value, topic=record.topic)
        key = record.key.encode("utf-8") if record.key is not None else None
        return record.topic, key, value
