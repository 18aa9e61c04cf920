"""The link loop survives an abort its producer refuses (a fake producer at the port).

`bench.chaos` seed 2 (loop mode): Kafka stopped while a batch's offsets were being sent
to its transaction; aiokafka's sender routine failed on FindCoordinator, and the loop's
abort of the failed transaction raised AssertionError from aiokafka's transaction manager
(an abort its state does not allow). Uncaught, it stopped the worker just as Kafka came
back. The loop must instead give the producer up (the next one, with the same
transactional id, aborts what is open) and go on; a producer fenced mid-batch still
stops it; one fenced (or failing) while the loop takes the partition does not.
"""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, ProducerFenced

from agents.link_loop import LoopLinker
from broker.calendar.clock import EventClock
from broker.codec import AvroCodec
from broker.errors import Fenced
from broker.kafka.link_loop import LinkLoop
from broker.settings import Settings

CODEC = AvroCodec(Settings().schemas_dir)


class RefusingProducer:
    """A transactional producer whose abort fails as aiokafka's did, and whose start
    (InitProducerId) fails the same way."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.stopped = False

    async def start(self) -> None:
        raise self.error

    async def abort_transaction(self) -> None:
        raise self.error

    async def stop(self) -> None:
        self.stopped = True


def _loop(producer: RefusingProducer) -> LinkLoop:
    loop = LinkLoop(
        LoopLinker(CODEC.decode, EventClock()),
        CODEC,
        bootstrap="127.0.0.1:9",
        app_id="abort",
        state_topic="abort-link-state",
    )
    loop._producer = producer  # type: ignore[assignment]
    return loop


@pytest.mark.asyncio
async def test_an_abort_the_producer_refuses_gives_the_producer_up_and_goes_on() -> None:
    producer = RefusingProducer(AssertionError("Invalid state transition"))
    loop = _loop(producer)
    await loop._abort()  # the loop's handling of a failed batch: abort, then release
    await loop._release()
    assert producer.stopped
    assert loop._producer is None  # the next turn takes the partition with a new one


@pytest.mark.asyncio
async def test_a_fenced_producer_still_stops_the_loop() -> None:
    loop = _loop(RefusingProducer(ProducerFenced()))
    with pytest.raises(Fenced):
        await loop._abort()


@pytest.mark.asyncio
@pytest.mark.parametrize("error", [ProducerFenced(), KafkaConnectionError()])
async def test_a_producer_refused_while_taking_the_partition_gives_it_up_to_take_again(
    error: BaseException,
) -> None:
    """`bench.chaos` seed 2 (loop): another producer with the transactional id
    initialised in the same moment of a rebalance, and the loop's start was fenced; it
    stopped the worker. Now the partition is given up, to be taken again at the next
    turn (the run loop's backoff), and the worker goes on."""
    made: list[RefusingProducer] = []

    def factory(loop: LinkLoop) -> RefusingProducer:
        made.append(RefusingProducer(error))
        return made[-1]

    loop = _loop(RefusingProducer(AssertionError()))
    loop._producer = None
    loop.heartbeat_ms = 5
    loop.producer_factory = factory  # type: ignore[assignment]
    assigned = frozenset({TopicPartition("broker.accepted.v1", 0)})
    taken = await loop._try_take(None, assigned)  # type: ignore[arg-type]
    assert taken is False
    assert made
    assert made[0].stopped  # its connections closed, not leaked
    assert loop._producer is None
    assert loop._owned == frozenset()  # so the next turn, still assigned, takes it again


class HighwaterConsumer:
    def __init__(self, highwaters: dict[TopicPartition, int | None]) -> None:
        self.highwaters = highwaters

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters.get(tp)


def test_the_loop_s_lag_counts_from_the_offset_it_links_next() -> None:
    """What the operations view shows for broker.accepted.v1, read by the loop's own
    consumer (faust's committed offsets do not cover it)."""
    tp = TopicPartition("broker.accepted.v1", 0)
    loop = _loop(RefusingProducer(AssertionError()))
    assert loop.lag() == {}  # not started
    loop._consumer = HighwaterConsumer({tp: None})  # type: ignore[assignment]
    loop._linked_to = {tp: 4}
    assert loop.lag() == {}  # not fetched yet: unknown, not 0
    loop._consumer = HighwaterConsumer({tp: 10})  # type: ignore[assignment]
    assert loop.lag() == {("broker.accepted.v1", 0): 6}
