"""The wire format: round trips, both framings, schema evolution both ways, and bytes
that are not what they claim to be (always a CodecError, never a crash)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.codec import (
    CONFLUENT_MAGIC,
    SINGLE_OBJECT_MAGIC,
    AvroCodec,
    CachingSchemaRegistry,
    HttpSchemaRegistry,
    InMemorySchemaRegistry,
    codec_from_settings,
    freeze_history,
)
from broker.errors import (
    CodecError,
    ConfigurationError,
    InfrastructureError,
    InvalidInput,
    UnknownSchema,
)
from broker.models import (
    Alert,
    EventBase,
    Notification,
    NotifiedChild,
    PoliceVist,
    Subject,
    parse_event,
    to_json_dict,
)
from broker.settings import Settings
from tests.unit.strategies import events, notifications, outputs

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
VIST_SCHEMA = "events/uk.gov.mash.v1.PoliceVist.avsc"
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CODEC = AvroCodec(SCHEMAS)  # for hypothesis tests (fixtures do not mix with @given)


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec(SCHEMAS)


def vist_json(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": "pol-1",
        "event_type": "police.vist",
        "source": {"agency": "police", "system": "police-records"},
        "occurred_at": "2026-05-19T12:00:00+01:00",
        "recorded_at": "2026-05-19T12:30:00+01:00",
        "subject": {
            "given_name": "Tia",
            "family_name": "Lewis",
            "date_of_birth": "2011-02-14",
            "nhs_number": "9434765919",
        },
        "vist_id": "V-1",
        "rag": "AMBER",
        "concerns": ["neglect", "domestic_abuse"],
        "narrative": "Officers attended the address.",
        "out_of_hours": True,
    }
    data.update(changes)
    return data


def a_vist() -> PoliceVist:
    event = parse_event(vist_json())
    assert isinstance(event, PoliceVist)
    return event


# --- round trips ---------------------------------------------------------------------------


@SLOW
@given(events())
def test_json_to_model_to_avro_to_model_is_the_same_event(event: EventBase) -> None:
    model = parse_event(json.loads(json.dumps(to_json_dict(event))))
    decoded = _CODEC.decode(_CODEC.encode(model))
    assert decoded == event
    assert type(decoded) is type(event)


@SLOW
@given(outputs())
def test_every_output_survives_avro(record: Any) -> None:
    assert _CODEC.decode(_CODEC.encode(record)) == record


def test_single_object_framing_is_marker_fingerprint_then_datum(codec: AvroCodec) -> None:
    event = a_vist()
    data = codec.encode(event)
    writer = codec.schema_for(PoliceVist)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == writer.fingerprint
    plain = fastavro.schemaless_reader(io.BytesIO(data[10:]), writer.parsed, None)
    assert isinstance(plain, dict)
    assert plain["event_id"] == "pol-1"


def test_times_come_back_the_same_instant_in_english_local_time(codec: AvroCodec) -> None:
    event = a_vist()
    decoded = codec.decode(codec.encode(event))
    assert isinstance(decoded, PoliceVist)
    assert decoded.occurred_at == datetime(2026, 5, 19, 11, 0, tzinfo=UTC)
    # The wire keeps UTC only; the model holds local time, so a trip through Kafka
    # changes nothing, not even the JSON form.
    assert to_json_dict(decoded) == to_json_dict(event)
    assert to_json_dict(decoded)["occurred_at"] == "2026-05-19T12:00:00+01:00"


def _rabin(data: bytes) -> bytes:
    """CRC-64-AVRO as the Avro specification writes it out, independently of fastavro."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp.to_bytes(8, "little")


def test_the_fingerprint_is_of_the_parsing_canonical_form_as_java_computes_it(
    tmp_path: Path,
) -> None:
    # logicalType, doc, defaults and namespaces are not part of the canonical form
    schema = {
        "type": "record",
        "name": "PoliceVist",
        "namespace": "uk.gov.mash.v1",
        "doc": "ignored",
        "fields": [
            {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "n", "type": ["null", "string"], "default": None},
        ],
    }
    canonical = (
        '{"name":"uk.gov.mash.v1.PoliceVist","type":"record","fields":'
        '[{"name":"t","type":"long"},{"name":"n","type":["null","string"]}]}'
    )
    from broker.codec.schemas import parse_standalone

    assert parse_standalone(schema, "test").fingerprint == _rabin(canonical.encode())


