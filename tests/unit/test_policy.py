"""The sharing policy: consent, minimisation, automatic shares, decisions, audit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.config.minimisation import MinimisationTable
from broker.models import Agency, ConsentStatus
from broker.policy.consent import may_share_automatically, recorded_consent, withheld
from broker.policy.minimisation import minimise
from tests.unit.strategies import text_characters
from tests.unit.test_rules_support import (
    CONFIG,
    alerts,
    at,
    audits,
    decision,
    feed,
    health,
    involvement,
    notifications,
    record,
    subject,
    transition,
    vist,
    yot,
)

MON = at("2026-05-18 10:00")
TUE = at("2026-05-19 10:00")

# -- consent ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "sh", "is_withheld", "recorded"),
    [
        ("given", False, False, "given"),
        ("not_sought", False, False, "not_sought"),
        ("refused", False, True, "dispensed"),
        ("refused", True, False, "dispensed"),
        ("given", True, False, "dispensed"),
        ("dispensed", False, False, "dispensed"),
    ],
)
def test_consent_policy(consent: str, sh: bool, is_withheld: bool, recorded: str) -> None:
    status = ConsentStatus(consent)
    assert withheld(status, sh) is is_withheld
    assert recorded_consent(status, sh) == recorded


def test_refused_consent_still_reaches_the_mash_and_social_care_and_encompass() -> None:
    refused = ConsentStatus.refused
    assert may_share_automatically(Agency.socialcare, refused, False)
    assert may_share_automatically(Agency.mash, refused, False)
    assert not may_share_automatically(Agency.school, refused, False)
    assert may_share_automatically(Agency.school, refused, False, statutory=True)
    assert may_share_automatically(Agency.school, refused, True)


# -- minimisation -------------------------------------------------------------------------

BODY: dict[str, Any] = {
    "event_id": "e1",
    "event_type": "police.vist",
    "occurred_at": "2026-05-19T10:00:00+01:00",
    "source": {"agency": "police", "system": "p"},
    "concerns": ["domestic_abuse"],
    "narrative": "private detail",
    "officer": None,
}


def test_the_full_event_for_social_care_drops_only_nulls() -> None:
    fields = minimise(BODY, "police.vist", Agency.socialcare, CONFIG.minimisation)
    assert fields == {k: v for k, v in BODY.items() if v is not None}


def test_a_school_gets_what_happened_and_when_not_the_narrative() -> None:
    fields = minimise(BODY, "police.vist", Agency.school, CONFIG.minimisation)
    assert set(fields) == {"occurred_at", "source", "concerns"}


def test_encompass_never_carries_the_narrative_whatever_the_table_says() -> None:
    table = MinimisationTable.model_validate(
        {
            "recipients": {
                a.value: {"events": {"police.vist": ["*"]}} for a in Agency if a != Agency.mash
            }
        }
    )
    fields = minimise(BODY, "police.vist", Agency.school, table, encompass=True)
    assert "narrative" not in fields
    assert "concerns" in fields


def test_an_unlisted_event_type_gets_the_recipients_default() -> None:
    body = {"event_id": "e", "occurred_at": "x", "source": {}, "status": "open"}
    fields = minimise(body, "agency.involvement", Agency.school, CONFIG.minimisation)
    assert set(fields) == {"occurred_at", "source"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"school": {"events": {"police.vist": ["narative"]}}}, "narative"),
        ({"school": {"events": {"police.visit": ["rag"]}}}, "police.visit"),
        ({"school": {"identifiers": ["nhs"]}}, "not an identifier"),
        ({"school": {"default": ["rag"]}}, "every event has"),
        ({"school": {"colour": "red"}}, "colour"),
    ],
)
def test_a_bad_table_is_refused_naming_what_is_wrong(change: dict, message: str) -> None:
    raw = json.loads(CONFIG.minimisation.model_dump_json())
    raw["recipients"].update(change)
    with pytest.raises(ValueError, match=message):
        MinimisationTable.model_validate(raw)


def test_a_table_must_cover_every_agency_but_the_mash() -> None:
    raw = json.loads(CONFIG.minimisation.model_dump_json())
    del raw["recipients"]["camhs"]
    with pytest.raises(ValueError, match="camhs"):
        MinimisationTable.model_validate(raw)


narratives = st.text(text_characters, min_size=12, max_size=80).filter(
    lambda t: t.strip() and '"' not in t
)
concern_sets = st.lists(
    st.sampled_from(["neglect", "sexual_abuse", "missing", "physical_abuse", "online_harm"]),
    max_size=3,
).map(lambda c: ["domestic_abuse", *c])


@settings(max_examples=30, deadline=None)
@given(
    narrative=narratives,
    concerns=concern_sets,
    rag=st.sampled_from(["RED", "AMBER", "GREEN"]),
    consent=st.sampled_from(["given", "refused", "not_sought"]),
)
def test_encompass_never_leaks_the_narrative(
    narrative: str, concerns: list[str], rag: str, consent: str
) -> None:
    police = vist(TUE, rag, concerns, narrative=f"NARRATIVE {narrative}", consent=consent)
    _, records = feed([involvement(MON), police])
    [note] = notifications(records, "school")
    text = note.model_dump_json()
    assert "NARRATIVE" not in text
    assert "narrative" not in note.fields
    for audit in audits(records):
        if audit.to_agency == Agency.school:
            assert "narrative" not in audit.fields


# -- automatic shares ---------------------------------------------------------------------


def shared_with(events: list) -> list[tuple[str, str]]:
    _, records = feed(events)
    return [(n.to_agency.value, n.event_id) for n in notifications(records)]


def test_a_risk_event_goes_to_social_care_for_a_child_it_works_with() -> None:
    for status in ("child_in_need", "child_protection_plan", "child_looked_after"):
        event = vist(TUE, "GREEN", ["neglect"])
        assert shared_with([record(MON, status), event]) == [("socialcare", event.event_id)]


def test_not_for_early_help_closed_or_unknown_children() -> None:
    for status in ("early_help", "closed", "none"):
        assert shared_with([record(MON, status), vist(TUE)]) == []
    assert shared_with([vist(TUE)]) == []


def test_cp_is_unscheduled_care_goes_to_social_care_even_without_concerns() -> None:
    for kind in ("ed_attendance", "mh_crisis", "admission"):
        event = health(TUE, kind, [])
        assert shared_with([record(MON, "child_protection_plan"), event]) == [
            ("socialcare", event.event_id)
        ]
    # not for a child in need, and not for other kinds
    assert shared_with([record(MON, "child_in_need"), health(TUE, "ed_attendance", [])]) == []
    assert shared_with([record(MON, "child_looked_after"), health(TUE, "gp_concern", [])]) == []


def test_cp_is_share_has_its_own_lawful_basis() -> None:
    _, records = feed([record(MON, "child_looked_after"), health(TUE, "admission", [])])
    [audit] = audits(records)
    assert audit.decided_by == "rule:health_update_to_social_care"
    assert "Child Protection - Information Sharing" in audit.lawful_basis


def test_a_school_move_of_a_child_known_to_social_care() -> None:
    move = transition(TUE)
    assert shared_with([record(MON, "child_in_need"), move]) == [("socialcare", move.event_id)]
    assert shared_with([record(MON, "early_help"), transition(TUE)]) == []


def test_every_notification_has_exactly_one_audit_record() -> None:
    events = [
        record(MON),
        involvement(MON),
        vist(TUE, "AMBER", ["domestic_abuse"]),
        health(TUE, "mh_crisis", ["self_harm"]),
    ]
    _, records = feed(events)
    notes, trail = notifications(records), audits(records)
    assert len(notes) == len(trail) == 3
    for note, audit in zip(notes, trail, strict=True):
        assert audit.event_id == note.event_id
        assert audit.to_agency == note.to_agency
        assert audit.lawful_basis == note.lawful_basis
        assert audit.consent == note.consent
        assert audit.disclosed_at == note_time(note.event_id, events)


def note_time(event_id: str, events: list) -> object:
    return next(e.recorded_at for e in events if e.event_id == event_id)


def test_a_recipient_gets_only_its_own_identifiers() -> None:
    who = subject(nhs_number="9434765919", upn=None, police_person_id="PP-1")
    _, records = feed([record(MON, who=who), vist(TUE, who=who)])
    [note] = notifications(records, "socialcare")
    assert note.child.identifiers == {"socialcare_id": "SC-9001"}
    assert note.fields["recipient"] == {
        "allocated_worker": "Sam Reed",
        "team": "Plymouth Central CIN",
    }


def test_ids_are_deterministic() -> None:
    events = [record(MON), involvement(MON), vist(TUE, "AMBER", ["domestic_abuse"])]
    _, first = feed(events)
    _, second = feed(events)
    assert [r.value.model_dump() for r in first] == [r.value.model_dump() for r in second]


# -- MASH share decisions -----------------------------------------------------------------


def test_a_share_decision_tells_each_agency_minimised() -> None:
    referral = yot(TUE, ["offending", "substance_misuse"])
    made = decision(
        at("2026-05-19 12:00"), referral.event_id, "share", ["school", "health", "mash"]
    )
    _, records = feed([referral, made])
    notes = notifications(records)
    assert [n.to_agency for n in notes] == [Agency.school, Agency.health]
    school = notes[0]
    assert "impact_on_child" not in school.fields
    assert "concern_summary" not in school.fields
    assert "MASH decided" in school.summary
    trail = audits(records)
    assert {a.decided_by for a in trail} == {"Alex Moss"}
    assert all("multi-agency safeguarding hub decision" in a.lawful_basis for a in trail)


def test_a_share_decision_on_an_alert_shares_its_event_and_skips_the_already_told() -> None:
    police = vist(TUE, "GREEN", ["emotional_abuse"])
    picture, records = feed([record(MON), involvement(MON), police])
    [alert] = alerts(records, "UNSHARED_RISK")
    made = decision(
        at("2026-05-19 12:00"), alert.alert_id, "share", ["school", "socialcare", "police"]
    )
    _, later = feed([made], picture=picture)
    notes = notifications(later)
    assert [(n.to_agency, n.event_id) for n in notes] == [(Agency.school, police.event_id)]
    assert notes[0].consent == ConsentStatus.not_sought


def test_a_share_decision_on_refused_consent_records_it_dispensed() -> None:
    police = vist(TUE, "GREEN", ["emotional_abuse"], consent="refused")
    made = decision(at("2026-05-19 12:00"), police.event_id, "share", ["school"])
    _, records = feed([involvement(MON), police, made])
    [note] = notifications(records)
    assert note.consent == ConsentStatus.dispensed
    [audit] = audits(records)
    assert audit.decided_by == "Alex Moss"


def test_other_decisions_share_nothing() -> None:
    police = vist(TUE, "AMBER", ["neglect"])
    made = decision(at("2026-05-19 12:00"), police.event_id, "no_share", ["school"])
    _, records = feed([involvement(MON), police, made])
    assert notifications(records, "school") == []
