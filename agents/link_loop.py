"""The link stage's batch transform for the transactional loop (MASH_LINK_STAGE=loop).

The loop (broker/kafka/link_loop.py) owns the Kafka side: its consumer, the transaction,
the state topic. What it does with a batch is this: the very function the faust `link`
agent runs (`agents.link.handle_accepted_batch`: decode, the event clock, `link_step`,
de-duplication, the identity index, a fault kept on broker.rejected.v1 by the same
`failure` helper), over the state of `broker.pipeline.link_state.LinkState`, with a sink
that keeps the records instead of sending them. It returns the batch's outputs and the
state records it wrote, which the loop sends in one transaction with the offsets.

So the loop and the agent cannot drift apart: the only difference is where the records
go and when they count as durable (the agent: once acknowledged; the loop: once its
transaction commits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agents.link import handle_accepted_batch
from broker.calendar.clock import Clock
from broker.models.events import Event
from broker.ops.metrics import NO_OBSERVER, StageObserver
from broker.pipeline import dedupe, offsets
from broker.pipeline.link_state import BatchSink, LinkedBatch, LinkState


class LoopLinker:
    """The link stage's state in memory, and the transform of one batch."""

    def __init__(
        self,
        decode: Callable[[bytes], Event],
        clock: Clock,
        *,
        observer: StageObserver = NO_OBSERVER,
    ) -> None:
        self.decode = decode
        self.clock = clock
        self.observer = observer
        self.state = LinkState()
        self.sweeper = dedupe.Sweeper()

    def reset(self) -> None:
        """Forget everything: the state is read again from the state topic."""
        self.state = LinkState()
        self.sweeper.forget()

    def load(self, key: bytes, value: bytes | None) -> None:
        self.state.load(key, value)

    def next_offset(self) -> int | None:
        """broker.accepted.v1's next offset, kept with every batch's state (the faust
        agent's `offsets.NEXT_OFFSET_KEY` of seen-events)."""
        return offsets.expected(self.state.seen)

    async def __call__(self, raws: Sequence[bytes], offsets: Sequence[int]) -> LinkedBatch:
        sink = BatchSink()
        outcomes = await handle_accepted_batch(
            raws,
            self.decode,
            seen=self.state.seen,
            identity=self.state.store,
            held=self.state.held,
            sink=sink,
            clock=self.clock,
            observer=self.observer,
            sweeper=self.sweeper,
            message_offsets=offsets,
        )
        return LinkedBatch(sink.outgoing, self.state.drain(), outcomes)
