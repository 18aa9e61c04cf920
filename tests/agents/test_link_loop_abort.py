"""The link loop survives an abort its producer refuses (a fake producer at the port).

`bench.chaos` seed 2 (loop mode): Kafka stopped while a batch's offsets were being sent
to its transaction; aiokafka's sender routine failed on FindCoordinator, and the loop's
abort of the failed transaction raised AssertionError from aiokafka's transaction manager
(an abort its state does not allow). Uncaught, it stopped the worker just as Kafka came
back. The loop must instead give the producer up (the next one, with the same
transactional id, aborts what is open) and go on; a fenced producer still stops it.
"""

from __future__ import annotations

import pytest
from aiokafka.errors import ProducerFenced

from agents.link_loop import LoopLinker
from broker.calendar.clock import EventClock
from broker.codec import AvroCodec
from broker.errors import Fenced
from broker.kafka.link_loop import LinkLoop
from broker.settings import Settings

CODEC = AvroCodec(Settings().schemas_dir)


class RefusingProducer:
    """A transactional producer whose abort fails as aiokafka's did."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.stopped = False

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
