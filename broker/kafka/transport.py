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

And a second: a seek back made while faust is still handing on what it fetched before
(agents.rewind seeks from inside an agent's batch) was undone. faust's `seek` sets the
partition's read offset to where it seeks, and `_drain_messages` drops any message below
its read offset; but it goes on through the rest of the fetch it holds, setting the read
offset to each of those messages' offsets, so the read offset was soon past the seek
again and every message read again from there was dropped, unseen. The child stage then
waited for the next message to come before it sought again (faust's own skip after a
restart, and a partition quiet but for the ticker's minute: three seeks lost, 3 minutes,
in tests/integration/test_batch_killed_half_sent.py). Here, after a seek, what is handed
on from the same fetch leaves the read offset where the seek put it (`ReadOffsets`);
with the next fetch, which begins from the new position, it moves again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any

import faust
from faust.transport.consumer import ensure_TP
from faust.transport.drivers import aiokafka as driver

from broker.ops.faust_state import source_topics

log = logging.getLogger(__name__)


def never_committed(committed: Mapping[Any, int | None], sources: Collection[str]) -> list[Any]:
    """The partitions of `sources` that `seek_to_committed` left where they were: no
    committed offset, or 0 (aiokafka seeks only to an offset above 0)."""
    return [tp for tp, offset in committed.items() if not offset and tp.topic in sources]


def _unread() -> int | None:
    return None


class ReadOffsets(defaultdict[Any, int | None]):
    """faust's read offsets (`Consumer._read_offset`: a message below its partition's is
    dropped), in which a seek back is not undone by the rest of the fetch in hand.

    `held`: the partitions sought back during the current fetch; a read offset set for
    one of them is ignored until the next fetch begins (`next_fetch`). Holding the read
    offset lower never drops a message: faust hands on every message at or past it."""

    def __init__(self) -> None:
        super().__init__(_unread)
        self.held: set[Any] = set()

    def sought(self, tp: Any, offset: int) -> None:
        """`tp` was sought to `offset` (faust's `seek` has set its read offset there)."""
        self.held.add(tp)
        dict.__setitem__(self, tp, offset if offset else None)

    def next_fetch(self) -> None:
        self.held.clear()

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        if tp not in self.held:
            super().__setitem__(tp, offset)

    def __delitem__(self, tp: Any) -> None:
        self.held.discard(tp)
        super().__delitem__(tp)

    def pop(self, tp: Any, *default: Any) -> Any:
        self.held.discard(tp)
        return super().pop(tp, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """faust's `perform_seek` (back to the committed offsets, after a rebalance):
        that position holds over any seek of the stages."""
        new = dict(*args, **kwargs)
        self.held.difference_update(new)
        super().update(new)


class Consumer(driver.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = ReadOffsets()

    async def seek(self, partition: Any, offset: int) -> None:
        await super().seek(partition, offset)
        read: ReadOffsets = self._read_offset  # type: ignore[assignment]
        read.sought(ensure_TP(partition), offset)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        read: ReadOffsets = self._read_offset  # type: ignore[assignment]
        read.next_fetch()  # what this fetch hands on was read from the new position
        async for item in super().getmany(timeout):
            yield item

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
        broker.kafka.gaps): let faust commit past them. faust notes a gap itself between
        two messages it fetches one after the other (`_drain_messages`, through
        `_add_gap` below); the child stage tells it too of the markers it passes
        (agents.rewind), which costs nothing when faust knew already."""
        await self._add_gap(tp, start, end)

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        """Offsets `offset_from` to `offset_to - 1` of `tp` hold no record.

        faust's one caller (`_drain_messages`, on a fetched message more than one past
        the last) passes the offset of that message as the gap's last, and faust's gap
        is inclusive: the message's own offset went into the gap as well as into the
        acknowledged offsets when it was handled. `_new_offset` merges the gap into
        them, and an offset there twice ends its run of consecutive offsets
        (`consecutive_numbers`), so faust committed up to the first duplicate, one
        marker's worth a commit: with the link loop's transactions (a marker after
        each one's last record on each partition), broker.linked.v1's committed offsets
        fell minutes behind what the child stage had handled (1,080 offsets in
        bench.chaos seed 2, 580 of 620 in tests/integration/test_link_loop_worker.py)
        and a restart read all of it again. robinhood/faust#625 and #559 are the
        same duplicate, met without knowing where it came from.

        Cost: faust merges the whole tree after every gap (`merge_overlaps` rebuilds
        it) and yields to the loop once. With the link loop there is a marker after
        each transaction on each partition it wrote, hundreds between two commits: the
        rebuilds took 9.5 s of a 162 s profiled bench.live run, more than half of
        faust's fetcher. Here a gap already noted (the child stage reports the markers
        faust saw: agents.rewind) changes nothing, and a new one is merged only when it
        overlaps another; the tree stays as faust keeps it, intervals apart."""
        last = offset_to - 1  # inclusive, as faust's gap is
        committed = self._committed_offset[tp]
        if committed is not None:
            offset_from = max(offset_from, committed + 1)
        if offset_from > last:
            return
        tree = self._gap[tp]
        found = tree.overlap(offset_from, last + 1)
        if any(i.begin <= offset_from and i.end >= last + 1 for i in found):
            return  # noted already
        tree.addi(offset_from, last + 1)
        if found:
            tree.merge_overlaps()


class Transport(driver.Transport):
    Consumer = Consumer


class App(faust.App):
    """faust's App on the transport above."""

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)
