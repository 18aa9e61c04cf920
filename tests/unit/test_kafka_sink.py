"""The Kafka sink over a fake of faust's producer (the port it now writes to directly).

`KafkaSink` hands each encoded record to `app.producer.send` (not through a faust
`Topic`) and waits for the acknowledgements it gets back. What must hold whatever the
path: every record of a batch is handed over in order before any acknowledgement is
awaited; `send_all` returns only once every record is acknowledged; a record whose
acknowledgement failed, or was cancelled by a closing producer, is sent again; a record
that cannot be encoded raises at once (no retrying a record that can never be sent). A
failed send is reported to faust's sensors, whose error count deploy/ alerts on.
The real producer is held to the same contract in tests/integration/test_sink_contract.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from broker.codec import AvroCodec
from broker.errors import CodecError
from broker.kafka.sink import KafkaSink
from broker.models.outputs import Feedback, ProblemOut
from broker.pipeline.records import OutRecord
from broker.settings import Settings

CODEC = AvroCodec(Settings().schemas_dir)
NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)


def record(i: int, topic: str = "broker.feedback.police.v1") -> OutRecord:
    value = Feedback(
        feedback_id=f"fb-{i}",
        event_id=f"ev-{i}",
        to_agency="police",
        kind="language",
        problems=[ProblemOut(field="narrative", message=f"phrase {i}")],
        created_at=NOW,
    )
    return OutRecord(topic, f"key-{i}", value)


class FakeProducer:
    """faust's producer as the sink uses it: `send` returns the acknowledgement's future."""

    def __init__(self) -> None:
        self.handed: list[tuple[str, bytes | None, bytes]] = []
        self.acks: list[asyncio.Future[Any]] = []

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        *,
        partition: int | None,
        timestamp: float | None,
        headers: Any,
    ) -> asyncio.Future[Any]:
        assert partition is None  # the producer's partitioner decides, as for any topic
        self.handed.append((topic, key, value))
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        return ack


class FakeSensors:
    """faust's sensor delegate: told of each record whose send failed."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        self.errors.append(exc)


class FakeApp:
    def __init__(self) -> None:
        self.producer = FakeProducer()
        self.sensors = FakeSensors()

    async def maybe_start_producer(self) -> FakeProducer:
        return self.producer


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_a_batch_is_handed_over_whole_and_returns_once_all_are_acknowledged() -> None:
    app = FakeApp()
    sink = KafkaSink(app, CODEC)
    batch = [(record(i), None) for i in range(5)]
    sending = asyncio.ensure_future(sink.send_all(batch))
    await settle()
    handed = app.producer.handed
    assert [(t, k) for t, k, _ in handed] == [(r.topic, r.key.encode()) for r, _ in batch]  # type: ignore[union-attr]
    assert [CODEC.decode(v) for _, _, v in handed] == [r.value for r, _ in batch]
    for ack in app.producer.acks[:4]:
        ack.set_result(None)
    await settle()
    assert not sending.done()  # one record is not durable yet
    app.producer.acks[4].set_result(None)
    await asyncio.wait_for(sending, 1)
    assert len(handed) == 5  # nothing sent twice


@pytest.mark.asyncio
async def test_a_batch_is_handed_over_before_the_event_loop_runs_anything_else() -> None:
    """aiokafka's sender runs only when the stage yields; handed over in one go, a batch
    leaves in one request per broker without a linger (tests/unit/test_producer_batching.py)."""
    app = FakeApp()
    sink = KafkaSink(app, CODEC)
    turns: list[int] = []

    async def other_task() -> None:  # stands for the producer's sender
        while True:
            turns.append(len(app.producer.handed))
            await asyncio.sleep(0)

    other = asyncio.ensure_future(other_task())
    await settle()
    sending = asyncio.ensure_future(sink.send_all([(record(i), None) for i in range(50)]))
    await settle()
    assert len(app.producer.handed) == 50
    assert not [n for n in turns if 0 < n < 50]  # never a part of the batch
    for ack in app.producer.acks:
        ack.set_result(None)
    await asyncio.wait_for(sending, 1)
    other.cancel()


@pytest.mark.asyncio
async def test_a_failed_or_cancelled_acknowledgement_is_sent_again() -> None:
    app = FakeApp()
    sink = KafkaSink(app, CODEC)
    batch = [(record(i), None) for i in range(4)]
    sending = asyncio.ensure_future(sink.send_all(batch))
    await settle()
    acks = app.producer.acks
    acks[0].set_result(None)
    acks[1].set_exception(OSError("broker went away"))
    acks[2].cancel()  # aiokafka cancels what it holds when it closes
    acks[3].set_result(None)
    await settle()
    assert [CODEC.decode(v).feedback_id for _, _, v in app.producer.handed[4:]] == ["fb-1"]  # type: ignore[attr-defined]
    acks[4].set_result(None)  # fb-1 again, on its own
    await settle()
    assert [CODEC.decode(v).feedback_id for _, _, v in app.producer.handed[5:]] == ["fb-2"]  # type: ignore[attr-defined]
    acks[5].set_result(None)
    await asyncio.wait_for(sending, 1)
    assert len(app.producer.handed) == 6
    assert [str(e) for e in app.sensors.errors] == ["broker went away"]  # faust's error count


@pytest.mark.asyncio
async def test_cancelling_the_sender_is_not_taken_for_a_failed_record() -> None:
    app = FakeApp()
    sink = KafkaSink(app, CODEC)
    sending = asyncio.ensure_future(sink.send_all([(record(1), None)]))
    await settle()
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert len(app.producer.handed) == 1  # not re-sent in a loop on the way out


@pytest.mark.asyncio
async def test_a_record_that_cannot_be_encoded_raises_and_is_never_handed_over() -> None:
    app = FakeApp()
    sink = KafkaSink(app, CODEC, attempts=3)
    bad = OutRecord("broker.feedback.police.v1", "k", ProblemOut(field="x", message="y"))
    with pytest.raises(CodecError):
        await sink.send_all([(bad, None)])
    with pytest.raises(CodecError):
        await sink.send(bad)
    assert app.producer.handed == []
