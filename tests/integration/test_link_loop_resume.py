"""A link loop that takes the partition links on from the state's next offset.

The loop keeps broker.accepted.v1's next offset in its state topic, written in each
batch's transaction with its outputs; the group's offsets are committed after the
transaction, outside it (two round trips fewer a batch), and only say how far the loop
is. So a loop that takes the partition over starts where the last committed
transaction ended, whatever the group's offset says: here an operator's tool has set
it back to the beginning, and the next loop links only the events published since.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.link_loop import LoopLinker
from broker.calendar.clock import EventClock
from broker.kafka.admin import create_topics
from broker.kafka.link_loop import LinkLoop
from broker.kafka.local import LocalKafka
from broker.pipeline.link_state import LinkedBatch
from broker.topics import ACCEPTED, all_topics, link_state_topic
from tests.identity_scenarios import scenario_events
from tests.integration.test_link_loop_fenced import _committed, _publish, _until
from tests.integration.worker import CODEC

SOURCE = TopicPartition(ACCEPTED.name, 0)


class Recording(LoopLinker):
    """The loop's linker, remembering the offsets of every batch it linked."""

    linked: list[int]

    async def __call__(self, raws: Sequence[bytes], offsets: Sequence[int]) -> LinkedBatch:
        self.linked = [*getattr(self, "linked", []), *offsets]
        return await super().__call__(raws, offsets)


async def _run_until(loop: LinkLoop, bootstrap: str, committed: int) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))

    async def done() -> bool:
        return await _committed(bootstrap, loop.group) == committed

    try:
        await _until(done)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def _set_back(bootstrap: str, group: str) -> None:
    """Commit offset 0 for the group, as an operator's tool would.

    Without auto-commit: an assigned consumer that auto-commits commits its position
    again when it stops, and that position may have been taken from the group's old
    offset before the 0 landed (a fresh-clone CI read 11 back, not 0)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([SOURCE])
        await consumer.commit({SOURCE: 0})
    finally:
        await consumer.stop()


async def _two_loops(bootstrap: str, first: list[bytes], then: list[bytes]) -> list[int]:
    app_id = f"resume-{uuid.uuid4().hex[:6]}"
    await create_topics(bootstrap, [*all_topics(), link_state_topic(app_id)], 1, 1)

    def loop(linker: LoopLinker) -> LinkLoop:
        return LinkLoop(
            linker,
            CODEC,
            bootstrap=bootstrap,
            app_id=app_id,
            state_topic=link_state_topic(app_id).name,
            batch_max=3,
        )

    await _publish(bootstrap, first)
    older = loop(LoopLinker(CODEC.decode, EventClock()))
    await _run_until(older, bootstrap, len(first))
    await _set_back(bootstrap, older.group)
    assert await _committed(bootstrap, older.group) == 0
    await _publish(bootstrap, then)
    linker = Recording(CODEC.decode, EventClock())
    await _run_until(loop(linker), bootstrap, len(first) + len(then))
    return linker.linked


def test_a_loop_links_on_from_the_state_not_from_the_group_s_offset(
    own_kafka: LocalKafka,
) -> None:
    raws = [CODEC.encode(e, topic=ACCEPTED.name) for e in scenario_events()]
    first, then = raws[:-3], raws[-3:]
    linked = asyncio.run(_two_loops(own_kafka.bootstrap, first, then))
    assert linked == list(range(len(first), len(raws)))
