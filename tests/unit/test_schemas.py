"""schemas/ against the models: every schema parses, every message has a schema and
every schema a model, and records, fields and enum symbols agree exactly."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import broker.models as models
from broker.codec import MESSAGE_SCHEMAS, AvroCodec
from broker.codec.schemas import HISTORY, SHARED, load_current, load_history
from broker.models import internal
from broker.models.common import Model
from broker.models.events import EVENT_CLASSES, EventBase

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
NAMESPACE = "uk.gov.mash.v1"
SHARED_TYPES = {
    "Agency",
    "AllocatedWorker",
    "Concern",
    "ConsentStatus",
    "SocialCareStatus",
    "Source",
    "Subject",
    "Consent",
    "School",
    "ProblemOut",
}


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec(SCHEMAS)


def standalone(codec: AvroCodec) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, writer in codec.current.items():
        yield name, json.loads(writer.text)


def named_types(node: Any, namespace: str = NAMESPACE) -> Iterator[dict[str, Any]]:
    """Every named type defined (not merely referred to) in a schema."""
    if isinstance(node, list):
        for n in node:
            yield from named_types(n, namespace)
    elif isinstance(node, dict):
        namespace = node.get("namespace", namespace)
        if node.get("type") in ("record", "enum", "fixed"):
            yield {**node, "namespace": namespace}
        for f in node.get("fields", []):
            yield from named_types(f["type"], namespace)
        for key in ("items", "values"):
            if key in node:
                yield from named_types(node[key], namespace)
        if isinstance(node.get("type"), dict | list):
            yield from named_types(node["type"], namespace)


def model_classes() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for value in [*vars(models).values(), *vars(internal).values()]:
        if isinstance(value, type) and issubclass(value, Model) and value not in (EventBase, Model):
            found[value.__name__] = value
    return found


def enum_classes() -> dict[str, type[enum.Enum]]:
    return {
        v.__name__: v
        for v in [*vars(models.common).values(), *vars(internal).values()]
        if isinstance(v, type) and issubclass(v, enum.StrEnum) and v is not enum.StrEnum
    }


def all_named(codec: AvroCodec) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for _, schema in standalone(codec):
        for named in named_types(schema):
            found.setdefault(named["name"], named)
    return found


def test_every_schema_parses(codec: AvroCodec) -> None:
    assert len(codec.current) == len(MESSAGE_SCHEMAS)
    files = [p for p in SCHEMAS.rglob("*.avsc") if HISTORY not in p.parts]
    assert len(files) == len(MESSAGE_SCHEMAS) + len(SHARED_TYPES)
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["namespace"] == NAMESPACE
        assert path.stem == f"{NAMESPACE}.{schema['name']}"


def test_every_message_has_a_schema_and_every_schema_a_message(codec: AvroCodec) -> None:
    assert set(codec.current) == set(MESSAGE_SCHEMAS.values())
    for cls, name in MESSAGE_SCHEMAS.items():
        assert name == f"{NAMESPACE}.{cls.__name__}"
        assert codec.schema_for(cls).name == name
    assert set(EVENT_CLASSES.values()) <= set(MESSAGE_SCHEMAS)


def test_every_model_is_an_avro_record_with_the_same_fields(codec: AvroCodec) -> None:
    named = all_named(codec)
    records = {n: s for n, s in named.items() if s["type"] == "record"}
    classes = model_classes()
    assert set(records) == set(classes)
    for name, record in records.items():
        fields = {f["name"]: f for f in record["fields"]}
        model_fields = classes[name].model_fields
        assert list(fields) == list(model_fields), name
        for field_name, info in model_fields.items():
            avro = fields[field_name]
            nullable = isinstance(avro["type"], list) and "null" in avro["type"]
            where = f"{name}.{field_name}"
            assert nullable == (not info.is_required() and info.default is None), where
            assert ("default" in avro) == (not info.is_required()), where
            if nullable:
                assert avro["type"][0] == "null"
                assert avro["default"] is None


def test_every_enum_has_exactly_the_contract_values(codec: AvroCodec) -> None:
    named = all_named(codec)
    avro_enums = {n: s for n, s in named.items() if s["type"] == "enum"}
    python_enums = enum_classes()
    assert set(avro_enums) == set(python_enums)
    for name, schema in avro_enums.items():
        assert schema["symbols"] == [m.value for m in python_enums[name]], name


def test_unknown_agencies_and_concerns_read_as_other(codec: AvroCodec) -> None:
    named = all_named(codec)
    assert named["Agency"]["default"] == "other"
    assert named["Concern"]["default"] == "other"


def test_times_and_dates_use_avro_logical_types(codec: AvroCodec) -> None:
    timestamp = {"type": "long", "logicalType": "timestamp-millis"}
    day = {"type": "int", "logicalType": "date"}
    for record in (s for s in all_named(codec).values() if s["type"] == "record"):
        for f in record["fields"]:
            kind = f["type"][1] if isinstance(f["type"], list) else f["type"]
            if f["name"].endswith("_at") or f["name"] == "due_by":
                assert kind == timestamp, f"{record['name']}.{f['name']}"
            if f["name"] in ("date_of_birth", "leave_date", "start_date", "status_since"):
                assert kind == day, f"{record['name']}.{f['name']}"


def test_event_type_is_a_string_defaulting_to_the_events_type(codec: AvroCodec) -> None:
    for event_type, cls in EVENT_CLASSES.items():
        schema = json.loads(codec.schema_for(cls).text)
        field = next(f for f in schema["fields"] if f["name"] == "event_type")
        assert field == {
            "name": "event_type",
            "doc": f"Always `{event_type}` in this schema.",
            "type": "string",
            "default": event_type,
        }


def test_shared_types_are_defined_once_and_referred_to_elsewhere() -> None:
    shared = {p.stem for p in (SCHEMAS / SHARED).glob("*.avsc")}
    assert shared == {f"{NAMESPACE}.{t}" for t in SHARED_TYPES}
    for path in SCHEMAS.rglob("*.avsc"):
        if HISTORY in path.parts or SHARED in path.parts:
            continue
        schema = json.loads(path.read_text())
        defined = {n["name"] for n in named_types(schema)} - {schema["name"]}
        assert not defined & SHARED_TYPES, path.name
        about_a_child = "outputs" not in path.parts and "internal" not in path.parts
        assert f"{NAMESPACE}.Subject" in path.read_text() or not about_a_child


def test_every_current_schema_is_kept_in_history() -> None:
    """A changed schema must be frozen (`python -m broker.codec freeze`) and committed:
    history is how messages written with it are read after the next change."""
    history = load_history(SCHEMAS)
    for writer in load_current(SCHEMAS).values():
        assert writer.fingerprint in history, f"run: python -m broker.codec freeze ({writer.name})"
        assert history[writer.fingerprint].name == writer.name


def test_history_files_are_standalone_and_named_by_fingerprint() -> None:
    for fingerprint, writer in load_history(SCHEMAS).items():
        path = SCHEMAS / HISTORY / writer.name / f"{fingerprint.hex()}.avsc"
        assert path.exists()
        assert json.loads(path.read_text()) == json.loads(writer.text)
