"""An accepted event read and written again: the kept datum gives the very bytes a
codec that never read it writes (broker/codec/memo.py), alone and nested in its
ChildMessage, in both framings; only that very object is answered from it."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given

from broker.codec import AvroCodec, InMemorySchemaRegistry
from broker.codec.memo import ReadData
from broker.models import EventBase
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.topics import ACCEPTED, LINKED
from tests.unit.strategies import events
from tests.unit.test_codec import a_vist
from tests.unit.test_codec_trusted import SCHEMAS, SLOW

AT = datetime(2026, 5, 19, 12, tzinfo=UTC)
FRESH = AvroCodec(SCHEMAS)  # writes every model from scratch: it reads nothing below
READS = AvroCodec(SCHEMAS)


def linked(event: EventBase) -> ChildMessage:
    return ChildMessage(kind=ChildMessageKind.event, child_id="c-1", at=AT, event=event)


@SLOW
@given(events())
def test_an_event_read_is_written_again_as_a_codec_that_never_read_it_writes_it(
    event: EventBase,
) -> None:
    data = FRESH.encode(event, topic=ACCEPTED.name)
    read = READS.decode_trusted(data)
    before = READS.read_data.reused
    assert READS.encode(read, topic=ACCEPTED.name) == data
    assert READS.encode(linked(read), topic=LINKED.name) == FRESH.encode(
        linked(event), topic=LINKED.name
    )
    assert READS.read_data.reused == before + 2  # both answered from the datum


def test_with_a_registry_the_datum_is_framed_for_the_events_own_subject() -> None:
    """broker.accepted.v1's subject and the nested event's own topic's differ."""
    registry = InMemorySchemaRegistry()
    fresh, reads = AvroCodec(SCHEMAS, registry), AvroCodec(SCHEMAS, registry)
    event = a_vist()
    read = reads.decode_trusted(fresh.encode(event, topic=ACCEPTED.name))
    written = reads.encode(linked(read), topic=LINKED.name)
    assert reads.read_data.reused == 1
    assert written == fresh.encode(linked(event), topic=LINKED.name)
    assert reads.decode(written) == linked(event)


def test_only_the_very_object_read_is_answered_from_its_datum() -> None:
    codec = AvroCodec(SCHEMAS)
    event = a_vist()
    data = codec.encode(event, topic=ACCEPTED.name)
    read = codec.decode_trusted(data)
    equal = read.model_copy()  # equal, another object: written from scratch
    assert codec.encode(equal, topic=ACCEPTED.name) == data
    assert codec.read_data.reused == 0
    changed = read.model_copy(update={"event_id": "pol-other"})
    assert codec.decode(codec.encode(changed, topic=ACCEPTED.name)) == changed
    assert codec.read_data.reused == 0


def test_a_validated_read_keeps_nothing() -> None:
    codec = AvroCodec(SCHEMAS)
    read = codec.decode(codec.encode(a_vist(), topic=ACCEPTED.name))
    codec.encode(read, topic=ACCEPTED.name)
    assert codec.read_data.reused == 0


def test_the_oldest_entry_goes_first() -> None:
    codec = AvroCodec(SCHEMAS)
    codec.read_data = ReadData(limit=2)
    data = [codec.encode(a_vist().model_copy(update={"event_id": f"pol-{n}"})) for n in range(3)]
    read = [codec.decode_trusted(d) for d in data]
    assert [codec.encode(r) for r in read] == data
    assert codec.read_data.reused == 2  # the first was let go


def test_a_child_messages_event_is_not_kept() -> None:
    """The child stage reads it and never writes it again."""
    codec = AvroCodec(SCHEMAS)
    message = codec.decode_trusted(codec.encode(linked(a_vist()), topic=LINKED.name))
    assert isinstance(message, ChildMessage)
    assert message.event is not None
    codec.encode(message.event, topic=ACCEPTED.name)
    assert codec.read_data.reused == 0