def test_notification_fields_travel_as_json_texts(codec: AvroCodec) -> None:
    notification = Notification(
        notification_id="n1",
        event_id="pol-1",
        event_type="police.vist",
        to_agency="school",
        child=NotifiedChild(given_name="Tia", family_name="Lewis", date_of_birth=date(2011, 2, 14)),
        summary="Police attended a domestic abuse incident at the child's home.",
        lawful_basis="Domestic Abuse Act 2021 s.49A",
        consent="dispensed",
        fields={"occurred_at": "2026-05-19T12:00:00+01:00", "concerns": ["domestic_abuse"]},
    )
    data = codec.encode(notification, topic="agency.school.notification.v1")
    writer = codec.schema_for(Notification)
    raw = fastavro.schemaless_reader(io.BytesIO(data[10:]), writer.parsed, None)
    assert isinstance(raw, dict)
    assert raw["fields"]["concerns"] == '["domestic_abuse"]'
    assert codec.decode(data) == notification
    assert codec.decode_dict(data)["fields"]["concerns"] == ["domestic_abuse"]


@SLOW
@given(notifications)
def test_any_notification_fields_survive(notification: Notification) -> None:
    assert _CODEC.decode(_CODEC.encode(notification)) == notification


def test_decode_as_insists_on_the_class(codec: AvroCodec) -> None:
    data = codec.encode(a_vist())
    assert codec.decode_as(data, PoliceVist).vist_id == "V-1"
    with pytest.raises(CodecError) as caught:
        codec.decode_as(data, Alert)
    assert caught.value.problems[0].message == "is PoliceVist, where Alert was expected"


def test_a_model_that_is_not_a_message_has_no_schema(codec: AvroCodec) -> None:
    subject = Subject(given_name="A", family_name="B", date_of_birth=date(2011, 1, 1))
    with pytest.raises(UnknownSchema):
        codec.encode(subject)


# --- encode_dict: sending invalid events on purpose ------------------------------------------


def test_an_invalid_event_can_be_sent_and_is_refused_when_read(codec: AvroCodec) -> None:
    bad = vist_json(subject={**vist_json()["subject"], "nhs_number": "9434765910"})
    data = codec.encode_dict("police.vist", bad, topic="police.vist.v1")
    record = codec.decode_dict(data)
    assert record["subject"]["nhs_number"] == "9434765910"
    assert record["consent"] == {"status": "not_sought", "rationale": None}
    with pytest.raises(InvalidInput) as caught:
        parse_event(record)
    assert [p.field for p in caught.value.problems] == ["subject.nhs_number"]
    with pytest.raises(InvalidInput) as again:
        codec.decode(data)
    assert [p.field for p in again.value.problems] == ["subject.nhs_number"]
    assert "9434765910" not in str(again.value)


def test_encode_dict_refuses_what_the_schema_cannot_carry(codec: AvroCodec) -> None:
    with pytest.raises(CodecError) as caught:
        codec.encode_dict("police.vist", vist_json(rag="PINK"))
    assert caught.value.problems[0].field == "payload"
    with pytest.raises(CodecError):
        codec.encode_dict("police.vist", {k: v for k, v in vist_json().items() if k != "rag"})
    with pytest.raises(CodecError) as private:
        codec.encode_dict("police.vist", vist_json(subject={"given_name": 12345}))
    assert "12345" not in str(private.value) + repr(private.value.problems)
    with pytest.raises(UnknownSchema):
        codec.encode_dict("police.vist.v9", vist_json())


def test_encode_dict_accepts_a_full_schema_name(codec: AvroCodec) -> None:
    data = codec.encode_dict("uk.gov.mash.v1.PoliceVist", vist_json())
    assert codec.decode(data) == a_vist()


# --- bytes that are not what they claim to be --------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_is_a_codec_error(data: bytes) -> None:
    problems: tuple[Any, ...] = ()
    try:
        _CODEC.decode_dict(data)
    except CodecError as exc:
        problems = exc.problems
    assert all(p.field == "payload" for p in problems)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(_CODEC.current)), st.binary(max_size=300))
def test_a_valid_header_on_garbage_is_never_a_crash(name: str, body: bytes) -> None:
    data = SINGLE_OBJECT_MAGIC + _CODEC.current[name].fingerprint + body
    with contextlib.suppress(InvalidInput):
        _CODEC.decode(data)


def test_every_truncation_is_a_codec_error(codec: AvroCodec) -> None:
    data = codec.encode(a_vist())
    for end in range(len(data)):
        with pytest.raises(CodecError):
            codec.decode_dict(data[:end])


