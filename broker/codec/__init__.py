"""The wire format: every record on Kafka is Avro, written and read only here.

Two framings (docs/contract.md says why):

- By default the Avro *single-object encoding*: `C3 01`, the 8-byte CRC-64-AVRO
  fingerprint of the writer schema's parsing canonical form (little-endian), then the
  binary datum. Each message names its schema, and `schemas/` is the registry: no extra
  service to run in a council's estate.
- With `MASH_SCHEMA_REGISTRY_URL` set, the Confluent wire format (`00`, a 4-byte
  big-endian schema id, the datum), which Confluent Schema Registry and Karapace speak.
  Subjects follow the TopicNameStrategy, `<topic>-value`.

Either way a message is read with its *writer's* schema, resolved to our current
*reader* schema (so an older or newer publisher, which added or lacks optional fields,
is still read), and then validated into its pydantic model; a record of our own
internal topics, which only our workers write from models already validated, can be
built without validating it again (`decode_trusted`, broker/codec/trusted.py). Schemas
are parsed once, when the codec is built. No fastavro exception leaves this module:
bytes that cannot be read are a `CodecError`, whose problem names what is wrong and
never the data.
"""

from __future__ import annotations

import io
import json
import logging
import struct
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import fastavro
from pydantic import BaseModel

from broker.codec.memo import ReadData
from broker.codec.registry import (
    CachingSchemaRegistry,
    HttpSchemaRegistry,
    InMemorySchemaRegistry,
    SchemaRegistry,
)
from broker.codec.schemas import (
    WriterSchema,
    freeze_history,
    full_name,
    load_current,
    load_history,
    parse_standalone,
)
from broker.codec.trusted import Planner, Untrusted
from broker.errors import CodecError, ConfigurationError, Problem, UnknownSchema
from broker.models import events, internal, outputs
from broker.models.problems import validate_model
from broker.settings import Settings
from broker.topics import topic_for_event_type

__all__ = [
    "CONFLUENT_MAGIC",
    "MESSAGE_SCHEMAS",
    "SINGLE_OBJECT_MAGIC",
    "AvroCodec",
    "CachingSchemaRegistry",
    "HttpSchemaRegistry",
    "InMemorySchemaRegistry",
    "SchemaRegistry",
    "WriterSchema",
    "codec_from_settings",
    "freeze_history",
]

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

NAMESPACE: Final = "uk.gov.mash.v1"
SINGLE_OBJECT_MAGIC: Final = b"\xc3\x01"
CONFLUENT_MAGIC: Final = b"\x00"

_MESSAGES: Final[tuple[type[BaseModel], ...]] = (
    *events.EVENT_CLASSES.values(),
    outputs.Alert,
    outputs.Notification,
    outputs.Feedback,
    outputs.Rejected,
    outputs.AuditDisclosure,
    outputs.AccessAudit,
    internal.ChildMessage,
)

MESSAGE_SCHEMAS: Final[dict[type[BaseModel], str]] = {
    cls: f"{NAMESPACE}.{cls.__name__}" for cls in _MESSAGES
}
"""Every record that travels on its own, by model class: the schema's full name."""

TRUSTED: Final[tuple[type[BaseModel], ...]] = (
    *events.EVENT_CLASSES.values(),
    internal.ChildMessage,
)
"""What the internal topics carry (broker.accepted.v1, broker.linked.v1): the records
`decode_trusted` builds without validating them again."""

_KEPT: Final = frozenset(MESSAGE_SCHEMAS[cls] for cls in events.EVENT_CLASSES.values())
"""Trusted reads whose datum is kept to write them again (broker/codec/memo.py): the
accepted events the link stage nests in its ChildMessages."""

MODEL_OF: Final[dict[str, type[BaseModel]]] = {name: cls for cls, name in MESSAGE_SCHEMAS.items()}

_JSON_MAPS: Final[dict[str, tuple[str, ...]]] = {f"{NAMESPACE}.Notification": ("fields",)}
"""Fields that are a map of any JSON value in the model and a map of JSON texts in Avro."""

_NESTED: Final[dict[str, tuple[str, ...]]] = {f"{NAMESPACE}.ChildMessage": ("event",)}
"""Fields that hold a whole message in the model and its encoded bytes in Avro: the
inner message names its own schema, so the envelope never changes when it evolves."""

# What fastavro and the stdlib raise on bytes that are not what they claim to be.
_READ_ERRORS: Final = (
    ValueError,  # and UnicodeDecodeError, a kind of it
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    OverflowError,
    MemoryError,
    RecursionError,
    struct.error,
    fastavro.read.SchemaResolutionError,
)
_WRITE_ERRORS: Final = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


