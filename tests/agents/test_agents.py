"""The agents' handlers with the in-memory sink: what each message becomes.

No Kafka and no faust here: the handlers are the code the agents run per message, so
these tests pin the worker's behaviour; tests/integration runs the same on real Kafka.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from agents.guard import guarded
from agents.ingest import handle_inbound
from agents.link import handle_accepted
from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.models.events import parse_event
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import MemorySink
from broker.settings import Settings
from broker.topics import ACCEPTED, LINKED, REJECTED
from tests.unit.test_ingest import GOOD

CLOCK = ManualClock(datetime(2026, 5, 19, 12, tzinfo=UTC))


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec(Settings().schemas_dir)


@pytest.mark.asyncio
async def test_a_valid_event_is_passed_on_keyed_by_event_id(codec: AvroCodec) -> None:
    sink = MemorySink()
    raw = codec.encode(parse_event(GOOD), topic="police.vist.v1")
    assert await handle_inbound(raw, "police.vist.v1", codec, sink, CLOCK) == "accepted"
    [record] = sink.records
    assert (record.topic, record.key) == (ACCEPTED.name, "pol-1")


@pytest.mark.asyncio
async def test_a_poison_message_is_rejected_and_kept(codec: AvroCodec) -> None:
    sink = MemorySink()
    assert await handle_inbound(b"\x00garbage", "police.vist.v1", codec, sink, CLOCK) == "rejected"
    [record] = sink.on(REJECTED.name)
    assert base64.b64decode(record.value.model_dump(mode="json")["original"]) == b"\x00garbage"


@pytest.mark.asyncio
async def test_an_event_on_the_wrong_topic_is_rejected_with_feedback(codec: AvroCodec) -> None:
    sink = MemorySink()
    raw = codec.encode(parse_event(GOOD), topic="yot.referral.v1")
    assert await handle_inbound(raw, "yot.referral.v1", codec, sink, CLOCK) == "rejected"
    assert sink.on("agency.police.feedback.v1")


class WallClock:
    """The wall clock, stopped: a clock that is not event time."""

    def now(self) -> datetime:
        return datetime(2026, 5, 19, 12, tzinfo=UTC)


@pytest.mark.asyncio
async def test_on_the_wall_clock_an_event_dated_years_ahead_is_refused(codec: AvroCodec) -> None:
    sink = MemorySink()
    ahead = parse_event({**GOOD, "recorded_at": "2030-07-17T12:00:00+01:00"})
    raw = codec.encode(ahead, topic="police.vist.v1")
    assert await handle_inbound(raw, "police.vist.v1", codec, sink, WallClock()) == "rejected"
    assert [r.topic for r in sink.records] == [REJECTED.name, "agency.police.feedback.v1"]
    # on event time (replay's clock, the tests' workers) the same event is the time itself
    assert await handle_inbound(raw, "police.vist.v1", codec, MemorySink(), CLOCK) == "accepted"


@pytest.mark.asyncio
async def test_the_same_event_twice_is_linked_once() -> None:
    sink = MemorySink()
    seen: dict[str, str] = {}
    identity = IdentityStore({})
    event = parse_event(GOOD)
    kwargs = {"seen": seen, "identity": identity, "held": {}, "sink": sink, "clock": CLOCK}
    assert await handle_accepted(event, b"", **kwargs) == "linked"  # type: ignore[arg-type]
    assert await handle_accepted(event, b"", **kwargs) == "duplicate"  # type: ignore[arg-type]
    assert len(sink.on(LINKED.name)) == 1
    assert sink.on(LINKED.name)[0].key.startswith("child-")  # a hash, no personal data


@pytest.mark.asyncio
async def test_a_fault_of_the_broker_never_kills_the_agent_nor_loses_the_message() -> None:
    sink = MemorySink()

    async def broken() -> str:
        raise KeyError("boom")

    assert await guarded(broken, b"payload", "police.vist.v1", sink, CLOCK) == "failed"
    [record] = sink.on(REJECTED.name)
    assert "KeyError" in record.value.model_dump(mode="json")["reasons"][0]["message"]
