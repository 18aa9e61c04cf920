"""Whether a run of offsets of a partition holds any record a consumer would be handed.

A stage that keeps the next offset it expects (broker.pipeline.offsets, agents.rewind)
reads a gap as messages its consumer skipped, and seeks back to them. That holds while
only plain producers write its topic. With the link stage as a transactional loop
(MASH_LINK_STAGE=loop, broker/kafka/link_loop.py), broker.linked.v1 also holds each
transaction's commit (or abort) marker: a control record, which takes an offset and is
never handed to a consumer. So every transaction leaves a gap of one offset on each
partition it wrote, and the child stage sought back to each, in vain, for seconds.

`GapProbe` tells a marker's gap from a skipped message: it reads the partition from the
gap's first offset, as the worker's faust consumer reads (read_uncommitted), and the gap
is empty when the first record it is handed is at or past the gap's end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)

ATTEMPTS = 10
"""Fetches before a probe gives up (each waits up to a second for a record)."""


class GapProbe:
    """One consumer of no group, started when first needed and kept."""

    def __init__(self, bootstrap: str, client_options: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.client_options = dict(client_options or {})
        self._consumer: AIOKafkaConsumer | None = None

    async def empty(self, topic: str, partition: int, start: int, end: int) -> bool:
        """True when offsets `start` to `end - 1` hold no record a consumer is handed."""
        consumer = await self._started()
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        for _ in range(ATTEMPTS):
            fetched = await consumer.getmany(tp, timeout_ms=1000, max_records=1)
            records = fetched.get(tp, [])
            if records:
                return bool(records[0].offset >= end)
            if await consumer.position(tp) >= end:  # past the gap with nothing handed
                return True
        return False  # not known: the stage seeks back, as for a skipped message

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                isolation_level="read_uncommitted",  # as faust's own consumer reads
                fetch_max_wait_ms=50,
                **self.client_options,
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()
