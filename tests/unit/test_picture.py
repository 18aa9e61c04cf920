"""The child's picture: apply, the derived notions of events.md, enrichment, pruning."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.models import Agency, AllocatedWorker, SocialCareStatus
from broker.picture import (
    ChildPicture,
    agencies_involved,
    apply,
    current_school,
    enrichment,
    has_been_told,
    is_risk_event,
    is_significant_harm,
    prune,
    told_of,
)
from tests.unit.test_rules_support import (
    CONFIG,
    NEW_SCHOOL,
    SCHOOL,
    at,
    decision,
    feed,
    health,
    involvement,
    meeting,
    record,
    screening,
    subject,
    transition,
    vist,
    yot,
)

MON = at("2026-05-18 10:00")
TUE = at("2026-05-19 10:00")


def build(*events: object) -> ChildPicture:
    picture: ChildPicture | None = None
    for e in events:
        picture = apply(picture, e, child_id="c1")  # type: ignore[arg-type]
    assert picture is not None
    return picture


# -- derived notions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "risk", "sh"),
    [
        (lambda: vist(TUE, "GREEN", ["neglect"]), True, False),
        (lambda: vist(TUE, "RED", ["neglect"]), True, True),
        (lambda: vist(TUE, "AMBER", ["online_harm"]), True, False),
        (lambda: vist(TUE, "GREEN", ["child_sexual_exploitation"]), True, True),
        (lambda: health(TUE, "ed_attendance", []), False, False),
        (lambda: health(TUE, "mh_crisis", []), True, False),
        (lambda: health(TUE, "gp_concern", ["physical_abuse"]), True, True),
        (lambda: yot(TUE, []), False, False),
        (lambda: yot(TUE, [], risk_level="very_high"), False, True),
        (lambda: yot(TUE, ["sexual_abuse"]), True, True),
        (lambda: transition(TUE), False, False),
        (lambda: record(TUE), False, False),
    ],
)
def test_risk_and_significant_harm(event, risk: bool, sh: bool) -> None:  # type: ignore[no-untyped-def]
    e = event()
    assert is_risk_event(e) is risk
    assert is_significant_harm(e) is sh


def test_agencies_involved() -> None:
    picture = build(
        record(MON, "child_in_need"),
        involvement(MON, "camhs"),
        involvement(MON, "yot"),
        involvement(TUE, "yot", status="closed"),
    )
    assert agencies_involved(picture) == {Agency.socialcare, Agency.camhs}


def test_early_help_status_involves_early_help_not_social_care() -> None:
    assert agencies_involved(build(record(MON, "early_help"))) == {Agency.early_help}
    assert agencies_involved(build(record(MON, "closed"))) == set()


def test_the_current_school_is_the_latest_heard_of() -> None:
    moved = build(involvement(MON), transition(TUE))
    assert current_school(moved) is not None
    assert current_school(moved).urn == NEW_SCHOOL["urn"]  # type: ignore[union-attr]
    back = build(transition(MON), involvement(TUE))
    assert current_school(back).urn == SCHOOL["urn"]  # type: ignore[union-attr]
    assert Agency.school in agencies_involved(moved)


def test_has_been_told() -> None:
    police = vist(TUE)
    picture, _ = feed([record(MON), involvement(MON, "health"), police])
    assert picture is not None
    summary = picture.event(police.event_id)
    assert summary is not None
    assert told_of(picture, summary) == {Agency.police, Agency.mash, Agency.socialcare}
    assert not has_been_told(picture, summary, Agency.health)
    picture, _ = feed([decision(TUE, police.event_id, "share", ["health"])], picture=picture)
    assert picture is not None
    summary = picture.event(police.event_id)
    assert summary is not None
    assert has_been_told(picture, summary, Agency.health)


# -- apply --------------------------------------------------------------------------------


def test_apply_is_pure_and_applies_an_event_once() -> None:
    first = build(record(MON))
    event = vist(TUE)
    second = apply(first, event)
    assert first.events == []
    assert len(second.events) == 1
    assert apply(second, event).events == second.events


def test_identity_keeps_every_identifier_and_the_latest_names() -> None:
    picture = build(
        record(MON, who=subject(nhs_number="9434765919")),
        vist(TUE, who=subject(family_name="Evans-Reed", socialcare_id=None, upn=None)),
    )
    identity = picture.identity
    assert identity is not None
    assert identity.family_name == "Evans-Reed"
    assert identity.identifiers == {"nhs_number": "9434765919", "socialcare_id": "SC-9001"}


def test_the_latest_social_care_record_replaces_the_earlier() -> None:
    picture = build(record(MON, "child_in_need"), record(TUE, "child_protection_plan"))
    assert picture.socialcare is not None
    assert picture.socialcare.status == SocialCareStatus.child_protection_plan


def test_a_later_event_for_a_move_updates_it_and_keeps_the_transfer() -> None:
    done = at("2026-09-15 10:00")
    picture = build(
        transition(at("2026-09-14 09:00")),
        transition(done, cp_file_transferred_at=done.isoformat()),
        transition(at("2026-09-16 09:00"), receipt_confirmed_at=done.isoformat()),
    )
    move = picture.transitions["tr-1"]
    assert move.cp_file_transferred_at == done
    assert move.receipt_confirmed_at == done
    assert len(move.event_ids) == 3


def test_decisions_screenings_and_meetings_are_kept() -> None:
    police = vist(TUE)
    picture = build(
        police,
        decision(TUE, police.event_id),
        decision(TUE, "alert-x"),
        screening(TUE),
        meeting(TUE),
    )
    assert [d.target_event_id for d in picture.decisions] == [police.event_id, None]
    assert len(picture.screenings) == len(picture.meetings) == 1


# -- enrichment and pruning ---------------------------------------------------------------


def test_enrichment() -> None:
    picture = build(
        record(MON, previous_referrals=["2025-06-02"]),
        involvement(MON),
        vist(TUE - timedelta(days=200), "GREEN", ["neglect"]),
        vist(TUE, "GREEN", ["neglect", "missing"]),
    )
    context = enrichment(picture)
    assert context.status == "child_in_need"
    assert context.status_since == MON.date()
    assert context.allocated_worker == AllocatedWorker(name="Sam Reed", team="Plymouth Central CIN")
    assert context.agencies_involved == ["school", "socialcare"]
    assert context.current_school is not None
    assert context.current_school.model_dump() == SCHOOL
    assert context.previous_referrals == [date(2025, 6, 2)]
    assert (context.risk_events_90_days, context.risk_events_365_days) == (1, 2)
    assert [(c.concern, c.last_90_days, c.last_365_days) for c in context.concerns] == [
        ("missing", 1, 1),
        ("neglect", 1, 2),
    ]


def test_enrichment_of_a_child_nobody_knows() -> None:
    context = enrichment(build(vist(TUE, "GREEN", ["neglect"])))
    assert context.status is None
    assert context.allocated_worker is None
    assert context.agencies_involved == []
    assert context.current_school is None
    assert (context.risk_events_90_days, context.risk_events_365_days) == (1, 1)


def test_history_is_pruned_after_400_days_but_the_current_school_stays() -> None:
    old = at("2024-01-10 10:00")
    picture = build(transition(old, leave="2024-01-05", start="2024-01-08"), vist(old), vist(TUE))
    prune(picture, TUE, CONFIG.thresholds.history_days)
    assert [e.occurred_at for e in picture.events] == [TUE]
    assert current_school(picture) is not None


def test_pruning_keeps_what_a_running_deadline_needs() -> None:
    long_ago = TUE - timedelta(days=500)
    police = vist(long_ago, "AMBER", ["neglect"])
    picture, _ = feed([police])
    assert picture is not None
    assert picture.timers
    prune(picture, TUE, CONFIG.thresholds.history_days)
    assert picture.event(police.event_id) is not None


# -- serialisation (it lives in a changelog-backed table) ---------------------------------

EVENTS = [
    record,
    involvement,
    lambda t: involvement(t, "camhs"),
    lambda t: vist(t, "AMBER", ["domestic_abuse"]),
    lambda t: vist(t, "RED", ["child_criminal_exploitation"]),
    lambda t: health(t, "mh_crisis", ["self_harm"]),
    lambda t: yot(t, ["offending"], impact_on_child=None),
    transition,
    screening,
    meeting,
]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(range(len(EVENTS))), st.integers(0, 60 * 24 * 20)),
        min_size=1,
        max_size=8,
    )
)
def test_the_picture_round_trips_through_json(steps: list[tuple[int, int]]) -> None:
    events = [EVENTS[i](TUE + timedelta(minutes=m)) for i, m in sorted(steps, key=lambda s: s[1])]
    picture, records = feed(events)
    assert picture is not None
    again = ChildPicture.model_validate_json(picture.model_dump_json())
    assert again == picture
    # publish-once: no alert id twice, whatever the sequence
    ids = [r.value.alert_id for r in records if r.topic == "mash.alert.v1"]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids))


# -- merging two children a person decided are one ----------------------------------------


def test_merging_joins_histories_and_keeps_the_latest_facts() -> None:
    from broker.picture import merge_pictures

    a_events = [
        record(MON, "child_in_need"),
        vist(MON, concerns=["neglect"]),
        involvement(MON, "camhs"),
    ]
    b_events = [
        record(TUE, "child_protection_plan", who=subject(socialcare_id="SC-OTHER")),
        health(TUE, "gp_concern", ["neglect"], who=subject(nhs_number="9434765919")),
        involvement(TUE, "camhs", status="closed"),
        transition(TUE),
    ]
    a, b = build(*a_events), build(*b_events)
    merged = merge_pictures(a, b)
    assert merged.child_id == a.child_id
    assert [e.event_id for e in merged.events] == [
        a_events[1].event_id,
        b_events[1].event_id,
        b_events[3].event_id,
    ]
    assert merged.socialcare is not None
    assert merged.socialcare.status == SocialCareStatus.child_protection_plan
    assert merged.involvements["camhs"].status == "closed"
    assert current_school(merged) is not None
    assert merged.identity is not None
    assert merged.identity.identifiers["nhs_number"] == "9434765919"
    assert set(merged.processed) == set(a.processed) | set(b.processed)
    # a new event after the merge is the latest
    later = apply(merged, involvement(at("2026-05-20 10:00")))
    assert current_school(later).urn == SCHOOL["urn"]  # type: ignore[union-attr]