def test_trailing_bytes_are_a_codec_error(codec: AvroCodec) -> None:
    with pytest.raises(CodecError) as caught:
        codec.decode(codec.encode(a_vist()) + b"\x00")
    assert (
        caught.value.problems[0].message
        == "has 1 byte(s) after the uk.gov.mash.v1.PoliceVist record"
    )


def test_an_unknown_fingerprint_is_an_unknown_schema(codec: AvroCodec) -> None:
    data = codec.encode(a_vist())
    with pytest.raises(UnknownSchema) as caught:
        codec.decode(data[:2] + bytes(8) + data[10:])
    assert "fingerprint 0000000000000000" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "is empty"),
        (b"\xc3", "does not start with C3 01"),
        (b"\xc3\x01\x01\x02", "too short"),
        (b"\xc3\x02" + bytes(20), "does not start with C3 01"),
        (b'{"event_type": "police.vist"}', "looks like JSON"),
        (b"\x00\x00\x00\x00\x01\x02", "no schema registry is configured"),
    ],
)
def test_wrong_framing_says_what_is_wrong(codec: AvroCodec, data: bytes, says: str) -> None:
    with pytest.raises(CodecError) as caught:
        codec.decode(data)
    [problem] = caught.value.problems
    assert problem.field == "payload"
    assert says in problem.message


# --- schema evolution ---------------------------------------------------------------------------


def add_optional_field(schemas: Path) -> None:
    path = schemas / VIST_SCHEMA
    schema = json.loads(path.read_text())
    schema["fields"].append({"name": "risk_notes", "type": ["null", "string"], "default": None})
    path.write_text(json.dumps(schema, indent=2))
    freeze_history(schemas)


@pytest.fixture
def v1_v2(tmp_path: Path) -> tuple[Path, Path]:
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    shutil.copytree(SCHEMAS, v1)
    shutil.copytree(SCHEMAS, v2)
    add_optional_field(v2)
    return v1, v2


def test_v1_bytes_are_read_by_a_v2_reader(v1_v2: tuple[Path, Path]) -> None:
    v1, v2 = (AvroCodec(d) for d in v1_v2)
    assert v1.schema_for(PoliceVist).fingerprint != v2.schema_for(PoliceVist).fingerprint
    data = v1.encode(a_vist())
    assert v2.decode_dict(data)["risk_notes"] is None  # the reader's default
    assert v2.decode(data) == a_vist()


def test_v2_bytes_are_read_by_a_v1_reader_once_it_holds_the_v2_schema(
    v1_v2: tuple[Path, Path],
) -> None:
    v1_dir, v2_dir = v1_v2
    v2 = AvroCodec(v2_dir)
    data = v2.encode_dict("police.vist", vist_json(risk_notes="seen with older males"))
    assert AvroCodec(v2_dir).decode_dict(data)["risk_notes"] == "seen with older males"
    with pytest.raises(UnknownSchema):  # a reader that was never given the v2 schema
        AvroCodec(v1_dir).decode(data)
    v2_file = v2_dir / "history" / "uk.gov.mash.v1.PoliceVist"
    shutil.copytree(v2_file, v1_dir / "history" / "uk.gov.mash.v1.PoliceVist", dirs_exist_ok=True)
    v1 = AvroCodec(v1_dir)  # v1 is still its current (reader) schema
    assert "risk_notes" not in v1.decode_dict(data)
    assert v1.decode(data) == a_vist()


def test_with_a_registry_a_v1_reader_reads_v2_bytes_without_any_file(
    v1_v2: tuple[Path, Path],
) -> None:
    registry = InMemorySchemaRegistry()
    v1 = AvroCodec(v1_v2[0], registry)
    v2 = AvroCodec(v1_v2[1], registry)
    data = v2.encode_dict("police.vist", vist_json(risk_notes="x"), topic="police.vist.v1")
    assert v1.decode(data) == a_vist()
    assert v2.decode(v1.encode(a_vist(), topic="police.vist.v1")) == a_vist()
    assert len(registry.subjects["police.vist.v1-value"]) == 2


def test_schemas_the_models_do_not_know_stop_the_codec(tmp_path: Path) -> None:
    shutil.copytree(SCHEMAS, tmp_path / "s")
    (tmp_path / "s" / "events" / "uk.gov.mash.v1.Extra.avsc").write_text(
        json.dumps({"type": "record", "name": "Extra", "namespace": "uk.gov.mash.v1", "fields": []})
    )
    with pytest.raises(ConfigurationError, match="disagree"):
        AvroCodec(tmp_path / "s")


