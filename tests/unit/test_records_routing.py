"""The rules decide; the pipeline routes. `records_for` is the one place that turns
what was decided into records: topic and key for each, in the order decided."""

from __future__ import annotations

import itertools

from broker.models import Alert, Feedback
from broker.pipeline.records import records_for
from broker.policy.disclose import Disclosure
from broker.rules import process
from broker.topics import ALERTS, AUDIT_DISCLOSURE, feedback_topic, notification_topic
from tests.unit.test_rules_support import CHILD, CONFIG, at, feed, record, vist, yot


def test_rules_return_domain_outputs_never_records() -> None:
    picture, _ = feed([record(at("2026-05-11 09:00"), "child_protection_plan")])
    red = vist(at("2026-05-12 10:00"), rag="RED", concerns=["domestic_abuse"])
    outcome = process(
        picture, red, child_id=CHILD, link_note="", now=red.recorded_at, config=CONFIG
    )
    assert outcome.outputs
    assert all(isinstance(o, Alert | Disclosure | Feedback) for o in outcome.outputs)


def test_each_output_goes_to_its_topic_keyed_as_its_consumers_need() -> None:
    picture, _ = feed([record(at("2026-05-11 09:00"), "child_protection_plan")])
    red = vist(at("2026-05-12 10:00"), rag="RED", concerns=["domestic_abuse"])
    late = yot(at("2026-05-12 11:00"), impact_on_child=None)
    shared = process(picture, red, child_id=CHILD, link_note="", now=red.recorded_at, config=CONFIG)
    referral = process(
        shared.picture, late, child_id=CHILD, link_note="", now=late.recorded_at, config=CONFIG
    )
    outputs = [*shared.outputs, *referral.outputs]
    records = records_for(outputs)

    expected: list[tuple[str, str | None]] = []
    for output in outputs:
        if isinstance(output, Disclosure):
            agency = output.notification.to_agency.value
            expected += [(notification_topic(agency), CHILD), (AUDIT_DISCLOSURE.name, CHILD)]
        elif isinstance(output, Alert):
            expected.append((ALERTS.name, CHILD))
        else:
            expected.append((feedback_topic("yot"), late.event_id))
    assert [(r.topic, r.key) for r in records] == expected
    assert any(isinstance(o, Disclosure) for o in outputs)
    assert any(isinstance(o, Feedback) for o in outputs)
    # a notification is always followed by its own audit record
    for first, second in itertools.pairwise(records):
        if first.topic.endswith(".notification.v1"):
            assert second.topic == AUDIT_DISCLOSURE.name
            assert second.value.event_id == first.value.event_id  # type: ignore[attr-defined]
