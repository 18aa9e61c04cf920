"""The real worker, with a sink that dies half-way through sending a batch.

`python -m tests.integration.crashing_worker` runs exactly `mash-broker worker` (the
composition root's `run_worker`), except that its sink is wrapped (a fault at the port,
not a patch of internals): the first batch that carries at least `CRASH_AT_BATCH` alerts
(or notifications, or disclosures) is handed over half, acknowledged, and then the
process SIGKILLs itself: no clean shutdown, no flush, no offset commit, state not
written. What a power cut or the kernel's OOM killer would do at the worst moment.
A worker short of CPU can write in pieces too small ever to hold `CRASH_AT_BATCH` of
them (seen once, with three CPU-bound processes on two cores: it never died, and the
test failed waiting): after `SMALL_BATCHES` batches that carried some but too few, the
next that carries two is the one.

With `CRASH_HOW=loop` (and MASH_LINK_STAGE=loop) the link loop's first batch of at least
`CRASH_AT_BATCH` records after `CRASH_AFTER_BATCHES` batches is sent in its transaction
and acknowledged (with `CRASH_ON_OUTCOME`, the first batch holding an event of that
outcome: `identity_decision`, a person's decision); the process then waits `CRASH_WAIT`
seconds (the child stage, whose
faust consumer reads uncommitted, meanwhile reads the batch's messages on
broker.linked.v1) and SIGKILLs itself before the commit: the transaction is left open,
to be aborted by the next owner.

With `CRASH_HOW=child` (and MASH_CHILD_STAGE=loop) the child loop's first partition batch
of at least `CRASH_AT_BATCH` records after `CRASH_AFTER_BATCHES` of them is sent in its
transaction (records and the tables' changes) and acknowledged; the process SIGKILLs
itself before the commit.

With `CRASH_HOW=migration` (and MASH_LINK_STAGE=loop) the link loop moves the faust link
tables over (broker.kafka.link_migration), has the migration's records acknowledged in
its transaction, and SIGKILLs itself before the commit.

With `CRASH_HOW=raise` the sink raises instead (`RuntimeError`) once the half is
acknowledged: a fault of the broker's own code escaping an agent's batch. faust would
restart the agent in the same process without the batch's messages (never processed,
never committed: the partition stalls while the worker says it is ready); the worker
must instead stop, and be restarted from its committed offsets (agents/guard.py).

With `CRASH_HOW=hang` the send never returns once the half is acknowledged: a stage
waiting for ever, as one run of bench.live in 28 had the whole worker wait. The worker
answers, is ready, and handles nothing; the watchdog (broker.ops.watchdog) must say so.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from broker.compose import run_worker
from broker.kafka.child_loop import PartitionBatch
from broker.kafka.link_loop import MIGRATED
from broker.pipeline.link_state import LinkedBatch
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import Outgoing, Sink
from broker.settings import Settings
from broker.topics import ALERTS

MARKER = "killed half-way through a batch"
RAISED = "a fault of our own half-way through a batch"
HUNG = "hung half-way through a batch"
TOLD = (".notification.v1", "audit.disclosure.v1")
SMALL_BATCHES = 10
"""Batches carrying too few alerts to cut, before any that carries two will do."""


class HalfThenKill:
    def __init__(self, inner: Sink, at_least: int, how: str = "kill") -> None:
        self.inner = inner
        self.at_least = at_least
        self.how = how
        self.raised = False
        self.small = 0  # batches that carried some alerts, too few to cut

    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        await self.inner.send(record, recorded_at=recorded_at)

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        told = sum(r.topic == ALERTS.name or r.topic.endswith(TOLD) for r, _ in records)
        enough = self.at_least if self.small < SMALL_BATCHES else min(self.at_least, 2)
        if told < enough or self.raised:
            self.small += told > 0
            await self.inner.send_all(records)
            return
        half = len(records) // 2
        await self.inner.send_all(records[:half])  # acknowledged by Kafka
        if self.how == "hang":
            print(f"{HUNG}: {half} of {len(records)} records sent", flush=True)
            await asyncio.Event().wait()  # never set: the stage waits for ever
        if self.how == "raise":
            self.raised = True  # once: what faust's restarted agent would get is normal
            print(f"{RAISED}: {half} of {len(records)} records sent", flush=True)
            raise RuntimeError("a fault of the broker's own code")
        print(f"{MARKER}: {half} of {len(records)} records sent", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


LOOP_MARKER = "killed before the link transaction's commit"


def kill_before_commit(
    at_least: int, wait: float, after: int = 0, outcome: str | None = None
) -> Callable[[LinkedBatch], Awaitable[None]]:
    """Kills in the first batch of `at_least` records after `after` batches committed;
    with `outcome`, in the first batch that has an event of that outcome, whatever else."""
    batches = 0

    async def hook(batch: LinkedBatch) -> None:
        nonlocal batches
        batches += 1
        if outcome is not None:
            if outcome not in batch.outcomes:
                return
        elif batches <= after or len(batch.outgoing) < at_least:
            return
        print(f"{LOOP_MARKER}: {len(batch.outgoing)} records sent", flush=True)
        await asyncio.sleep(wait)  # the child stage reads them meanwhile
        os.kill(os.getpid(), signal.SIGKILL)

    return hook


CHILD_MARKER = "killed before a child transaction's commit"


def kill_before_child_commit(
    at_least: int, wait: float, after: int = 0
) -> Callable[[PartitionBatch], Awaitable[None]]:
    """The child loop's: kills in the first partition's batch of `at_least` records after
    `after` of them committed."""
    batches = 0

    async def hook(batch: PartitionBatch) -> None:
        nonlocal batches
        batches += 1
        if batches <= after or len(batch.outgoing) < at_least:
            return
        print(f"{CHILD_MARKER}: {len(batch.outgoing)} records sent", flush=True)
        await asyncio.sleep(wait)
        os.kill(os.getpid(), signal.SIGKILL)

    return hook


MIGRATION_MARKER = "killed before the migration's commit"


async def kill_in_migration(batch: LinkedBatch) -> None:
    if batch.outcomes == [MIGRATED]:
        print(f"{MIGRATION_MARKER}: {len(batch.state)} state records sent", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    at_least = int(os.environ.get("CRASH_AT_BATCH", "20"))
    how = os.environ.get("CRASH_HOW", "kill")
    if how == "loop":
        wait = float(os.environ.get("CRASH_WAIT", "3"))
        after = int(os.environ.get("CRASH_AFTER_BATCHES", "0"))
        outcome = os.environ.get("CRASH_ON_OUTCOME")  # e.g. "identity_decision"
        hook = kill_before_commit(at_least, wait, after, outcome)
        return run_worker(Settings(), before_link_commit=hook)
    if how == "child":
        wait = float(os.environ.get("CRASH_WAIT", "1"))
        after = int(os.environ.get("CRASH_AFTER_BATCHES", "0"))
        hook = kill_before_child_commit(at_least, wait, after)
        return run_worker(Settings(), before_child_commit=hook)
    if how == "migration":
        return run_worker(Settings(), before_link_commit=kill_in_migration)
    return run_worker(Settings(), wrap_sink=lambda inner: HalfThenKill(inner, at_least, how))


if __name__ == "__main__":
    sys.exit(main())