def _problem(message: str, field: str = "payload") -> list[Problem]:
    return [Problem(field, message)]


class AvroCodec:
    """Encodes models to bytes and bytes to models, in one of the two framings.

    Built once per process (it parses every schema); thread-compatible, not locked.
    """

    def __init__(self, schemas_dir: Path, registry: SchemaRegistry | None = None) -> None:
        self.current: Final = load_current(schemas_dir)
        missing = set(MESSAGE_SCHEMAS.values()) ^ set(self.current)
        if missing:
            raise ConfigurationError(f"schemas and models disagree on: {sorted(missing)}")
        self.by_fingerprint: Final = {**load_history(schemas_dir)}
        self.by_fingerprint.update({w.fingerprint: w for w in self.current.values()})
        self.registry = registry
        self._by_id: dict[int, WriterSchema] = {}
        planner = Planner()  # ConfigurationError at startup if a model has a validator
        self._trusted = {MESSAGE_SCHEMAS[cls]: planner.plan(cls) for cls in TRUSTED}
        self.untrusted = 0
        """Records `decode_trusted` validated after all (their shape was not the plan's)."""
        self.read_data = ReadData()

    # encoding

    def schema_for(self, cls: type[BaseModel]) -> WriterSchema:
        name = MESSAGE_SCHEMAS.get(cls)
        if name is None:
            raise UnknownSchema(
                _problem(f"has no schema: {cls.__name__} is not a message", "value")
            )
        return self.current[name]

    def encode(self, value: BaseModel, topic: str | None = None) -> bytes:
        """`value` in the configured framing; `topic` is needed with a registry."""
        writer = self.schema_for(type(value))
        datum = self.read_data.datum(value, writer)
        if datum is not None:  # this very object was read from it: the same bytes
            return self._frame(writer, datum, topic)
        nested = _NESTED.get(writer.name, ())
        record = value.model_dump(mode="python", exclude=set(nested))
        for field in _JSON_MAPS.get(writer.name, ()):
            record[field] = {k: json.dumps(v, ensure_ascii=False) for k, v in record[field].items()}
        for field in nested:
            inner = getattr(value, field)
            # Under its own topic's subject: a registry keeps one schema history per subject.
            own = topic_for_event_type(getattr(inner, "event_type", "")) or topic
            record[field] = None if inner is None else self.encode(inner, topic=own)
        return self._frame(writer, self._write(writer, record, strict=True), topic)

    def encode_dict(self, kind: str, data: Mapping[str, Any], topic: str | None = None) -> bytes:
        """Data in the JSON form, written with the schema for `kind` (an event_type or a
        full name) *without* model validation: for sending invalid events on purpose
        (tests of the rejection path). `CodecError` when the schema cannot carry it."""
        cls = events.EVENT_CLASSES.get(kind)
        name = MESSAGE_SCHEMAS[cls] if cls is not None else kind
        writer = self.current.get(name)
        if writer is None:
            raise UnknownSchema(_problem(f"names no schema of ours ({kind})", "event_type"))
        record = _from_json(json.loads(writer.text), data, {})
        return self._frame(writer, self._write(writer, record, strict=False), topic)

    def _write(self, writer: WriterSchema, record: Any, *, strict: bool) -> bytes:
        out = io.BytesIO()
        try:
            fastavro.schemaless_writer(
                out, writer.parsed, record, strict=strict, strict_allow_default=not strict
            )
        except _WRITE_ERRORS as exc:
            message = f"does not fit schema {writer.name} ({type(exc).__name__})"
            raise CodecError(_problem(message)) from None
        return out.getvalue()

    def _frame(self, writer: WriterSchema, body: bytes, topic: str | None) -> bytes:
        if self.registry is None:
            return SINGLE_OBJECT_MAGIC + writer.fingerprint + body
        if topic is None:
            message = "is required to encode for a schema registry (subject <topic>-value)"
            raise CodecError(_problem(message, "topic"))
        schema_id = self.registry.register(f"{topic}-value", writer.text)
        self._by_id.setdefault(schema_id, writer)
        return CONFLUENT_MAGIC + schema_id.to_bytes(4, "big") + body

    # decoding

    def decode(self, data: bytes) -> BaseModel:
        """The model in `data`: `CodecError` if the bytes cannot be read, `UnknownSchema`
        if their schema is not ours, `InvalidInput` if the record is not valid."""
        name, record = self._read(data, self.decode)
        return validate_model(MODEL_OF[name], record)

    def decode_as(self, data: bytes, cls: type[M]) -> M:
        """`decode`, insisting on one model class (e.g. on a single-type topic)."""
        return _insist(self.decode(data), cls)

    def decode_trusted(self, data: bytes) -> BaseModel:
        """`decode`, for a record of our own internal topics only (broker.accepted.v1,
        broker.linked.v1: written by our workers alone, from validated models): built
        without validating it again. One that does not fit its model's shape (a schema
        that drifted) is validated as `decode` does, so refused if it is invalid; the
        agents' handling of a refused record is the same either way.

        An accepted event's datum is kept to write it again (broker/codec/memo.py)."""
        return self._read_trusted(data, keep=True)

    def _nested_trusted(self, data: bytes) -> BaseModel:
        """A child message's event: never written again, so not kept."""
        return self._read_trusted(data, keep=False)

    def _read_trusted(self, data: bytes, *, keep: bool) -> BaseModel:
        writer, datum = self._writer_of(bytes(data))
        name, record = self._read_datum(writer, datum, self._nested_trusted)
        plan = self._trusted.get(name)
        if plan is not None:
            try:
                built: BaseModel = plan(record)
                if keep and name in _KEPT and self.current[name] is writer:
                    self.read_data.keep(built, writer, datum)
                return built
            except Untrusted as exc:
                self.untrusted += 1
                if self.untrusted == 1 or not self.untrusted % 10_000:  # drift: not each one
                    message = "internal record not of its model's shape: validated"
                    log.warning(message, extra={"reasons": [str(exc)], "count": self.untrusted})
        return validate_model(MODEL_OF[name], record)

    def decode_trusted_as(self, data: bytes, cls: type[M]) -> M:
        """`decode_trusted`, insisting on one model class, as `decode_as` does."""
        return _insist(self.decode_trusted(data), cls)

    def decode_dict(self, data: bytes) -> dict[str, Any]:
        """The record in `data` as plain data, resolved to our current schema and not
        validated: ingest validates it to report every problem at once."""
        return self._read(data, self.decode)[1]

    def _read(self, data: bytes, inner: Callable[[bytes], BaseModel]) -> tuple[str, dict[str, Any]]:
        """The record in `data` and its schema's name; a nested message (a child
        message's event) decoded by `inner`."""
        return self._read_datum(*self._writer_of(bytes(data)), inner)

    def _read_datum(
        self, writer: WriterSchema, body: bytes, inner: Callable[[bytes], BaseModel]
    ) -> tuple[str, dict[str, Any]]:
        reader = self.current.get(writer.name)
        if reader is None:
            message = f"was written with schema {writer.name}, which this broker does not read"
            raise UnknownSchema(_problem(message))
        stream = io.BytesIO(body)
        try:
            record = fastavro.schemaless_reader(
                stream, writer.parsed, None if reader is writer else reader.parsed
            )
        except _READ_ERRORS as exc:
            message = (
                f"cannot be read as {writer.name} ({type(exc).__name__}): truncated or corrupt"
            )
            raise CodecError(_problem(message)) from None
        if stream.tell() != len(body):
            message = f"has {len(body) - stream.tell()} byte(s) after the {writer.name} record"
            raise CodecError(_problem(message))
        if not isinstance(record, dict):
            raise CodecError(_problem(f"is not a record of {writer.name}"))
        for field in _JSON_MAPS.get(reader.name, ()):
            record[field] = _json_values(record.get(field) or {}, field)
        for field in _NESTED.get(reader.name, ()):
            nested = record.get(field)
            record[field] = None if nested is None else inner(nested)
        return reader.name, record

    def _writer_of(self, data: bytes) -> tuple[WriterSchema, bytes]:
        if data.startswith(SINGLE_OBJECT_MAGIC):
            if len(data) < 10:
                raise CodecError(_problem("is too short for Avro single-object encoding"))
            writer = self.by_fingerprint.get(data[2:10])
            if writer is None:
                message = f"names schema fingerprint {data[2:10].hex()}, which is not ours"
                raise UnknownSchema(_problem(message))
            return writer, data[10:]
        if data.startswith(CONFLUENT_MAGIC) and self.registry is not None:
            if len(data) < 5:
                raise CodecError(_problem("is too short for the Confluent wire format"))
            return self._writer_by_id(int.from_bytes(data[1:5], "big")), data[5:]
        raise CodecError(_problem(_unframed(data, registry=self.registry is not None)))

    def _writer_by_id(self, schema_id: int) -> WriterSchema:
        if schema_id not in self._by_id:
            assert self.registry is not None
            text = self.registry.get(schema_id)
            try:
                schema = json.loads(text)
            except ValueError:
                raise UnknownSchema(_problem(f"names schema id {schema_id}: not JSON")) from None
            if not isinstance(schema, dict) or "name" not in schema:
                raise UnknownSchema(_problem(f"names schema id {schema_id}: not a record"))
            try:
                writer = parse_standalone(schema, f"id {schema_id}")
            except ConfigurationError:
                raise UnknownSchema(_problem(f"names schema id {schema_id}: invalid")) from None
            # our current schema under another id: read as the very schema, no resolution
            self._by_id[schema_id] = self.by_fingerprint.get(writer.fingerprint, writer)
        return self._by_id[schema_id]


