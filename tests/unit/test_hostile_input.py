"""What a hostile sender tried (issue 16), each refused with its reasons, never raised.

One test per finding: deep nesting, sizes, impersonation, lax types, names. Each failed
before its fix; the scenarios tests/scenarios/hostile_*.json show the same through replay.
"""

from __future__ import annotations

import hashlib
import io
import json
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import pytest

from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.kafka.publish import _invalid_payload
from broker.models.outputs import Rejected
from broker.models.text import KEPT_ORIGINAL_BYTES, MAX_EVENT_BYTES, MAX_REASONS
from broker.pipeline.engine import replay_lines
from broker.pipeline.ingest import Accepted, Refused, ingest_json, ingest_wire
from broker.pipeline.jsonlines import MAX_LINE_BYTES, json_lines
from broker.pipeline.rejection import rejection_records
from broker.settings import Settings
from broker.topics import REJECTED
from tests.unit.test_ingest import GOOD

NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)
CODEC = AvroCodec(Settings().schemas_dir)
DEEP = b"[" * 100_000 + b"]" * 100_000


def event(**changes: Any) -> dict[str, Any]:
    data = deepcopy(GOOD)
    for name, value in changes.items():
        if name in ("subject", "source"):
            data[name].update(value)
        else:
            data[name] = value
    return data


def refused(data: dict[str, Any]) -> Refused:
    result = ingest_json(json.dumps(data).encode())
    assert isinstance(result, Refused), "accepted"
    return result


def fields(result: Refused) -> set[str]:
    return {p.field for p in result.problems}


# --- deep nesting -----------------------------------------------------------------------


def test_json_nested_100000_deep_is_refused_not_raised() -> None:
    result = ingest_json(DEEP)
    assert isinstance(result, Refused)
    assert [p.field for p in result.problems] == ["payload"]
    assert "nested too deeply" in result.problems[0].message


def test_replay_goes_on_past_a_deeply_nested_line() -> None:
    lines = [DEEP, b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, json.dumps(GOOD).encode()]
    records = list(replay_lines(lines, ManualClock()))
    rejected = [r for r in records if r.topic == REJECTED.name]
    assert len(rejected) == 2
    assert any(r.topic == "broker.linked.v1" for r in records)  # the good event flowed


def test_publish_does_not_raise_on_a_deeply_nested_line() -> None:
    assert _invalid_payload(CODEC, DEEP) is None


def test_the_line_reader_skips_what_is_beyond_its_limit_and_reads_the_next_line() -> None:
    long_line = b"x" * (MAX_LINE_BYTES + 10)
    handle = io.BytesIO(long_line + b"\n\n" + b'{"next": 1}\r\n')
    lines = list(json_lines(handle))
    assert [(n, len(line)) for n, line in lines] == [(1, MAX_LINE_BYTES), (3, 11)]


# --- sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": {"given_name": "A" * 100_000}}, "subject.given_name"),
        ({"narrative": "x" * 5_000_000}, "narrative"),
        ({"event_id": "e" * 10_000}, "event_id"),
        ({"concerns": ["neglect"] * 10_000}, "concerns"),
        ({"source": {"system": "s" * 201}}, "source.system"),
    ],
    ids=["given_name", "narrative", "event_id", "concerns", "system"],
)
def test_a_field_over_its_limit_is_refused(changes: dict[str, Any], field: str) -> None:
    result = refused(event(**changes))
    assert field in fields(result)
    assert len(result.problems) <= 2  # one for the field, one for the whole event's size


def test_fields_at_their_limits_are_accepted() -> None:
    data = event(
        subject={"given_name": "A" * 100, "family_name": "B" * 100},
        narrative="x" * 16_000,
        event_id="e" * 128,
        concerns=["neglect"] * 32,
    )
    assert isinstance(ingest_json(json.dumps(data).encode()), Accepted)


def test_an_event_over_the_byte_limit_is_refused_even_when_its_fields_fit() -> None:
    # 16,000 four-byte characters in each of a referral's long fields: 64 KB apiece
    wide = "\U0001f600" * 16_000
    data = event(narrative=wide, consent={"status": "given", "rationale": wide * 0 + wide})
    data["officer"] = {"collar_number": "1", "name": None}
    raw = json.dumps(data, ensure_ascii=False).encode() + b" " * MAX_EVENT_BYTES
    result = ingest_json(raw)
    assert isinstance(result, Refused)
    assert fields(result) == {"payload"}
    assert f"at most {MAX_EVENT_BYTES} bytes" in result.problems[0].message
    assert result.event_id == GOOD["event_id"]  # the sender still hears of it


def test_an_oversized_original_is_kept_by_reference_and_the_record_fits_kafka() -> None:
    raw = json.dumps(event(narrative="x" * 5_000_000)).encode()
    result = ingest_json(raw)
    assert isinstance(result, Refused)
    [rejected_record, feedback] = rejection_records(result, NOW)
    rejected = rejected_record.value
    assert isinstance(rejected, Rejected)
    assert rejected.original == raw[:KEPT_ORIGINAL_BYTES]
    assert rejected.original_size == len(raw)
    assert rejected.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert not rejected.original_is_whole
    assert len(CODEC.encode(rejected, topic=REJECTED.name)) < 16 * 1024
    assert feedback.topic == "agency.police.feedback.v1"


