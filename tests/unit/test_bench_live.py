"""The live benchmark's pure parts: which events it sends (the council's, and latency
probes sure to come out), and how it reads the worker's metrics to know the worker has
caught up (the run itself needs Kafka: `python -m
bench.live`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.council import Council
from bench.live_events import council_events, probe_children, probe_vist, to_wire
from bench.live_kafka import total
from bench.live_latency import Outputs, event_of, hops, split_warmup
from bench.live_worker import counted
from broker.calendar.clock import ManualClock
from broker.codec import codec_from_settings
from broker.pipeline.engine import replay_lines
from broker.settings import Settings


def test_it_sends_the_councils_events_less_the_lines_spoilt_on_purpose() -> None:
    lines = list(Council(seed=4, events=500).lines())
    events = council_events(500, seed=4)
    assert 0.95 * len(lines) < len(events) < len(lines)
    assert len({e.event_type for e in events}) >= 8


def test_totals_add_up_the_samples_whose_labels_match() -> None:
    samples = {
        ("mash_stage_outcomes_total", (("outcome", "linked"), ("stage", "link"))): 5.0,
        ("mash_stage_outcomes_total", (("outcome", "held"), ("stage", "link"))): 2.0,
        ("mash_stage_outcomes_total", (("outcome", "applied"), ("stage", "child"))): 4.0,
        ("mash_consumer_lag", (("partition", "0"), ("topic", "broker.linked.v1"))): 0.0,
    }
    assert total(samples, "mash_stage_outcomes_total", stage="link") == 7.0
    assert total(samples, "mash_stage_outcomes_total", stage="child") == 4.0
    assert total(samples, "mash_stage_outcomes_total") == 11.0
    assert total(samples, "mash_consumer_lag") == 0.0
    assert total(samples, "mash_events_out_total") == 0.0


def test_every_latency_probe_comes_out_as_a_notification_and_an_alert() -> None:
    """The latency phase times RED VISTs about children in need whom health works with:
    through replay (which the worker equals), each one is linked to its child (no
    identity review holds one back) and gives a notification to social care carrying
    its event id and an alert whose triggered_by starts with it."""
    at = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)
    children = 60
    vists = [probe_vist(n, children, at + timedelta(seconds=1 + n / 100)) for n in range(240)]
    lines = [e.model_dump_json().encode() for e in [*probe_children(children, at), *vists]]
    records = [r.to_json() for r in replay_lines(lines, ManualClock())]
    alerts = [r["value"] for r in records if r["topic"] == "mash.alert.v1"]
    assert not [a for a in alerts if a["rule_id"] == "IDENTITY_REVIEW"]
    notified = {
        r["value"]["event_id"] for r in records if r["topic"] == "agency.socialcare.notification.v1"
    }
    alerted = {a["triggered_by"][0] for a in alerts}
    ids = {v.event_id for v in vists}
    assert ids <= notified
    assert ids <= alerted
    assert len({a["child"]["child_id"] for a in alerts}) == children


def test_a_thousand_probe_children_are_valid_and_distinct_people() -> None:
    """The latency phase's default spreads its VISTs over 1,000 children: each must be a
    valid child (under 18, born in the past) and nobody else (the matcher would link two
    children with the same name and date of birth as one)."""
    at = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    records = probe_children(1000, at)[::2]
    people = {
        (e.subject.given_name, e.subject.family_name, e.subject.date_of_birth) for e in records
    }
    assert len(people) == 1000
    assert len({e.subject.date_of_birth for e in records}) == 1000


def test_the_probes_are_encoded_for_their_topics_keyed_by_child() -> None:
    codec = codec_from_settings(Settings())
    at = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)
    wires = to_wire([*probe_children(2, at), probe_vist(3, 2, at)], codec)
    assert [w.topic for w in wires] == [
        "socialcare.record.v1",
        "agency.involvement.v1",
        "socialcare.record.v1",
        "agency.involvement.v1",
        "police.vist.v1",
    ]
    assert wires[-1].event_id == "bench-vist-3"
    assert codec.decode(wires[-1].value).event_id == "bench-vist-3"


def test_the_event_between_stages_is_found_in_accepted_and_linked_records() -> None:
    assert event_of({"event_id": "e1", "child_id": None}) == "e1"
    assert event_of({"kind": "event", "event": {"event_id": "e2"}}) == "e2"
    assert event_of({"kind": "tick", "event": None}) is None
    codec = codec_from_settings(Settings())
    (wire,) = to_wire([probe_vist(0, 3, datetime(2026, 5, 1, tzinfo=UTC))], codec)
    linked = {"kind": "event", "event": codec.decode(wire.value)}  # as decode_dict gives it
    assert event_of(linked) == wire.event_id


def test_each_hop_is_timed_from_the_stage_before_for_events_read_at_both() -> None:
    outputs = Outputs.__new__(Outputs)  # its bookkeeping only: no consumer
    outputs.between = {"broker.accepted.v1": {"a": 1.010, "b": 2.020, "setup": 0.5}}
    outputs.between["broker.linked.v1"] = {"a": 1.050, "setup": 0.6}
    outputs.sent = {}
    outputs._sent("a", 1070)
    outputs._sent("a", 1075)  # its notification after its alert: the first counts
    found = hops({"a": 1.0, "b": 2.0, "c": 3.0}, outputs, {"a": 1.080})
    assert found["ingest"]["count"] == 2
    assert found["link"]["count"] == 1  # the setup events are not the run's
    assert round(found["ingest"]["max"] * 1000) == 20
    assert round(found["link"]["p50"] * 1000) == 40
    assert round(found["child"]["p50"] * 1000) == 20
    assert round(found["read"]["p50"] * 1000) == 10


def _outcomes(
    stage: str, outcome: str, value: float
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    labels = (("outcome", outcome), ("stage", stage))
    return {("mash_stage_outcomes_total", labels): value}


def test_two_workers_with_the_link_loop_settle_once_every_linked_event_is_handled() -> None:
    """One worker links every event; each handles its own children. Counted worker by
    worker the linker looked behind by the other's share for ever (the two-worker phase
    timed out with every event handled); counted together nothing is left."""
    linker = _outcomes("link", "linked", 100.0) | _outcomes("child", "event", 60.0)
    other = _outcomes("child", "event", 40.0)
    assert counted([linker, other], loop=True)[3] == 0.0
    assert counted([linker, _outcomes("child", "event", 30.0)], loop=True)[3] == 10.0
    assert counted([linker, other], loop=True)[:3] == (0.0, 100.0, 100.0)


def test_the_warm_up_is_the_events_sent_in_its_first_seconds_and_only_those() -> None:
    """The latency phase leaves the cold worker's first seconds out of its percentiles
    (printed apart): an event is the warm-up's when sent less than `warmup` seconds after
    the first, and every event is in one part or the other."""
    published = {f"e{n}": 1000.0 + n / 100 for n in range(1000)}  # 100 a second, 10 s
    warm, measured = split_warmup(published, 5.0)
    assert len(warm) == 500
    assert len(measured) == 500
    assert max(warm.values()) < 1005.0 <= min(measured.values())
    assert warm.keys() | measured.keys() == published.keys()
    assert split_warmup(published, 0.0) == ({}, published)
    assert split_warmup({}, 5.0) == ({}, {})
