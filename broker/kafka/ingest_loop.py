"""The ingest stage as a batched aiokafka consume -> decide -> produce loop.

`MASH_INGEST_STAGE=loop` runs it in the worker instead of the faust `ingest` agent.

Ingest keeps no state: each inbound message is decided on its own (`agents.ingest.
handle_inbound_batch`, the very function the faust `ingest` agent runs), and its records
carry ids made from the message itself (the event id; a rejection's id from the
bytes), so a message handled twice gives the same records and the link stage drops the
second accepted event as a duplicate (`dedupe`). What faust adds around it, per
message (its conductor, stream, acknowledgements, sensors and offset bookkeeping), cost
more than the decision itself (`python -m bench.live --phases worker1 --profile F`). So
this loop reads the inbound topics with its own `AIOKafkaConsumer` and does only this:

1. a batch of what is fetched (`getmany`, at most `batch_max`), every message decided
   and every record handed to the sink at once, which returns once all are durable
   (`KafkaSink.send_all`: the worker's producer, retried until acknowledged, never
   skipped);
2. only then the batch's offsets are committed: at least once, as the faust agent.
   A worker killed between the two, or a commit refused in a rebalance, has the batch
   read again by whoever holds the partitions next, and the same records sent again.
   The commit is not waited for: the next batch is fetched and decided while it goes
   (a round trip to the group's coordinator saved on every batch's way), and waited for
   before the next commit, so the commits go in order.

Its group is `<app id>-ingest`. A partition this group has no offset for starts where
the faust `ingest` agent's group (the app id) had committed, so switching the stage over
(stop the workers, set the switch, start them) skips no message, and reads again only
what the agent handled after its last commit (the same records again, as after any
restart); a partition neither group committed starts from the earliest offset, as
faust does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from broker.kafka.admin import committed_offsets, partition_counts
from broker.topics import INBOUND_TOPICS

log = logging.getLogger(__name__)

Handle = Callable[[Sequence[tuple[bytes, str]]], Awaitable[object]]
"""Decides a batch of (bytes, topic) and returns once its records are durable."""


@dataclass
class IngestLoop:
    handle: Handle
    bootstrap: str
    app_id: str
    client_options: Mapping[str, Any] = field(default_factory=dict)
    batch_max: int = 500
    instance_id: str | None = None
    session_timeout_ms: int = 10_000
    heartbeat_ms: int = 1_000
    topics: Sequence[str] = INBOUND_TOPICS
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)
    _handled_to: dict[TopicPartition, int] = field(default_factory=dict, init=False)
    _committing: asyncio.Future[None] | None = field(default=None, init=False)

    @property
    def group(self) -> str:
        return f"{self.app_id}-ingest"

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Ingest until `stop` is set (or the task is cancelled)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            group_instance_id=self.instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_ms,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=100,
            **self.client_options,
        )
        await self._start_where_faust_was()
        consumer.subscribe(list(self.topics))
        await consumer.start()
        self._consumer = consumer
        try:
            while stop is None or not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=100, max_records=self.batch_max)
                await self._note_positions(consumer)
                if fetched:
                    await self._batch(consumer, fetched)
        finally:
            await self._committed()
            self._consumer = None
            await consumer.stop()

    async def _batch(
        self, consumer: AIOKafkaConsumer, fetched: Mapping[TopicPartition, Sequence[Any]]
    ) -> None:
        messages = [(m.value or b"", m.topic) for ms in fetched.values() for m in ms]
        await self.handle(messages)  # durable when it returns
        offsets = {tp: ms[-1].offset + 1 for tp, ms in fetched.items() if ms}
        await self._committed()
        self._committing = asyncio.ensure_future(self._commit(consumer, offsets))

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except (KafkaError, AssertionError) as exc:  # a rebalance: read again, same records
            log.warning("ingest offsets not committed", extra={"error": type(exc).__name__})
            return
        held = consumer.assignment()  # not a partition given up while it committed
        self._handled_to.update({tp: o for tp, o in offsets.items() if tp in held})

    async def _committed(self) -> None:
        """Wait for the last batch's commit (it never raises)."""
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def _start_where_faust_was(self) -> None:
        """Before the loop joins its group: each inbound partition its group has no
        offset for is given the faust agent's committed offset, committed in the loop's
        group by a consumer outside it (allowed while the group has no member: a switch
        is a stop and a start). Not by seeking in a rebalance listener: the coordinator
        applies the reset policy to a partition without a committed offset after the
        listener returns, over the seek (the switch test read the whole first half
        again). A second worker starting as the first joined has its commit refused,
        and reads the offsets the first committed."""
        opts = self.client_options
        counts = await partition_counts(self.bootstrap, list(self.topics), opts)
        tps = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        ours = await committed_offsets(self.bootstrap, self.group, tps, opts)
        fresh = [tp for tp in tps if tp not in ours]
        before = await committed_offsets(self.bootstrap, self.app_id, fresh, opts) if fresh else {}
        if not before:
            return
        seeder = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False, **opts
        )
        await seeder.start()
        try:
            seeder.assign(list(before))
            await seeder.commit(dict(before))
            log.info("ingest loop starts where the faust agent was", extra={"count": len(before)})
        except KafkaError as exc:  # the group has a member already: it committed them
            log.warning("ingest offsets not moved over", extra={"error": type(exc).__name__})
        finally:
            await seeder.stop()

    async def _note_positions(self, consumer: AIOKafkaConsumer) -> None:
        """Where each newly assigned partition's lag counts from until a batch of it is
        handled: its position, asked here and not in a rebalance listener. There, a
        partition with a committed offset may have no position until the coordinator
        applies that offset, after the listener returns: a wait that need not end (a
        CI run's restarted worker never reported its inbound topics' lag)."""
        assigned = consumer.assignment()
        for tp in [tp for tp in self._handled_to if tp not in assigned]:  # revoked
            del self._handled_to[tp]
        for tp in assigned:
            if tp not in self._handled_to:
                self._handled_to[tp] = await consumer.position(tp)

    def held(self) -> int:
        """How many inbound partitions this loop is assigned: readiness counts them."""
        consumer = self._consumer
        return len(consumer.assignment()) if consumer is not None else 0

    def lag(self) -> dict[tuple[str, int], int]:
        """Inbound messages not yet handled, per partition this loop holds (its highwater
        less its position; read at scrape time, never raising)."""
        consumer = self._consumer
        if consumer is None:
            return {}
        lags = {}
        for tp in list(consumer.assignment()):
            highwater = consumer.highwater(tp)
            handled = self._handled_to.get(tp)
            if highwater is not None and handled is not None:
                lags[(tp.topic, tp.partition)] = max(0, highwater - handled)
        return lags
