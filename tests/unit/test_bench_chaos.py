"""The chaos benchmark's judge (bench/chaos_compare.py): it must see a lost, a changed
and a duplicated record, and tell a byte-identical re-send from a duplicate."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

from bench.chaos_compare import Wire, compare, expected
from bench.chaos_fuzz import SPOILS, expected_outcome, hostile_records
from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.models.events import parse_event
from broker.pipeline.engine import replay_lines
from broker.pipeline.ingest import Refused, ingest_wire
from broker.pipeline.rejection import rejection_records
from broker.settings import Settings
from broker.topics import INBOUND, INTERNAL_TOPICS

CODEC = AvroCodec(Settings().schemas_dir)
SCENARIO = (
    Path(__file__).resolve().parents[1] / "scenarios" / "unshared_significant_harm_is_high.json"
)


def _world() -> tuple[list[Wire], list[Wire], list[Wire], datetime]:
    scenario = json.loads(SCENARIO.read_text())
    events = [parse_event(e) for e in scenario["events"]]
    inbound = [
        Wire(INBOUND[e.event_type].name, e.event_id.encode(), CODEC.encode(e)) for e in events
    ]
    inbound.append(Wire("police.vist.v1", None, b"not avro"))
    accepted = [Wire("broker.accepted.v1", e.event_id.encode(), CODEC.encode(e)) for e in events]
    until = datetime.fromisoformat(scenario["until"])
    lines = [json.dumps(e).encode() for e in scenario["events"]]
    outputs = [
        Wire(r.topic, r.key.encode(), CODEC.encode(r.value))
        for r in replay_lines(lines, ManualClock(), until=until)
        if r.topic not in INTERNAL_TOPICS
    ]
    return inbound, accepted, outputs, until


def test_the_judge_finds_the_outputs_of_replay_clean_and_counts_a_resend() -> None:
    inbound, accepted, outputs, until = _world()
    want = expected(inbound, accepted, CODEC, until)
    refusal = [Wire("broker.rejected.v1", None, _rejected_bytes(inbound[-1], until))]
    verdict = compare([*outputs, outputs[0], *refusal], want, CODEC)
    assert verdict.clean, verdict
    assert verdict.resent == 1


def test_the_judge_sees_a_lost_a_changed_and_a_refusal_lost() -> None:
    inbound, accepted, outputs, until = _world()
    want = expected(inbound, accepted, CODEC, until)
    alert = CODEC.decode(outputs[0].value)
    changed = alert.model_copy(update={"summary": "something else"})
    spoilt = Wire(outputs[0].topic, outputs[0].key, CODEC.encode(changed))
    verdict = compare([spoilt, *outputs[2:]], want, CODEC)
    assert (verdict.lost, verdict.changed, verdict.refusals_lost) == (2, 1, 1)
    assert not verdict.clean


def _rejected_bytes(wire: Wire, until: datetime) -> bytes:
    refused = ingest_wire(wire.value, wire.topic, CODEC)
    assert isinstance(refused, Refused)
    return CODEC.encode(rejection_records(refused, until)[0].value)


def test_every_kind_of_hostile_record_is_made_and_judged_by_ingest() -> None:
    scenario = json.loads(SCENARIO.read_text())
    records = hostile_records(random.Random(3), scenario["events"], 60, CODEC)
    assert {r.kind for r in records} == set(SPOILS)
    outcomes = {r.kind: expected_outcome(r, CODEC) for r in records if r.kind != "flipped_bits"}
    assert outcomes["markup_in_narrative"] == "accepted"
    assert outcomes["impersonation"] == outcomes["nested_100000_deep"] == "rejected"