def _insist(value: BaseModel, cls: type[M]) -> M:
    if not isinstance(value, cls):
        message = f"is {type(value).__name__}, where {cls.__name__} was expected"
        raise CodecError(_problem(message))
    return value


def _unframed(data: bytes, *, registry: bool) -> str:
    if not data:
        return "is empty"
    expected = "00 (Confluent) or C3 01" if registry else "C3 01"
    if data.startswith(CONFLUENT_MAGIC):
        return (
            "is in the Confluent wire format (starts 00), but no schema registry is "
            "configured (MASH_SCHEMA_REGISTRY_URL)"
        )
    if data.lstrip()[:1] in (b"{", b"["):
        return f"is not Avro single-object encoded: it looks like JSON (expected {expected})"
    return f"is not Avro single-object encoded: it does not start with {expected}"


def _json_values(values: Mapping[str, Any], field: str) -> dict[str, Any]:
    decoded = {}
    for key, text in values.items():
        try:
            decoded[key] = json.loads(text)
        except (TypeError, ValueError):
            raise CodecError(_problem("is not JSON text", f"{field}.{key}")) from None
    return decoded


def _from_json(schema: Any, value: Any, named: dict[str, Any]) -> Any:
    """JSON-form data shaped for fastavro's writer, following the schema: ISO times and
    dates parsed, records completed with their defaults. What does not fit is left as
    it is, for the writer to refuse."""
    schema = _resolve(schema, value, named)
    if not isinstance(schema, dict) or value is None:
        return value
    kind = schema.get("type")
    if kind == "record" and isinstance(value, Mapping):
        fields = schema["fields"]
        present = [f for f in fields if f["name"] in value]
        out = {f["name"]: _from_json(f["type"], value[f["name"]], named) for f in present}
        out.update({f["name"]: f["default"] for f in fields if f not in present and "default" in f})
        return out
    if kind == "array" and isinstance(value, list):
        return [_from_json(schema["items"], v, named) for v in value]
    if kind == "map" and isinstance(value, Mapping):
        return {k: _from_json(schema["values"], v, named) for k, v in value.items()}
    if isinstance(kind, list | dict):
        return _from_json(kind, value, named)
    return _logical(schema.get("logicalType"), value)