def test_an_original_within_the_limit_is_kept_whole() -> None:
    raw = b"not json at all"
    result = ingest_json(raw)
    assert isinstance(result, Refused)
    rejected = rejection_records(result, NOW)[0].value
    assert isinstance(rejected, Rejected)
    assert (rejected.original, rejected.original_size) == (raw, len(raw))
    assert rejected.original_is_whole


def test_a_refusal_lists_at_most_max_reasons_and_counts_the_rest() -> None:
    result = refused(event(concerns=[f"bad-{i}" for i in range(30)], subject={"upn": "x"}))
    many = Refused(result.problems * 10, result.raw, None)
    rejected = rejection_records(many, NOW)[0].value
    assert isinstance(rejected, Rejected)
    assert len(rejected.reasons) == MAX_REASONS
    assert rejected.reasons[-1].message == f"and {len(many.problems) - MAX_REASONS + 1} more"


def test_a_hostile_event_id_is_not_used_as_a_key_or_a_reference() -> None:
    result = refused(event(event_id="e" * 10_000))
    assert result.event_id is None
    assert refused(event(event_id="pol-1\n", rag="PINK")).event_id is None


# --- impersonation ----------------------------------------------------------------------


def test_a_police_vist_from_a_school_is_refused_as_impersonation() -> None:
    result = refused(event(source={"agency": "school"}))
    [problem] = result.problems
    assert problem.field == "source.agency"
    assert "may not be school on a police.vist event (sent only by police)" in problem.message


def test_impersonation_is_refused_from_kafka_too() -> None:
    wire = CODEC.encode_dict("police.vist", event(source={"agency": "school"}))
    result = ingest_wire(wire, "police.vist.v1", CODEC)
    assert isinstance(result, Refused)
    assert fields(result) == {"source.agency"}


def test_every_event_type_names_its_senders_and_camhs_sends_health_updates() -> None:
    from broker.models.events import EVENT_CLASSES, SENDERS

    assert set(SENDERS) == set(EVENT_CLASSES)
    health = event(event_type="health.update", source={"agency": "camhs"}, update_id="U-1")
    health |= {"kind": "camhs_referral", "setting": "CAMHS"}
    assert isinstance(ingest_json(json.dumps(health).encode()), Accepted)


# --- strict types -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "on", None])
def test_a_boolean_must_be_true_or_false(value: Any) -> None:
    result = refused(event(out_of_hours=value))
    assert fields(result) == {"out_of_hours"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": {"date_of_birth": 1297641600}}, "subject.date_of_birth"),
        ({"subject": {"date_of_birth": "2011-02-14T00:00:00"}}, "subject.date_of_birth"),
        ({"recorded_at": 1779188400}, "recorded_at"),
        ({"occurred_at": "1779188400"}, "occurred_at"),
    ],
)
def test_dates_and_times_are_iso_text_never_numbers(changes: dict[str, Any], field: str) -> None:
    assert field in fields(refused(event(**changes)))


def test_the_avro_path_still_reads_its_own_types() -> None:
    wire = CODEC.encode_dict("police.vist", event())
    assert isinstance(ingest_wire(wire, "police.vist.v1", CODEC), Accepted)


# --- names and text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "field"),
    [
        ({"family_name": "<img src=x onerror=alert(1)>"}, "subject.family_name"),
        ({"given_name": "Tia\u202esiweL"}, "subject.given_name"),
        ({"given_name": "Tia\u2066x\u2069"}, "subject.given_name"),
        ({"given_name": "Tia\x00"}, "subject.given_name"),
        ({"family_name": "Lewis; DROP TABLE children"}, "subject.family_name"),
        ({"postcode": "PL1\n8UU"}, "subject.postcode"),
    ],
)
def test_a_name_holds_only_what_names_hold(subject: dict[str, str], field: str) -> None:
    result = refused(event(subject=subject))
    assert field in fields(result)
    assert all("<img" not in p.message and "DROP" not in p.message for p in result.problems)


@pytest.mark.parametrize(
    "name", ["O'Brien", "Siân", "Nguyễn Thị", "محمد", "Anne-Marie", "St. John", "Twin 1", "Zoë"]
)
def test_real_names_are_accepted(name: str) -> None:
    data = event(subject={"given_name": name, "family_name": name})
    assert isinstance(ingest_json(json.dumps(data).encode()), Accepted)


@pytest.mark.parametrize(
    ("narrative", "accepted"),
    [
        ("Line one.\nLine two.\tTabbed.", True),
        ("He said <script>alert(1)</script> and left.", True),  # text; the page escapes it
        ("Before\x1b[2Jafter", False),
        ("Before\u202eafter", False),
        ("Before\x7fafter", False),
    ],
)
def test_a_narrative_may_hold_any_text_but_control_and_override_characters(
    narrative: str, accepted: bool
) -> None:
    result = ingest_json(json.dumps(event(narrative=narrative)).encode())
    assert isinstance(result, Accepted) is accepted
