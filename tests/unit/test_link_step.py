"""The link step with the identity matcher: link, hold for review, a person decides."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from broker.identity import IdentityIndex
from broker.models.events import Event, parse_event
from broker.pipeline.steps import link_step
from broker.topics import ALERTS, LINKED
from tests.unit.test_ingest import GOOD

NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)


def event(event_id: str, **subject: Any) -> Event:
    data = deepcopy(GOOD)
    data["event_id"] = event_id
    data["subject"].update(subject)
    return parse_event(data)


def decision(decision_id: str, kind: str, **ids: list[str]) -> Event:
    data = {
        **{k: GOOD[k] for k in ("source", "occurred_at", "recorded_at", "subject")},
        "event_id": decision_id,
        "event_type": "mash.identity_decision",
        "source": {"agency": "mash", "system": "mash-page"},
        "decision_id": decision_id,
        "decision": kind,
        "rationale": "Checked with the GP practice: the date of birth was mistyped.",
        "decided_by": "Priya Shah",
        **ids,
    }
    return parse_event(data)


def run(index: IdentityIndex, held: dict[str, str], *events: Event) -> list[Any]:
    seen: dict[str, str] = {}
    steps = []
    for e in events:
        step = link_step(e, b"", seen, NOW, index=index, held=held)
        steps.append(step)
    return steps


def test_a_contradicting_nhs_number_is_held_for_review_not_linked() -> None:
    index, held = IdentityIndex(), {}
    first, second = run(
        index,
        held,
        event("h-1", nhs_number="9434765919"),
        event("h-2", nhs_number="9434765919", date_of_birth="2014-09-30"),
    )
    assert first.records[0].topic == LINKED.name
    assert [r.topic for r in second.records] == [ALERTS.name]
    alert = second.records[0].value.model_dump(mode="json")
    assert alert["rule_id"] == "IDENTITY_REVIEW"
    assert alert["triggered_by"] == ["h-2"]
    assert "h-2" in held


def test_same_child_decision_releases_the_held_event_to_that_child() -> None:
    index, held = IdentityIndex(), {}
    first, _ = run(
        index,
        held,
        event("h-1", nhs_number="9434765919"),
        event("h-2", nhs_number="9434765919", date_of_birth="2014-09-30"),
    )
    child = first.records[0].key
    [step] = run(index, held, decision("d-1", "same_child", child_ids=[child], event_ids=["h-2"]))
    [record] = step.records
    assert (record.topic, record.key, record.value.event.event_id) == (LINKED.name, child, "h-2")
    assert "Priya Shah" in step.linked[0].note
    assert held == {}


def test_different_children_decision_makes_a_new_child_kept_apart_for_good() -> None:
    index, held = IdentityIndex(), {}
    first, _ = run(
        index,
        held,
        event("h-1", nhs_number="9434765919"),
        event("h-2", nhs_number="9434765919", date_of_birth="2014-09-30"),
    )
    child = first.records[0].key
    [step] = run(
        index, held, decision("d-2", "different_children", child_ids=[child], event_ids=["h-2"])
    )
    [record] = step.records
    assert record.key != child
    assert index.kept_apart(child, record.key)


def test_same_child_decision_merges_two_known_children() -> None:
    index, held = IdentityIndex(), {}
    a, b = run(index, held, event("p-1"), event("p-2", given_name="Grace"))
    child_a, child_b = a.records[0].key, b.records[0].key
    assert child_a != child_b
    run(index, held, decision("d-3", "same_child", child_ids=[child_a, child_b]))
    assert index.resolve(child_b) == child_a


def test_a_twin_named_one_letter_apart_is_held_and_a_person_keeps_them_apart() -> None:
    index, held = IdentityIndex(), {}
    tia, mia = run(index, held, event("p-1"), event("p-2", given_name="Mia"))
    child = tia.records[0].key
    [alert_record] = mia.records
    alert = alert_record.value.model_dump(mode="json")
    assert alert["rule_id"] == "IDENTITY_REVIEW"
    assert "given names differ by one letter" in alert["explanation"]
    assert "p-2" in held
    [step] = run(
        index, held, decision("d-4", "different_children", child_ids=[child], event_ids=["p-2"])
    )
    twin = step.records[0].key
    assert twin != child
    # from now on each twin's records go to their own child, with no review
    later_tia, later_mia = run(index, held, event("p-3"), event("p-4", given_name="Mia"))
    assert later_tia.records[0].key == child
    assert later_mia.records[0].key == twin


def test_a_short_name_mistyped_is_held_and_a_person_joins_it_to_the_child() -> None:
    index, held = IdentityIndex(), {}
    tia, typo = run(index, held, event("p-1"), event("p-2", given_name="Tua"))
    child = tia.records[0].key
    assert typo.records[0].value.model_dump(mode="json")["rule_id"] == "IDENTITY_REVIEW"
    [step] = run(index, held, decision("d-5", "same_child", child_ids=[child], event_ids=["p-2"]))
    assert step.records[0].key == child
    [again] = run(index, held, event("p-3", given_name="Tua"))  # now a known alias
    assert again.records[0].key == child
