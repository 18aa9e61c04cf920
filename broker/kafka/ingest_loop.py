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

Its group is `<app id>-ingest`. A partition this group has no offset for starts where
the faust `ingest` agent's group (the app id) had got to, so switching the stage over
(stop the workers, set the switch, start them) neither skips nor re-reads a message;
a partition neither group committed starts from the earliest offset, as faust does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from broker.kafka.admin import admin_client
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
        consumer.subscribe(list(self.topics), listener=_StartWhereFaustWas(self, consumer))
        await consumer.start()
        self._consumer = consumer
        try:
            while stop is None or not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=100, max_records=self.batch_max)
                if fetched:
                    await self._batch(consumer, fetched)
        finally:
            self._consumer = None
            await consumer.stop()

    async def _batch(
        self, consumer: AIOKafkaConsumer, fetched: Mapping[TopicPartition, Sequence[Any]]
    ) -> None:
        messages = [(m.value or b"", m.topic) for ms in fetched.values() for m in ms]
        await self.handle(messages)  # durable when it returns
        offsets = {tp: ms[-1].offset + 1 for tp, ms in fetched.items() if ms}
        try:
            await consumer.commit(offsets)
        except (KafkaError, AssertionError) as exc:  # a rebalance: read again, same records
            log.warning("ingest offsets not committed", extra={"error": type(exc).__name__})
            return
        self._handled_to.update(offsets)

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


class _StartWhereFaustWas(ConsumerRebalanceListener):  # type: ignore[misc]
    """A partition without an offset of this group starts at the faust agent's."""

    def __init__(self, loop: IngestLoop, consumer: AIOKafkaConsumer) -> None:
        self.loop = loop
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        for tp in revoked:
            self.loop._handled_to.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        fresh = [tp for tp in assigned if await self.consumer.committed(tp) is None]
        if fresh:
            before = await committed_offsets(
                self.loop.bootstrap, self.loop.app_id, fresh, self.loop.client_options
            )
            for tp, offset in before.items():
                self.consumer.seek(tp, offset)
            if before:
                log.info(
                    "ingest loop starts where the faust agent was", extra={"count": len(before)}
                )
        for tp in assigned:  # where its lag counts from until a batch of it is handled
            self.loop._handled_to[tp] = await self.consumer.position(tp)


async def committed_offsets(
    bootstrap: str,
    group: str,
    partitions: Sequence[TopicPartition],
    client_options: Mapping[str, Any] | None = None,
) -> dict[TopicPartition, int]:
    """The offsets `group` committed for `partitions` (those it committed)."""
    admin = admin_client(bootstrap, client_options)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=list(partitions))
    finally:
        await admin.close()
    return {
        tp: meta.offset for tp, meta in committed.items() if meta is not None and meta.offset >= 0
    }
