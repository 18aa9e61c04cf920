"""The models of events.md and rules.md: what is accepted, what is refused, and how
the refusal reads to the sender's engineer."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from pydantic import TypeAdapter, ValidationError

from broker.errors import InvalidInput, Problem
from broker.models import (
    EVENT_CLASSES,
    Agency,
    ConsentStatus,
    Event,
    EventBase,
    PoliceVist,
    Rejected,
    Subject,
    YotReferral,
    parse_event,
    readable_envelope,
    to_json_dict,
)
from broker.models.problems import field_path
from tests.unit.strategies import events, outputs

EXAMPLES = sorted(Path("/work/shared/spec/examples").glob("*.json"))


def example_events() -> list[dict[str, Any]]:
    found = []
    for path in EXAMPLES:
        found += [e for e in json.loads(path.read_text())["events"] if "__raw__" not in e]
    return found


def vist(**changes: Any) -> dict[str, Any]:
    """A valid police.vist in JSON form, with `changes` applied (None deletes a field)."""
    data: dict[str, Any] = {
        "event_id": "pol-1",
        "event_type": "police.vist",
        "source": {"agency": "police", "system": "police-records"},
        "occurred_at": "2026-05-19T12:00:00+01:00",
        "recorded_at": "2026-05-19T12:30:00+01:00",
        "subject": {"given_name": "Tia", "family_name": "Lewis", "date_of_birth": "2011-02-14"},
        "vist_id": "V-1",
        "rag": "AMBER",
        "concerns": ["neglect"],
        "narrative": "Officers attended the address.",
        "out_of_hours": False,
    }
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def problems_of(data: Any) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        parse_event(data)
    return list(caught.value.problems)


# --- the public examples --------------------------------------------------------------


@pytest.mark.skipif(not EXAMPLES, reason="the shared spec examples are not on this machine")
def test_every_example_event_meant_to_be_valid_parses() -> None:
    for data in example_events():
        if data["event_id"] == "pol-91544-002":
            continue  # bad_input.json's first event: an invalid NHS number
        event = parse_event(data)
        assert event.event_id == data["event_id"]
        assert type(event) is EVENT_CLASSES[data["event_type"]]


@pytest.mark.skipif(not EXAMPLES, reason="the shared spec examples are not on this machine")
def test_bad_input_is_rejected_for_its_nhs_number_only() -> None:
    bad = next(e for e in example_events() if e["event_id"] == "pol-91544-002")
    assert problems_of(bad) == [
        Problem("subject.nhs_number", "is not a valid NHS number: the check digit does not match")
    ]


@pytest.mark.skipif(not EXAMPLES, reason="the shared spec examples are not on this machine")
def test_a_referral_without_impact_on_child_is_accepted_for_the_rule_to_flag() -> None:
    referral = next(e for e in example_events() if e["event_type"] == "yot.referral")
    assert "impact_on_child" not in referral
    event = parse_event(referral)
    assert isinstance(event, YotReferral)
    assert event.impact_on_child is None
    assert event.mental_health_impact is None


def test_a_referral_may_lack_every_field_a_rule_checks() -> None:
    event = parse_event(
        {
            **{k: v for k, v in vist().items() if k not in ("vist_id", "rag", "narrative")},
            "event_type": "yot.referral",
            "source": {"agency": "yot", "system": "yot"},
            "referral_id": "Y-1",
            "concerns": [],
            "risk_level": "high",
            "case_manager": {"name": "Jo Hart", "team": "Youth Justice"},
        }
    )
    assert isinstance(event, YotReferral)
    assert event.template_version is None
    assert event.concern_summary is None


# --- refusals: every problem, in plain words, naming fields not values -------------------


def test_every_problem_is_reported_at_once() -> None:
    data = vist(
        rag="PINK",
        concerns=[],
        out_of_hours="sometimes",
        vist_id=None,
        occurred_at="yesterday",
        subject={
            "given_name": "Tia",
            "family_name": " ",
            "date_of_birth": "2011-02-14",
            "nhs_number": "9434765910",
            "upn": "A801200005001",
        },
    )
    found = {p.field: p.message for p in problems_of(data)}
    assert found == {
        "vist_id": "is required",
        "rag": "must be one of 'RED', 'AMBER' or 'GREEN'",
        "concerns": "must have at least 1 item",
        "out_of_hours": "must be true or false",
        "occurred_at": (
            "must be a date and time in ISO 8601 with its UTC offset, "
            "e.g. 2026-03-02T17:40:00+00:00"
        ),
        "subject.family_name": "must not be empty",
        "subject.nhs_number": "is not a valid NHS number: the check digit does not match",
        "subject.upn": "is not a valid UPN: the check letter does not match",
    }


def test_list_items_are_named_by_index() -> None:
    [problem] = problems_of(vist(concerns=["neglect", "nonsense"]))
    assert problem.field == "concerns[1]"
    assert problem.message.startswith("must be one of 'domestic_abuse', 'missing', ")
    assert problem.message.endswith(" or 'other'")


def test_field_paths_are_dotted_with_indexes() -> None:
    assert field_path(("subject", "nhs_number")) == "subject.nhs_number"
    assert field_path(("concerns", 0)) == "concerns[0]"
    assert field_path(("a", 2, "b")) == "a[2].b"
    assert field_path(()) == "payload"


def test_a_naive_time_asks_for_an_offset() -> None:
    assert problems_of(vist(recorded_at="2026-05-19T12:30:00")) == [
        Problem("recorded_at", "must include its UTC offset, e.g. 2026-03-02T17:40:00+01:00 (BST)")
    ]


def test_an_unknown_event_type_is_one_clear_problem() -> None:
    found = problems_of(vist(event_type="police.vist.v2"))
    assert len(found) == 1
    assert found[0].field == "event_type"
    assert "is not an event type of the contract" in found[0].message
    assert "police.vist," in found[0].message


def test_an_unknown_event_type_still_reports_a_broken_envelope() -> None:
    found = problems_of({"event_type": "nonsense", "event_id": "x"})
    assert found[0].field == "event_type"
    assert {p.field for p in found[1:]} == {
        "source",
        "occurred_at",
        "recorded_at",
        "subject",
    }


def test_a_missing_event_type_is_required() -> None:
    assert problems_of(vist(event_type=None))[0] == Problem("event_type", "is required")


@pytest.mark.parametrize("data", [[], "text", 3, None])
def test_something_that_is_not_an_object_is_refused(data: Any) -> None:
    assert problems_of(data) == [Problem("payload", "must be a JSON object (one event a line)")]


def test_a_date_of_birth_after_the_day_recorded_is_refused() -> None:
    subject = {"given_name": "A", "family_name": "B", "date_of_birth": "2026-05-20"}
    assert problems_of(vist(subject=subject)) == [
        Problem("subject.date_of_birth", "is after the day the event was recorded (recorded_at)")
    ]


def test_the_day_recorded_is_taken_in_england() -> None:
    # 00:30 BST on 20 May is 23:30 UTC on 19 May: born on the 20th is still fine
    subject = {"given_name": "A", "family_name": "B", "date_of_birth": "2026-05-20"}
    event = parse_event(vist(subject=subject, recorded_at="2026-05-19T23:30:00+00:00"))
    assert event.subject.date_of_birth == date(2026, 5, 20)


def test_a_person_of_25_or_more_is_refused() -> None:
    aged_25 = {"given_name": "A", "family_name": "B", "date_of_birth": "2001-05-19"}
    assert problems_of(vist(subject=aged_25)) == [
        Problem("subject.date_of_birth", "makes the child 25 or older when the event was recorded")
    ]
    aged_24 = {**aged_25, "date_of_birth": "2001-05-20"}
    assert parse_event(vist(subject=aged_24)).subject.date_of_birth == date(2001, 5, 20)


def test_the_date_of_birth_is_checked_even_when_other_fields_are_wrong() -> None:
    subject = {"given_name": "A", "family_name": "B", "date_of_birth": "2030-01-01"}
    fields = {p.field for p in problems_of(vist(subject=subject, rag="PINK"))}
    assert fields == {"rag", "subject.date_of_birth"}


def test_refusals_never_carry_the_values() -> None:
    subject = {
        "given_name": "Tiaxyz",
        "family_name": "Lewisxyz",
        "date_of_birth": "2030-01-01",
        "nhs_number": "9434765910",
        "upn": "Q207000016049",
        "postcode": 12345,
    }
    with pytest.raises(InvalidInput) as caught:
        parse_event(vist(subject=subject, narrative=["secret narrative"]))
    said = str(caught.value) + repr(caught.value.problems)
    for value in ("Tiaxyz", "Lewisxyz", "2030-01-01", "9434765910", "Q207000016049", "12345"):
        assert value not in said
    assert "secret" not in said
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_pydantic_errors_hide_the_input_too() -> None:
    with pytest.raises(ValidationError) as caught:
        Subject.model_validate({"given_name": "Tiaxyz", "family_name": 3, "date_of_birth": "x"})
    assert "Tiaxyz" not in str(caught.value)


# --- cross-field checks of particular events ----------------------------------------------


def body(event_type: str, source_agency: str = "police", **fields: Any) -> dict[str, Any]:
    envelope = {
        k: v
        for k, v in vist().items()
        if k in ("event_id", "occurred_at", "recorded_at", "subject")
    }
    source = {"agency": source_agency, "system": "s"}
    return {**envelope, "event_type": event_type, "source": source, **fields}


def test_a_school_involvement_needs_its_school() -> None:
    data = body("agency.involvement", "school", agency="school", status="open", team="DSL")
    assert problems_of(data) == [
        Problem("school", "is required when agency is school (the school's urn and name)")
    ]
    parse_event({**data, "school": {"urn": "113500", "name": "Stoke Damerel Primary"}})
    parse_event({**data, "agency": "police"})


def test_a_socialcare_record_needs_the_socialcare_id() -> None:
    data = body(
        "socialcare.record", "socialcare", status="child_in_need", status_since="2026-05-11"
    )
    assert problems_of(data) == [
        Problem("subject.socialcare_id", "is required on a socialcare.record")
    ]
    data["subject"] = {**data["subject"], "socialcare_id": "SC-1"}
    assert parse_event(data).event_type == "socialcare.record"


def test_a_share_decision_names_who_to_share_with() -> None:
    data = body(
        "mash.decision",
        "mash",
        decision_id="D-1",
        refers_to="pol-1",
        decision="share",
        rationale="r",
        decided_by="Sam",
    )
    assert [p.field for p in problems_of(data)] == ["share_with"]
    parse_event({**data, "share_with": ["school"]})
    parse_event({**data, "decision": "no_share"})


def test_an_identity_decision_names_at_least_two_records_once_each() -> None:
    data = body(
        "mash.identity_decision",
        "mash",
        decision_id="I-1",
        decision="same_child",
        rationale="Same NHS number, date of birth keyed wrongly",
        decided_by="Sam Reed",
    )
    assert [p.field for p in problems_of({**data, "child_ids": ["c1"]})] == ["child_ids"]
    assert [p.field for p in problems_of({**data, "event_ids": ["e1", "e1"]})] == [
        "child_ids",
        "event_ids",
    ]
    mixed = parse_event({**data, "child_ids": ["c1"], "event_ids": ["e1"]})
    assert mixed.event_type == "mash.identity_decision"
    parse_event({**data, "decision": "different_children", "child_ids": ["c1", "c2"]})


# --- normalisation, defaults, forward compatibility ---------------------------------------


def test_identifiers_are_normalised_before_their_check() -> None:
    subject = Subject(
        given_name="A",
        family_name="B",
        date_of_birth=date(2011, 1, 1),
        nhs_number="943 476 5919",
        upn="b801200005001",
    )
    assert subject.nhs_number == "9434765919"
    assert subject.upn == "B801200005001"


def test_consent_defaults_to_not_sought() -> None:
    event = parse_event(vist())
    assert event.consent.status == ConsentStatus.not_sought
    assert event.consent.rationale is None


def test_unknown_fields_from_a_newer_publisher_are_ignored() -> None:
    data = vist(risk_notes="new in v2")
    data["subject"] = {**data["subject"], "ethnicity": "x"}
    event = parse_event(data)
    assert "risk_notes" not in to_json_dict(event)


def test_models_are_frozen() -> None:
    event = parse_event(vist())
    with pytest.raises(ValidationError):
        event.event_id = "other"  # type: ignore[misc]


def test_times_are_kept_to_the_millisecond() -> None:
    event = parse_event(vist(occurred_at="2026-05-19T12:00:00.123456+01:00"))
    assert event.occurred_at.microsecond == 123000


def test_the_json_form_writes_english_local_offsets_not_z() -> None:
    event = parse_event(vist(recorded_at="2026-05-19T11:30:00Z"))
    form = to_json_dict(event)
    assert form["recorded_at"] == "2026-05-19T12:30:00+01:00"
    winter = parse_event(
        vist(recorded_at="2026-12-01T11:30:00Z", occurred_at="2026-12-01T11:00:00Z")
    )
    assert to_json_dict(winter)["recorded_at"] == "2026-12-01T11:30:00+00:00"
    assert form["occurred_at"] == "2026-05-19T12:00:00+01:00"
    assert form["subject"]["date_of_birth"] == "2011-02-14"
    assert form["rag"] == "AMBER"


def test_the_event_union_is_discriminated_on_event_type() -> None:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    assert isinstance(adapter.validate_python(vist()), PoliceVist)


def test_every_event_class_declares_its_event_type() -> None:
    assert set(EVENT_CLASSES) == {
        "police.vist",
        "yot.referral",
        "school.transition",
        "health.update",
        "agency.involvement",
        "socialcare.record",
        "mash.info_request",
        "mash.decision",
        "mash.screening",
        "socialcare.strategy_meeting",
        "mash.identity_decision",
    }
    for event_type, cls in EVENT_CLASSES.items():
        assert issubclass(cls, EventBase)
        assert cls.model_fields["event_type"].default == event_type


@given(events())
def test_any_valid_event_survives_its_json_form(event: EventBase) -> None:
    text = json.dumps(to_json_dict(event))
    assert parse_event(json.loads(text)) == event


@given(outputs())
def test_any_output_survives_its_json_form(record: Any) -> None:
    text = json.dumps(to_json_dict(record))
    assert type(record).model_validate(json.loads(text)) == record


def test_rejected_keeps_the_original_bytes_as_base64_in_json() -> None:
    rejected = Rejected(
        rejection_id="r1",
        reasons=[],
        original=b"\xc3\x01garbage\x00",
        rejected_at=datetime(2026, 5, 19, tzinfo=UTC),
    )
    form = to_json_dict(rejected)
    assert form["original"] == "wwFnYXJiYWdlAA=="
    assert Rejected.model_validate(form) == rejected
    with pytest.raises(ValidationError):
        Rejected.model_validate({**form, "original": "not base64!"})


# --- the readable envelope of a rejected input --------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (vist(), ("pol-1", "police")),
        (json.dumps(vist()).encode(), ("pol-1", "police")),
        (json.dumps(vist()), ("pol-1", "police")),
        ({"event_id": "x", "source": {"agency": "martians"}}, ("x", None)),
        ({"event_id": 7, "source": {"agency": "yot"}}, (None, "yot")),
        ({"event_id": "  ", "source": "police"}, (None, None)),
        (b"\xc3\x01\x00garbage", (None, None)),
        (b"[1, 2]", (None, None)),
        ("{", (None, None)),
        (None, (None, None)),
        (42, (None, None)),
    ],
)
def test_readable_envelope_reads_what_it_can(data: Any, expected: tuple[Any, Any]) -> None:
    assert readable_envelope(data) == expected


def test_readable_envelope_gives_an_agency_of_the_contract() -> None:
    event_id, agency = readable_envelope(copy.deepcopy(vist()))
    assert agency in {a.value for a in Agency}
    assert event_id == "pol-1"
