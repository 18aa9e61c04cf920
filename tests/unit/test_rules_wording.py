"""Alert wording a social worker would accept, and the IDENTITY_REVIEW builder."""

from __future__ import annotations

from datetime import timedelta

from broker.language.review import review
from broker.models import RuleId
from broker.pipeline.records import OutRecord, records_for
from broker.rules import identity_review_alert
from broker.topics import ALERTS
from tests.unit.test_rules_support import (
    CONFIG,
    alerts,
    at,
    decision,
    feed,
    health,
    info_request,
    involvement,
    meeting,
    record,
    transition,
    vist,
    yot,
)

TUE = at("2026-05-19 10:00")


def every_rule() -> list[OutRecord]:
    """One sequence that raises every rule the rules module raises."""
    d = timedelta(days=1)
    police = vist(TUE, "RED", ["domestic_abuse", "child_criminal_exploitation"])
    events = [
        record(TUE - 5 * d, "child_in_need"),
        involvement(TUE - 4 * d, "camhs"),
        police,
        vist(TUE + d, "GREEN", ["domestic_abuse"], consent="refused"),
        yot(TUE + 2 * d, ["self_harm", "neglect"], impact_on_child=None),
        health(TUE + 3 * d, "mh_crisis", ["self_harm", "neglect", "missing"]),
        vist(TUE + 4 * d, "GREEN", ["missing"]),
        vist(TUE + 5 * d, "GREEN", ["missing"]),
        info_request(TUE + 6 * d, ["socialcare"]),
        decision(TUE + 6 * d, police.event_id, "strategy_discussion"),
        meeting(TUE + 20 * d, ["socialcare"]),
        transition(TUE + 21 * d, leave="2026-06-05", start="2026-06-08"),
    ]
    _, records = feed(events, until=TUE + 60 * d)
    return records


def test_every_rule_is_exercised_by_the_sample() -> None:
    raised = {a.rule_id for a in alerts(every_rule())}
    assert raised == set(RuleId) - {RuleId.IDENTITY_REVIEW}


def test_alerts_name_the_child_say_one_thing_and_never_blame_the_child() -> None:
    for alert in alerts(every_rule()):
        assert "Poppy" in alert.summary, alert.rule_id
        assert "\n" not in alert.summary
        assert alert.summary.endswith(".")
        assert alert.recommended_action.endswith(".")
        assert "\n" not in alert.recommended_action
        assert alert.explanation.startswith("- ")
        assert "identified by socialcare id" in alert.explanation
        for text in (alert.summary, alert.explanation, alert.recommended_action):
            assert review(text, CONFIG.language) == [], (alert.rule_id, text)


def test_alert_explanations_carry_the_enrichment() -> None:
    for alert in alerts(every_rule()):
        assert "is a child in need" in alert.explanation, alert.rule_id
        assert "Agencies involved" in alert.explanation


def test_alerts_carry_the_enrichment_as_data_agreeing_with_the_words() -> None:
    """The MASH page and consumers read the picture from `context`, not from prose."""
    for alert in alerts(every_rule()):
        context = alert.context
        assert context is not None, alert.rule_id
        assert context.status == "child_in_need"
        assert context.allocated_worker is not None
        assert f"allocated worker {context.allocated_worker.name}" in alert.explanation
        assert "socialcare" in context.agencies_involved
        counts = f"Risk events: {context.risk_events_90_days} in 90 days, "
        assert counts in alert.explanation, alert.rule_id


def test_identity_review_alert() -> None:
    police = vist(TUE)
    alert = identity_review_alert(
        police,
        child_id="child-unlinked",
        reason="the NHS number matches a known child whose date of birth differs",
        candidates=["child-b", "child-a"],
        now=TUE,
    )
    assert alert.rule_id == RuleId.IDENTITY_REVIEW
    assert alert.severity == "medium"
    assert alert.triggered_by == [police.event_id]
    assert alert.child.child_id == "child-unlinked"
    assert "child-a, child-b" in alert.explanation
    again = identity_review_alert(
        police, child_id="child-unlinked", reason="x", candidates=["child-a", "child-b"], now=TUE
    )
    assert again.alert_id == alert.alert_id
    [record_] = records_for([alert])
    assert record_.topic == ALERTS.name
    assert record_.key == "child-unlinked"
