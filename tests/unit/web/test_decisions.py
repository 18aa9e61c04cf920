"""From the forms to the events: checked input, the decision event the broker acts on
(run through the broker's own engine here), identity decisions, and what a share would
send to each agency (the broker's own policy)."""

from __future__ import annotations

import json

import pytest

from broker.models import (
    Agency,
    AuditDisclosure,
    DecisionKind,
    IdentityDecisionKind,
    Notification,
    RuleId,
)
from broker.web.decisions import (
    DecisionInput,
    FormErrors,
    IdentityInput,
    build_decision,
    build_identity_decision,
    candidates,
    read_decision,
    read_identity,
    share_previews,
    subject_for,
)
from tests.unit.web.world import CONFIG, NOW, World, demo_world


def fields_of(errors: FormErrors) -> set[str]:
    return {p.field for p in errors.problems}


def test_a_decision_needs_a_kind_and_a_rationale() -> None:
    with pytest.raises(FormErrors) as caught:
        read_decision({"decision": "", "rationale": "   "}, [])
    assert fields_of(caught.value) == {"decision", "rationale"}
    messages = [p.message for p in caught.value.problems]
    assert "Choose a decision." in messages
    assert "Enter the rationale for the decision." in messages


@pytest.mark.parametrize(
    ("form", "agencies", "field"),
    [
        ({"decision": "share", "rationale": "r"}, [], "share_with"),
        ({"decision": "share", "rationale": "r"}, ["mash"], "share_with"),
        ({"decision": "share", "rationale": "r"}, ["the press"], "share_with"),
        ({"decision": "burn_the_file", "rationale": "r"}, [], "decision"),
        ({"decision": "no_share", "rationale": "x" * 4001}, [], "rationale"),
    ],
)
def test_bad_decisions_are_refused_naming_the_field(
    form: dict[str, str], agencies: list[str], field: str
) -> None:
    with pytest.raises(FormErrors) as caught:
        read_decision(form, agencies)
    assert fields_of(caught.value) == {field}


def test_agencies_are_kept_only_for_a_share_each_once() -> None:
    shared = read_decision(
        {"decision": "share", "rationale": " Needed. "}, ["school", "school", "health"]
    )
    assert shared == DecisionInput(DecisionKind.share, (Agency.school, Agency.health), "Needed.")
    other = read_decision({"decision": "early_help", "rationale": "Family agrees."}, ["school"])
    assert other.share_with == ()


def test_the_decision_refers_to_the_event_and_names_the_child_as_the_broker_knows_them(
    world: World,
) -> None:
    alert = world.alert("UNSHARED_RISK", "Lily")
    picture = world.pictures[alert.child.child_id]
    made = build_decision(
        alert,
        picture,
        DecisionInput(DecisionKind.share, (Agency.school,), "Proportionate."),
        "Priya Shah",
        NOW,
    )
    assert made.refers_to == alert.triggered_by[0]
    assert (made.source.agency, made.source.system) == (Agency.mash, "mash-page")
    assert made.decided_by == "Priya Shah"
    assert made.recorded_at == NOW
    assert made.subject.socialcare_id == "SC-9101"
    assert made.subject.nhs_number
    assert made.subject.upn
    assert made.event_id != made.decision_id


def test_the_subject_falls_back_to_the_alert_s_child_without_a_picture(world: World) -> None:
    alert = world.alert("UNSHARED_RISK", "Lily")
    subject = subject_for(alert, None)
    assert (subject.given_name, subject.socialcare_id, subject.nhs_number) == (
        "Lily",
        "SC-9101",
        None,
    )


