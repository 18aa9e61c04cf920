"""A loop's consumer-group offsets, committed at most once a second.

The link and child loops resume from the next offset kept in their own state, written
in each batch's transaction (broker.kafka.link_loop, broker.kafka.child_loop). Their
groups' committed offsets only say how far they are, for the tools that read them
(`kafka-consumer-groups`, a lag exporter) and for a state that holds no next offset
yet. Committed after every batch, they were the fourth busiest request Kafka served at
100 events/s: 147 OffsetCommits a second (Kafka's request log, docs/notes/faust-kafka.md,
"What Kafka does at 100 events a second"), each also written to `__consumer_offsets`
by the broker shared with every transaction on the path.

So a loop notes each batch's offsets here and they are committed at most once every
`interval` seconds: the first at once, those noted within the interval together once it
has passed (the latest offset of each partition), so the committed offsets trail what
is handled by an interval at most, and reach the end once the loop is idle. `flush`
commits what is waiting at once (a loop giving its partitions up, or stopping).

Never raises: a commit refused (a rebalance under way, a partition given up) is logged
by its error's name and the next one commits on. A partition no longer assigned is
left out (aiokafka refuses a whole commit that names one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

COMMIT_SECONDS = 10.0
"""How long a commit of the group's offsets may take before it is given up."""


class GroupConsumer(Protocol):
    """What is asked of the consumer (a port: `AIOKafkaConsumer`, or the tests' fake)."""

    def assignment(self) -> Collection[TopicPartition]: ...

    def commit(self, offsets: dict[TopicPartition, int]) -> Awaitable[None]: ...


@dataclass
class GroupOffsets:
    consumer: GroupConsumer
    stage: str
    """Named in the warning a refused commit logs ("link", "child")."""
    interval: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _waiting: dict[TopicPartition, int] = field(default_factory=dict, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _last: float = field(default=-math.inf, init=False)
    _now: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def note(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Offsets handled (the next to handle, per partition), to commit in due time."""
        if not offsets:
            return
        self._waiting.update(offsets)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def flush(self) -> None:
        """Commit what is waiting now, and wait for it (and for a commit under way)."""
        task = self._task
        if task is not None:
            self._now.set()
            await task
        self._now.clear()

    async def _run(self) -> None:
        try:
            while self._waiting:
                pause = self._last + self.interval - self.clock()
                if pause > 0 and not self._now.is_set():
                    with contextlib.suppress(TimeoutError):  # the interval has passed
                        await asyncio.wait_for(self._now.wait(), pause)
                offsets, self._waiting = self._waiting, {}
                await self._commit(offsets)
                self._last = self.clock()
        finally:
            self._task = None

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        held = set(self.consumer.assignment())
        offsets = {tp: offset for tp, offset in offsets.items() if tp in held}
        if not offsets:
            return
        try:
            await asyncio.wait_for(self.consumer.commit(offsets), COMMIT_SECONDS)
        except (KafkaError, TimeoutError) as exc:  # a rebalance: the next one commits on
            log.warning(
                "%s group offsets not committed", self.stage, extra={"error": type(exc).__name__}
            )
