"""The worker's consumer reads a never-committed partition of its sources from the
beginning whenever faust seeks back to the committed offsets (broker.kafka.transport)."""

from __future__ import annotations

from aiokafka import TopicPartition

from broker.app import create_app
from broker.kafka.transport import Consumer, never_committed
from broker.settings import Settings


def test_only_sources_never_committed_are_read_again() -> None:
    vist = [TopicPartition("police.vist.v1", p) for p in range(4)]
    changelog = TopicPartition("mash-broker-child-pictures-changelog", 0)
    committed = {vist[0]: 17, vist[1]: None, vist[2]: 0, vist[3]: 1, changelog: None}
    assert never_committed(committed, {"police.vist.v1"}) == [vist[1], vist[2]]


def test_every_partition_committed_leaves_nothing_to_read_again() -> None:
    tp = TopicPartition("police.vist.v1", 0)
    assert never_committed({tp: 5}, {"police.vist.v1"}) == []


def test_the_worker_app_consumes_with_that_consumer() -> None:
    app = create_app(Settings())
    assert type(app.transport).Consumer is Consumer