def test_an_unresolvable_old_writer_is_a_codec_error_not_a_crash(tmp_path: Path) -> None:
    """A writer without a field the reader needs and has no default for (what adding a
    required field would do) cannot be read: the message is rejected, the worker lives."""
    shutil.copytree(SCHEMAS, tmp_path / "s")
    current = json.loads(_CODEC.schema_for(PoliceVist).text)
    old = {**current, "fields": [f for f in current["fields"] if f["name"] != "narrative"]}
    from broker.codec.schemas import parse_standalone

    writer = parse_standalone(old, "old")
    folder = tmp_path / "s" / "history" / writer.name
    (folder / f"{writer.fingerprint.hex()}.avsc").write_text(json.dumps(old))
    codec = AvroCodec(tmp_path / "s")
    record = codec.decode_dict(codec.encode(a_vist()))
    del record["narrative"]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, writer.parsed, record)
    with pytest.raises(CodecError) as caught:
        codec.decode(SINGLE_OBJECT_MAGIC + writer.fingerprint + body.getvalue())
    assert "cannot be read as uk.gov.mash.v1.PoliceVist" in caught.value.problems[0].message


def test_fastavro_resolves_both_ways_with_our_kind_of_change() -> None:
    v1 = {
        "type": "record",
        "name": "E",
        "fields": [{"name": "a", "type": "string"}],
    }
    v2 = {
        **v1,
        "fields": [*v1["fields"], {"name": "b", "type": ["null", "string"], "default": None}],
    }
    p1, p2 = fastavro.parse_schema(v1), fastavro.parse_schema(v2)
    out1, out2 = io.BytesIO(), io.BytesIO()
    fastavro.schemaless_writer(out1, p1, {"a": "x"})
    fastavro.schemaless_writer(out2, p2, {"a": "x", "b": "y"})
    assert fastavro.schemaless_reader(io.BytesIO(out1.getvalue()), p1, p2) == {"a": "x", "b": None}
    assert fastavro.schemaless_reader(io.BytesIO(out2.getvalue()), p2, p1) == {"a": "x"}


# --- the Confluent framing -------------------------------------------------------------------


class CountingRegistry(InMemorySchemaRegistry):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def register(self, subject: str, schema_json: str) -> int:
        self.calls.append(f"register {subject}")
        return super().register(subject, schema_json)

    def get(self, schema_id: int) -> str:
        self.calls.append(f"get {schema_id}")
        return super().get(schema_id)


def test_confluent_framing_is_zero_schema_id_then_datum() -> None:
    registry = InMemorySchemaRegistry()
    codec = AvroCodec(SCHEMAS, registry)
    data = codec.encode(a_vist(), topic="police.vist.v1")
    assert data[:1] == CONFLUENT_MAGIC
    (schema_id,) = struct.unpack(">I", data[1:5])
    assert registry.subjects == {"police.vist.v1-value": [schema_id]}
    assert json.loads(registry.get(schema_id))["name"] == "PoliceVist"
    assert AvroCodec(SCHEMAS, registry).decode(data) == a_vist()


def test_confluent_encoding_needs_the_topic() -> None:
    codec = AvroCodec(SCHEMAS, InMemorySchemaRegistry())
    with pytest.raises(CodecError) as caught:
        codec.encode(a_vist())
    assert caught.value.problems[0].field == "topic"


def test_single_object_bytes_still_read_when_a_registry_is_configured(codec: AvroCodec) -> None:
    data = codec.encode(a_vist())
    assert AvroCodec(SCHEMAS, InMemorySchemaRegistry()).decode(data) == a_vist()


def test_an_unknown_schema_id_is_an_unknown_schema() -> None:
    codec = AvroCodec(SCHEMAS, InMemorySchemaRegistry())
    with pytest.raises(UnknownSchema):
        codec.decode(b"\x00\x00\x00\x00\x07\x02")
    with pytest.raises(CodecError) as caught:
        codec.decode(b"\x00\x00\x00")
    assert "too short" in caught.value.problems[0].message


