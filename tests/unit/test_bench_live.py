"""The live benchmark's pure parts: which events it sends, and how it reads the worker's
metrics to know the worker has caught up (the run itself needs Kafka: `python -m
bench.live`)."""

from __future__ import annotations

from bench.council import Council
from bench.live import council_events, total


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
