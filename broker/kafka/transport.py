"""faust's aiokafka transport, with one fault fixed: a partition never committed is read
again from its beginning whenever faust seeks back to the committed offsets.

faust fetches while flow is suspended (restoring tables after a start or a rebalance) and
drops what it fetched for a stream's partitions: `Consumer.getmany` yields only records of
active partitions, and only while flow is active. It relies on seeking back to the
committed offsets afterwards (`perform_seek`, when the streams resume, and whenever
`getmany` finds flow inactive). aiokafka's `seek_to_committed` seeks only a partition
whose committed offset is above 0: a partition never committed (or committed at 0) keeps
the position past the dropped records, and those records are never handed to an agent
by that worker. `tests/integration/test_recovery_after_kill.py` failed so about one run
in two: a worker killed a few seconds after its previous restart had committed nothing
on two inbound partitions, and restarted, it fetched them from the beginning during its
recovery, dropped every record, and read on from their end, so the 12 police notices
sent meanwhile were never ingested (docs/notes/faust-kafka.md).

Here the consumer seeks those partitions to their beginning, which is what the group's
`auto_offset_reset="earliest"` means for a partition without a committed offset. Only the
agents' source topics: the tables' changelogs are positioned by faust's recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver

from broker.ops.faust_state import source_topics

log = logging.getLogger(__name__)


def never_committed(committed: Mapping[Any, int | None], sources: Collection[str]) -> list[Any]:
    """The partitions of `sources` that `seek_to_committed` left where they were: no
    committed offset, or 0 (aiokafka seeks only to an offset above 0)."""
    return [tp for tp, offset in committed.items() if not offset and tp.topic in sources]


class Consumer(driver.Consumer):
    async def seek_to_committed(self) -> Mapping[Any, int]:
        committed: Mapping[Any, int] = await super().seek_to_committed()
        unread = never_committed(committed, source_topics(self.app))
        if unread:
            try:
                await self._thread.seek_to_beginning(*unread)  # in the consumer's thread
            except Exception as exc:  # revoked meanwhile: the next assignment seeks again
                log.warning(
                    "could not read a partition never committed from its beginning",
                    extra={"count": len(unread), "error": type(exc).__name__},
                )
        return committed

    async def no_records_in(self, tp: Any, start: int, end: int) -> None:
        """Offsets `start` to `end - 1` of `tp` hold no record (a transaction's marker:
        broker.kafka.gaps): let faust commit past them. faust fills such gaps itself only
        for a stream that acknowledges its own messages (`_drain_messages`); our agents
        acknowledge a batch themselves (agents.guard.batches), and without this faust
        committed one gap further at each commit, the link loop's markers leaving the
        child stage's committed offsets minutes behind what it had handled."""
        await self._add_gap(tp, start, end - 1)


class Transport(driver.Transport):
    Consumer = Consumer


class App(faust.App):
    """faust's App on the transport above."""

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)
