"""The trusted decode of our internal topics builds exactly what validation builds.

`AvroCodec.decode_trusted` (broker/codec/trusted.py) builds the models of
broker.accepted.v1 and broker.linked.v1 without validating them again. Skipping a
validator that converts, or building a field of another type, would pass silently
into the rules; so for every event kind and every kind of child message, a valid
model encoded and read back trusted is equal to the same bytes validated: the same
classes, the same values of the same types all the way down, the same fields set, the
same JSON. A record that does not fit (a schema that drifted from the models) is
validated instead: accepted if valid, refused as `decode` refuses it, never built
wrong.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, StringConstraints

from broker.codec import AvroCodec
from broker.codec.trusted import Planner
from broker.errors import ConfigurationError, InvalidInput
from broker.models import EVENT_CLASSES, EventBase, PoliceVist, to_json_dict
from broker.models.common import Model
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.models.problems import validate_model
from broker.settings import Settings
from broker.topics import ACCEPTED, LINKED
from tests.unit.strategies import events, events_of, ids, instants, optional, text
from tests.unit.test_codec import a_vist

SCHEMAS = Settings().schemas_dir
CODEC = AvroCodec(SCHEMAS)  # for hypothesis tests (fixtures do not mix with @given)
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shape(value: Any) -> Any:
    """`value` as nested (type, content) pairs: equal shapes mean equal values of the
    very same types (an enum member, not its text; an instant in the same zone)."""
    if isinstance(value, BaseModel):
        fields = {name: shape(v) for name, v in value.__dict__.items()}
        return type(value), fields, frozenset(value.model_fields_set), value.__pydantic_extra__
    if isinstance(value, list | tuple):
        return type(value), [shape(v) for v in value]
    if isinstance(value, dict):
        return type(value), {k: shape(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return datetime, value.isoformat(), str(value.tzinfo)
    return type(value), value


def assert_built_as_validated(data: bytes) -> BaseModel:
    validated = CODEC.decode(data)
    built = CODEC.decode_trusted(data)
    assert built == validated
    assert shape(built) == shape(validated)
    assert built.model_dump_json() == validated.model_dump_json()
    return built


def child_messages(event: st.SearchStrategy[Any]) -> st.SearchStrategy[ChildMessage]:
    return st.builds(
        ChildMessage,
        kind=st.sampled_from(ChildMessageKind),
        child_id=ids,
        at=instants,
        inclusive=st.booleans(),
        link_note=text,
        event=optional(event),
        other_child_id=optional(ids),
        picture=optional(text),
    )


@SLOW
@given(events())
def test_any_accepted_event_is_built_as_validation_builds_it(event: EventBase) -> None:
    before = CODEC.untrusted
    built = assert_built_as_validated(CODEC.encode(event, topic=ACCEPTED.name))
    assert built == event
    assert CODEC.untrusted == before  # built, not validated after all


@SLOW
@given(child_messages(events()))
def test_any_child_message_is_built_as_validation_builds_it(message: ChildMessage) -> None:
    before = CODEC.untrusted
    built = assert_built_as_validated(CODEC.encode(message, topic=LINKED.name))
    assert built == message
    assert CODEC.untrusted == before


@pytest.mark.parametrize("cls", list(EVENT_CLASSES.values()), ids=list(EVENT_CLASSES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_event_kind_inside_every_kind_of_child_message(
    cls: type[EventBase], data: st.DataObject
) -> None:
    """Each kind drawn on purpose: an `events()` draw may miss one."""
    event = data.draw(events_of(cls))
    assert_built_as_validated(CODEC.encode(event, topic=ACCEPTED.name))
    for kind in ChildMessageKind:
        message = data.draw(child_messages(st.just(event)).map(lambda m, k=kind: _as(m, k)))
        assert_built_as_validated(CODEC.encode(message, topic=LINKED.name))


def _as(message: ChildMessage, kind: ChildMessageKind) -> ChildMessage:
    return ChildMessage.model_validate({**message.__dict__, "kind": kind})


def test_the_fast_build_and_the_field_by_field_build_agree() -> None:
    """`ModelPlan.build` is compiled from the plan; `build_slowly` is the plan read
    field by field (the way for records the compiled one does not take as they are)."""
    plan = CODEC._trusted["uk.gov.mash.v1.PoliceVist"]
    record = CODEC.decode_dict(CODEC.encode(a_vist(), topic=ACCEPTED.name))
    assert shape(plan.build(dict(record))) == shape(plan.build_slowly(dict(record)))
    assert "def build(value):" in plan.source


# --- schema drift: validated instead -----------------------------------------------------


def drifted(tmp_path: Path, change: Any) -> AvroCodec:
    """A codec whose current (reader) PoliceVist schema `change` altered."""
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy)
    path = copy / "events" / "uk.gov.mash.v1.PoliceVist.avsc"
    schema = json.loads(path.read_text())
    change({f["name"]: f for f in schema["fields"]}, schema)
    path.write_text(json.dumps(schema))
    return AvroCodec(copy)


def test_a_field_the_reader_schema_lacks_takes_the_models_default(tmp_path: Path) -> None:
    def drop_officer(fields: dict[str, Any], schema: dict[str, Any]) -> None:
        schema["fields"].remove(fields["officer"])

    codec = drifted(tmp_path, drop_officer)
    data = CODEC.encode(a_vist().model_copy(update={"officer": None}), topic=ACCEPTED.name)
    assert codec.decode_trusted(data) == codec.decode(data)
    assert shape(codec.decode_trusted(data)) == shape(codec.decode(data))
    assert codec.untrusted == 0  # the model's own default, as validation gives it


def test_a_value_not_of_the_models_type_is_validated_and_may_pass(tmp_path: Path) -> None:
    """An instant carried as ISO text (a reader schema of another shape): validation
    reads it, the trusted build does not guess."""

    def as_text(fields: dict[str, Any], schema: dict[str, Any]) -> None:
        fields["occurred_at"]["type"] = "string"

    codec = drifted(tmp_path, as_text)
    vist = a_vist()
    data = codec.encode_dict("police.vist", to_json_dict(vist), topic=ACCEPTED.name)
    assert codec.decode_trusted(data) == codec.decode(data) == vist
    assert codec.untrusted == 1


def test_an_invalid_record_is_refused_as_validation_refuses_it(tmp_path: Path) -> None:
    def nullable_narrative(fields: dict[str, Any], schema: dict[str, Any]) -> None:
        fields["narrative"]["type"] = ["null", "string"]

    codec = drifted(tmp_path, nullable_narrative)
    data = codec.encode_dict("police.vist", {**to_json_dict(a_vist()), "narrative": None})
    with pytest.raises(InvalidInput) as validating:
        codec.decode(data)
    with pytest.raises(InvalidInput) as trusted:
        codec.decode_trusted(data)
    assert trusted.value.problems == validating.value.problems
    assert codec.untrusted == 1


def test_a_record_the_plan_cannot_take_never_yields_a_half_built_model() -> None:
    plan = CODEC._trusted["uk.gov.mash.v1.PoliceVist"]
    record = CODEC.decode_dict(CODEC.encode(a_vist(), topic=ACCEPTED.name))
    for field, value in [("rag", "PURPLE"), ("out_of_hours", "yes"), ("subject", None)]:
        changed = {**record, field: value}
        with pytest.raises(InvalidInput):
            validate_model(PoliceVist, changed)
        trusted = pytest.raises(Exception, match=f"PoliceVist.{field}")
        with trusted:
            plan(changed)


# --- what the planner refuses to skip ----------------------------------------------------


def _shout(value: str) -> str:
    return value.upper()


class Shouted(Model):
    name: Annotated[str, AfterValidator(_shout)]


class Upper(Model):
    name: Annotated[str, StringConstraints(to_upper=True)]


class Colour(Enum):
    red = "red"


class Fine(Model):
    colour: Colour
    names: list[str]


@pytest.mark.parametrize("cls", [Shouted, Upper])
def test_a_validator_not_known_as_a_check_stops_the_codec(cls: type[BaseModel]) -> None:
    with pytest.raises(ConfigurationError, match="trusted decode does not know"):
        Planner().plan(cls)


def test_a_model_of_checks_and_conversions_only_is_planned() -> None:
    built = Planner().plan(Fine)({"colour": "red", "names": ["a"]})
    assert built == Fine(colour=Colour.red, names=["a"])


def test_an_event_inside_a_child_message_is_built_by_its_event_type() -> None:
    """The union's discriminator picks the class, from a record as from a model."""
    record = CODEC.decode_dict(CODEC.encode(a_vist(), topic=ACCEPTED.name))
    message = {"kind": "event", "child_id": "child-1", "at": a_vist().recorded_at}
    plan = CODEC._trusted["uk.gov.mash.v1.ChildMessage"]
    built = plan({**message, "event": dict(record)})
    assert shape(built) == shape(validate_model(ChildMessage, {**message, "event": record}))
    with pytest.raises(Exception, match="names no known event_type"):
        plan({**message, "event": {**record, "event_type": ["police.vist"]}})