def test_the_broker_acts_on_a_share_decided_on_the_page() -> None:
    """Run through the broker's own engine, the page's decision links to the same child,
    sends the school the minimised event, audits it as the person's, and closes the
    decision deadline."""
    fresh = demo_world()
    alert = fresh.alert("UNSHARED_RISK", "Noah")  # an AMBER notice health was not told of
    picture = fresh.pictures[alert.child.child_id]
    summary = picture.event(alert.triggered_by[0])
    assert summary is not None
    preview = {p.agency: p for p in share_previews(picture, summary, CONFIG, NOW)}
    made = build_decision(
        alert,
        picture,
        DecisionInput(DecisionKind.share, (Agency.health,), "Health visitor must know."),
        "Priya Shah",
        NOW,
    )
    out = list(fresh.engine.submit_json(json.dumps(made.model_dump(mode="json")).encode()))
    notes = [r.value for r in out if isinstance(r.value, Notification)]
    audits = [r.value for r in out if isinstance(r.value, AuditDisclosure)]
    assert [n.to_agency for n in notes] == [Agency.health]
    assert "narrative" not in notes[0].fields
    assert [a.decided_by for a in audits] == ["Priya Shah"]
    assert audits[0].child_id == alert.child.child_id
    assert tuple(audits[0].fields) == preview[Agency.health].fields  # the page showed exactly this
    later = list(fresh.engine.fire_timers(before=NOW.replace(year=2027), inclusive=True))
    assert not [
        r
        for r in later
        if getattr(r.value, "rule_id", None) == RuleId.DECISION_OVERDUE
        and alert.triggered_by[0] in r.value.triggered_by
    ]


def test_previews_follow_the_minimisation_table_and_who_was_told(world: World) -> None:
    alert = world.alert("UNSHARED_RISK", "Lily")
    picture = world.pictures[alert.child.child_id]
    summary = picture.event(alert.triggered_by[0])
    assert summary is not None
    previews = {p.agency: p for p in share_previews(picture, summary, CONFIG, NOW)}
    assert Agency.mash not in previews
    assert previews[Agency.police].already_told  # it published the notice
    assert previews[Agency.socialcare].already_told  # told automatically: Lily is a child in need
    school = previews[Agency.school]
    assert "narrative" not in school.fields
    assert "concerns" in school.fields
    assert "child.upn" in school.fields
    assert "child.nhs_number" not in school.fields
    assert set(CONFIG.minimisation.row(Agency.school).fields_for("police.vist")) >= {
        f for f in school.fields if not f.startswith("child.")
    }
    assert school.lawful_basis == CONFIG.lawful_bases["mash_decision"]
    assert "MASH decided" in school.summary


def test_identity_input_and_the_identity_decision(world: World) -> None:
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    found = candidates(review)
    assert len(found) == 1
    assert found[0] in world.pictures
    given = read_identity(
        {
            "identity_decision": "same_child",
            "rationale": "GP confirms the date of birth was mistyped.",
        },
        found,
    )
    assert given == IdentityInput(
        IdentityDecisionKind.same_child, tuple(found), "GP confirms the date of birth was mistyped."
    )
    made = build_identity_decision(review, given, "Priya Shah", NOW)
    assert made.event_ids == [review.triggered_by[0]]
    assert made.child_ids == found
    assert made.review_alert_id == review.alert_id
    assert made.decided_by == "Priya Shah"


@pytest.mark.parametrize(
    ("form", "chosen", "field"),
    [
        ({"identity_decision": "maybe", "rationale": "r"}, ["c1"], "identity_decision"),
        ({"identity_decision": "same_child", "rationale": "r"}, [], "child_ids"),
        (
            {"identity_decision": "same_child", "rationale": "r", "other_child_id": "<script>"},
            [],
            "child_ids",
        ),
        ({"identity_decision": "same_child", "rationale": ""}, ["c1"], "rationale"),
    ],
)
def test_bad_identity_input_is_refused(form: dict[str, str], chosen: list[str], field: str) -> None:
    with pytest.raises(FormErrors) as caught:
        read_identity(form, chosen)
    assert field in fields_of(caught.value)


def test_candidates_read_from_the_alert_s_explanation(world: World) -> None:
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    none = review.model_copy(
        update={"explanation": "- Possible matches (broker child ids): none strong enough to link."}
    )
    assert candidates(none) == []
    two = review.model_copy(
        update={"explanation": "x\n- Possible matches (broker child ids): child-a, child-b.\n- y"}
    )
    assert candidates(two) == ["child-a", "child-b"]