def test_a_foreign_schema_in_the_registry_is_not_ours() -> None:
    registry = InMemorySchemaRegistry()
    foreign = {"type": "record", "name": "x.Other", "fields": [{"name": "a", "type": "int"}]}
    schema_id = registry.register("other-value", json.dumps(foreign))
    codec = AvroCodec(SCHEMAS, registry)
    with pytest.raises(UnknownSchema) as caught:
        codec.decode(b"\x00" + schema_id.to_bytes(4, "big") + b"\x02")
    assert "x.Other, which this broker does not read" in caught.value.problems[0].message
    nonsense = registry.register("other-value", "not json")
    with pytest.raises(UnknownSchema):
        codec.decode(b"\x00" + nonsense.to_bytes(4, "big") + b"\x02")


def test_registry_answers_are_cached() -> None:
    inner = CountingRegistry()
    writer = AvroCodec(SCHEMAS, CachingSchemaRegistry(inner))
    first = writer.encode(a_vist(), topic="police.vist.v1")
    writer.encode(a_vist(), topic="police.vist.v1")
    reader = AvroCodec(SCHEMAS, CachingSchemaRegistry(inner))
    reader.decode(first)
    reader.decode(first)
    assert inner.calls == ["register police.vist.v1-value", "get 1"]


# --- the HTTP registry client ---------------------------------------------------------------


class FakeRegistryHandler(BaseHTTPRequestHandler):
    """A registry double at the port: the unit tests of the client need its errors on cue.
    tests/integration/test_schema_registry.py proves the client against a real registry."""

    schemas: dict[int, str] = {}  # noqa: RUF012 (a test double's shared state)
    seen: list[tuple[str, str, str | None]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.seen.append(("POST", self.path, self.headers.get("Authorization")))
        if "incompatible" in self.path:
            self._answer(409, {"error_code": 409, "message": "incompatible"})
            return
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = body["schema"]
        self._answer(200, {"id": schema_id})

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers.get("Authorization")))
        schema_id = int(self.path.rsplit("/", 1)[1])
        if schema_id == 500:
            self._answer(500, {"error_code": 500, "message": "down"})
        elif schema_id in self.schemas:
            self._answer(200, {"schema": self.schemas[schema_id]})
        else:
            self._answer(404, {"error_code": 40403, "message": "Schema not found"})

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def registry_url() -> Iterator[str]:
    FakeRegistryHandler.schemas = {}
    FakeRegistryHandler.seen = []
    server = HTTPServer(("127.0.0.1", 0), FakeRegistryHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_http_registry_client_speaks_the_rest_api(registry_url: str) -> None:
    host = registry_url.removeprefix("http://")
    client = HttpSchemaRegistry(f"http://user:p%40ss@{host}/")
    codec = AvroCodec(SCHEMAS, CachingSchemaRegistry(client))
    data = codec.encode(a_vist(), topic="police.vist.v1")
    reader = AvroCodec(SCHEMAS, CachingSchemaRegistry(HttpSchemaRegistry(registry_url)))
    assert reader.decode(data) == a_vist()
    post, get = FakeRegistryHandler.seen
    assert post[:2] == ("POST", "/subjects/police.vist.v1-value/versions")
    assert post[2] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert get == ("GET", "/schemas/ids/1", None)


def test_the_http_registry_client_says_what_to_do(registry_url: str) -> None:
    client = HttpSchemaRegistry(registry_url)
    with pytest.raises(UnknownSchema):
        client.get(99)
    with pytest.raises(InfrastructureError):
        client.get(500)
    with pytest.raises(ConfigurationError, match="incompatible"):
        client.register("incompatible-value", "{}")


def test_an_unreachable_registry_is_retriable() -> None:
    client = HttpSchemaRegistry("http://127.0.0.1:9/", timeout=2)
    with pytest.raises(InfrastructureError) as caught:
        client.get(1)
    assert caught.value.retriable


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/", "http://"])
def test_the_registry_url_must_be_http(url: str) -> None:
    with pytest.raises(ConfigurationError):
        HttpSchemaRegistry(url)


def test_codec_from_settings_picks_the_framing(registry_url: str) -> None:
    plain = codec_from_settings(Settings(schemas_dir=SCHEMAS, schema_registry_url=None))
    assert plain.registry is None
    assert plain.encode(a_vist())[:2] == SINGLE_OBJECT_MAGIC
    confluent = codec_from_settings(Settings(schemas_dir=SCHEMAS, schema_registry_url=registry_url))
    assert isinstance(confluent.registry, CachingSchemaRegistry)
    assert confluent.encode(a_vist(), topic="police.vist.v1")[:1] == CONFLUENT_MAGIC
