"""A stage reads again what the consumer skipped (broker.pipeline.offsets).

faust can commit a message its stream skipped around a rebalance; the link stage and
the child stage each keep, per partition, the next offset they expect with every
durable batch, and hand on only what follows on from it. The consumer is sought back
to a gap; the partition's messages from the gap on are dropped (acknowledged with the
batch) and come again after the seek.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import faust

from agents.guard import message_context
from broker.kafka.gaps import GapProbe
from broker.pipeline import offsets

log = logging.getLogger(__name__)

Expected = Callable[[int], offsets.Next | int | None]
"""A partition's next offset as the stage's table holds it, read in the context of one
of that partition's messages (faust reads a table from the current message's
partition)."""


def closes(message: Any) -> bool:
    """Whether a message closes a link loop transaction (a message with no headers,
    as some ports give, closes none)."""
    return offsets.closes_transaction(getattr(message, "headers", None))


class Rewind:
    """Hands on only the part of a batch that follows each partition's last durable batch
    without a gap, and seeks the consumer back to a gap. A seek of a partition is not
    repeated within `PATIENCE` seconds: messages fetched before it are still arriving,
    and are dropped, not sought for again. After `ATTEMPTS` seeks to one offset the gap
    is taken as Kafka's own (the messages deleted by retention while no worker read
    them) and logged as an error."""

    PATIENCE: float = 2.0
    ATTEMPTS: int = 5

    def __init__(
        self, app: faust.App, expected: Expected, stage: str, probe: GapProbe | None = None
    ) -> None:
        self.app = app
        self.expected = expected
        self.stage = stage
        self.probe = probe
        """Tells a gap of no records (a transaction's marker: the link loop writes the
        stage's topic in transactions) from skipped messages; None: every gap is skipped
        messages (only plain producers write the topic)."""
        self.sought: dict[tuple[int, int], int] = {}
        """(partition, offset) -> how many times the consumer was sought back there."""
        self.last: dict[int, float] = {}
        """partition -> when it was last sought (the event loop's clock)."""
        self._looking: set[asyncio.Task[None]] = set()
        """The looks again after a seek (`_look_again`), kept until done."""

    async def follow_on(self, events: Sequence[Any]) -> Sequence[Any]:
        enter = message_context(events)
        partitions = [e.message.partition for e in events]
        expected: dict[int, offsets.Next | int | None] = {}
        for position, partition in enumerate(partitions):
            if partition not in expected:
                enter(position)
                expected[partition] = self.expected(partition)
        found = [(p, e.message.offset) for p, e in zip(partitions, events, strict=True)]
        closing = [closes(e.message) for e in events]
        by_partition: dict[int, list[Any]] = {}
        for partition, event in zip(partitions, events, strict=True):
            by_partition.setdefault(partition, []).append(event)
        take = {
            partition: await self._take(partition, plan, by_partition[partition])
            for partition, plan in offsets.plan_partitions(found, expected, closing).items()
        }
        handed = (
            events
            if sum(take.values()) == len(events)
            else [events[position] for position in offsets.handed_on(partitions, take)]
        )
        await self._note_markers(handed)
        return handed

    async def _note_markers(self, events: Sequence[Any]) -> None:
        """Tell faust's consumer of each marker seen between two handed messages (one
        that closes a transaction, the next two offsets on), so that it commits past it
        (broker.kafka.transport, `no_records_in`)."""
        last: dict[int, Any] = {}
        for event in events:
            message = event.message
            before = last.get(message.partition)
            if before is not None and closes(before) and message.offset == before.offset + 2:
                noted = getattr(self.app.consumer, "no_records_in", None)
                if noted is not None:
                    await noted(message.tp, before.offset + 1, message.offset)
            last[message.partition] = message

    async def _take(self, partition: int, plan: offsets.Plan, events: Sequence[Any]) -> int:
        """How many of one partition's messages to hand on, seeking back to a gap."""
        taken = 0
        while plan.seek_to is not None and self.probe is not None:
            first = events[taken + plan.take].message
            if not await self.probe.empty(first.tp.topic, partition, plan.seek_to, first.offset):
                break
            noted = getattr(self.app.consumer, "no_records_in", None)
            if noted is not None:  # broker.kafka.transport's consumer: commit past it
                await noted(first.tp, plan.seek_to, first.offset)
            taken += plan.take  # a marker's gap: what follows it follows on
            rest = events[taken:]
            plan = offsets.plan(
                [e.message.offset for e in rest],
                first.offset,
                [closes(e.message) for e in rest],
            )
        if plan.seek_to is None:
            self._settled(partition)
            return taken + plan.take
        first = events[taken + plan.take].message
        gap = {  # fields the logs keep (broker.ops.logs): where from, how many offsets
            "stage": self.stage,
            "topic": first.tp.topic,
            "partition": partition,
            "offset": plan.seek_to,
            "count": first.offset - plan.seek_to,
        }
        tries = (partition, plan.seek_to)
        if self.sought.get(tries, 0) >= self.ATTEMPTS:
            log.error("offsets gone from Kafka, never handled", extra=gap)
            self._settled(partition)
            return len(events)
        now = asyncio.get_running_loop().time()
        if now - self.last.get(partition, -math.inf) > self.PATIENCE:
            said = "offsets never handed to the stage; reading them again"
            await self._seek(first.tp, partition, plan.seek_to, said, gap)
        return taken + plan.take

    async def _seek(
        self, tp: Any, partition: int, offset: int, said: str, where: dict[str, Any]
    ) -> None:
        """Seek `tp` back to `offset`, counted as a try, and look again later."""
        self.last[partition] = asyncio.get_running_loop().time()
        self.sought[(partition, offset)] = self.sought.get((partition, offset), 0) + 1
        log.warning(said, extra=where)
        await self.app.consumer.seek(tp, offset)
        self._look_again(tp, partition, offset)

    def _look_again(self, tp: Any, partition: int, offset: int) -> None:
        """Whether the seek took is known only when the next batch comes: a rebalance
        right after it seeks the partition to the committed offset, past the gap again
        (faust's skip after a restart, then the group's second rebalance as the loops
        join it). On a partition quiet but for the ticker's minute, that was a minute
        lost a time (tests/integration/test_batch_killed_half_sent.py). So, with nothing
        handed on from the gap meanwhile, the consumer is sought there again."""
        tries = self.sought.get((partition, offset), 0)
        task = asyncio.create_task(self._seek_again(tp, partition, offset, tries))
        self._looking.add(task)
        task.add_done_callback(self._looking.discard)

    async def _seek_again(self, tp: Any, partition: int, offset: int, tries: int) -> None:
        await asyncio.sleep(self.PATIENCE * 2)
        if self.sought.get((partition, offset)) != tries or tries >= self.ATTEMPTS:
            return  # handed on since, sought again by a batch, or for the next to judge
        where = {"stage": self.stage, "topic": tp.topic, "partition": partition, "offset": offset}
        said = "offsets never handed to the stage; seeking there again"
        try:
            await self._seek(tp, partition, offset, said, where)
        except Exception as exc:  # the partition taken away meanwhile: its owner reads it
            log.info("a seek not made again", extra={**where, "error": type(exc).__name__})

    def _settled(self, partition: int) -> None:
        self.sought = {k: n for k, n in self.sought.items() if k[0] != partition}