def _resolve(schema: Any, value: Any, named: dict[str, Any]) -> Any:
    """A reference as its definition (remembering definitions as they are met); a
    nullable union as its one other branch."""
    if isinstance(schema, str):
        schema = named.get(schema, named.get(f"{NAMESPACE}.{schema}", schema))
    if isinstance(schema, list):
        branches = [s for s in schema if s != "null"]
        schema = _resolve(branches[0], value, named) if len(branches) == 1 else None
    if isinstance(schema, dict) and schema.get("type") in ("record", "enum", "fixed"):
        named[full_name({**schema, "namespace": schema.get("namespace", NAMESPACE)})] = schema
    return schema


def _logical(logical: Any, value: Any) -> Any:
    try:
        if logical == "timestamp-millis" and isinstance(value, str):
            return datetime.fromisoformat(value)
        if logical == "date" and isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    return value


def codec_from_settings(settings: Settings) -> AvroCodec:
    """The codec the settings ask for: single-object encoding, or the Confluent framing
    with an HTTP registry client (cached) when a schema registry URL is set."""
    registry: SchemaRegistry | None = None
    if settings.schema_registry_url:
        registry = CachingSchemaRegistry(HttpSchemaRegistry(settings.schema_registry_url))
    return AvroCodec(settings.schemas_dir, registry)
