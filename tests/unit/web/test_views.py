"""The page's views, pure: what is open, what closes it (in any order), the queue's
order and filters, teams, merged children, disclosures."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from broker.models import (
    Agency,
    Alert,
    AuditDisclosure,
    ChildRef,
    ConsentStatus,
    DecisionKind,
    IdentityDecision,
    IdentityDecisionKind,
    MashDecision,
    RuleId,
    Severity,
    Source,
    Subject,
)
from broker.picture.model import ChildPicture
from broker.web.views import (
    DUTY_TEAM,
    AlertSeen,
    DecisionSeen,
    DisclosureSeen,
    IdentityDecisionSeen,
    MashViews,
    PictureSeen,
    QueueFilter,
    ViewRecord,
)
from tests.unit.web.world import NOW, World

SUBJECT = Subject(given_name="Ann", family_name="Lee", date_of_birth=date(2012, 1, 2))


def alert(
    alert_id: str,
    event_id: str,
    *,
    rule: RuleId = RuleId.UNSHARED_RISK,
    severity: Severity = Severity.medium,
    due: datetime | None = None,
    child_id: str = "child-1",
    raised: datetime = NOW - timedelta(hours=1),
) -> Alert:
    return Alert(
        alert_id=alert_id,
        rule_id=rule,
        severity=severity,
        child=ChildRef(
            child_id=child_id, given_name="Ann", family_name="Lee", date_of_birth=date(2012, 1, 2)
        ),
        triggered_by=[event_id],
        summary="s",
        explanation="e",
        recommended_action="r",
        due_by=due,
        raised_at=raised,
    )


def decision(
    event_id: str, refers_to: str, at: datetime = NOW, by: str = "Priya Shah"
) -> MashDecision:
    return MashDecision(
        event_id=event_id,
        source=Source(agency=Agency.mash, system="elsewhere"),
        occurred_at=at,
        recorded_at=at,
        subject=SUBJECT,
        decision_id=f"d-{event_id}",
        refers_to=refers_to,
        decision=DecisionKind.no_further_action,
        rationale="Known and managed.",
        decided_by=by,
    )


def identity(
    event_id: str, *, events: list[str], children: list[str], review: str | None = None
) -> IdentityDecision:
    return IdentityDecision(
        event_id=event_id,
        source=Source(agency=Agency.mash, system="mash-page"),
        occurred_at=NOW,
        recorded_at=NOW,
        subject=SUBJECT,
        decision_id=f"i-{event_id}",
        decision=IdentityDecisionKind.same_child,
        child_ids=children,
        event_ids=events,
        review_alert_id=review,
        rationale="Same NHS number; the date of birth was mistyped.",
        decided_by="Priya Shah",
    )


def views_of(*records: ViewRecord) -> MashViews:
    views = MashViews()
    for record in records:
        views.apply(record)
    return views


def open_ids(views: MashViews) -> list[str]:
    return [row.alert.alert_id for row in views.open_queue(NOW)]


def test_an_alert_is_open_until_a_decision_names_it_or_its_event() -> None:
    a = alert("a1", "ev1")
    assert open_ids(views_of(AlertSeen(a))) == ["a1"]
    assert open_ids(views_of(AlertSeen(a), DecisionSeen(decision("d1", "a1")))) == []
    assert open_ids(views_of(AlertSeen(a), DecisionSeen(decision("d1", "ev1")))) == []
    assert open_ids(views_of(AlertSeen(a), DecisionSeen(decision("d1", "other")))) == ["a1"]


def test_a_decision_on_one_alert_closes_every_alert_of_that_event() -> None:
    unshared, overdue = alert("a1", "ev1"), alert("a2", "ev1", rule=RuleId.DECISION_OVERDUE)
    elsewhere = alert("a3", "ev2")
    views = views_of(AlertSeen(unshared), AlertSeen(overdue), AlertSeen(elsewhere))
    assert views.closed_with(unshared) == [overdue]
    views.apply(DecisionSeen(decision("d1", "a2")))
    assert open_ids(views) == ["a3"]


def test_closing_does_not_depend_on_the_order_the_topics_are_read() -> None:
    records = [
        AlertSeen(alert("a1", "ev1")),
        AlertSeen(alert("a2", "ev1")),
        DecisionSeen(decision("d1", "a1")),
    ]
    for order in itertools.permutations(records):
        assert open_ids(views_of(*order)) == []


def test_the_closure_names_the_first_decision_whoever_recorded_it() -> None:
    a = alert("a1", "ev1")
    later = decision("d2", "ev1", at=NOW, by="Sam Reed")
    first = decision("d1", "a1", at=NOW - timedelta(minutes=5))
    views = views_of(AlertSeen(a), DecisionSeen(later), DecisionSeen(first))
    closure = views.closure(a)
    assert closure is not None
    assert (closure.decided_by, closure.event_id, closure.system) == (
        "Priya Shah",
        "d1",
        "elsewhere",
    )


def test_an_identity_review_closes_only_by_an_identity_decision_naming_it() -> None:
    review = alert("r1", "held-ev", rule=RuleId.IDENTITY_REVIEW, child_id="unlinked-x")
    views = views_of(AlertSeen(review), DecisionSeen(decision("d1", "held-ev")))
    assert open_ids(views) == ["r1"]
    views.apply(IdentityDecisionSeen(identity("i1", events=["other"], children=["c1", "c2"])))
    assert open_ids(views) == ["r1"]
    views.apply(IdentityDecisionSeen(identity("i2", events=["held-ev"], children=["c1"])))
    assert open_ids(views) == []
    by_alert = views_of(
        AlertSeen(review),
        IdentityDecisionSeen(identity("i3", events=["e9"], children=["c1"], review="r1")),
    )
    assert open_ids(by_alert) == []


def test_the_queue_is_by_deadline_then_severity_those_without_a_deadline_last() -> None:
    views = views_of(
        AlertSeen(alert("none-high", "e1", severity=Severity.high)),
        AlertSeen(alert("late", "e2", due=NOW + timedelta(hours=5))),
        AlertSeen(alert("soon-low", "e3", severity=Severity.low, due=NOW + timedelta(hours=1))),
        AlertSeen(alert("soon-high", "e4", severity=Severity.high, due=NOW + timedelta(hours=1))),
        AlertSeen(alert("overdue", "e5", due=NOW - timedelta(days=2))),
        AlertSeen(alert("none-low", "e6", severity=Severity.low)),
    )
    assert open_ids(views) == ["overdue", "soon-high", "soon-low", "late", "none-high", "none-low"]
    rows = views.open_queue(NOW)
    assert rows[0].overdue
    assert rows[0].time_left == timedelta(days=-2)
    assert not rows[1].overdue
    assert rows[-1].time_left is None
    assert not rows[-1].overdue


def test_filters_by_rule_severity_team_and_overdue(world: World) -> None:
    views = world.views()
    everything = views.open_queue(NOW)
    assert len(everything) >= 15
    neglect = views.open_queue(NOW, QueueFilter(rule=RuleId.CUMULATIVE_NEGLECT))
    assert {r.alert.rule_id for r in neglect} == {RuleId.CUMULATIVE_NEGLECT}
    high = views.open_queue(NOW, QueueFilter(severity=Severity.high))
    assert high
    assert all(r.alert.severity == Severity.high for r in high)
    overdue = views.open_queue(NOW, QueueFilter(overdue_only=True))
    assert overdue
    assert all(r.overdue for r in overdue)
    assert len(overdue) < len(everything)
    team = views.open_queue(NOW, QueueFilter(team="Plymouth Central CIN"))
    assert team
    assert {r.alert.child.given_name for r in team} == {"Lily"}
    rules, teams = views.facets(NOW)
    assert RuleId.IDENTITY_REVIEW in rules
    assert "Plymouth Central CIN" in teams
    assert DUTY_TEAM in teams


def test_the_team_is_the_allocated_social_care_team_else_the_duty_team(world: World) -> None:
    views = world.views()
    assert views.team(world.alert("UNSHARED_RISK", "Lily")) == "Plymouth Central CIN"
    assert views.team(world.alert("CUMULATIVE_NEGLECT", "Noah")) == DUTY_TEAM


def test_a_tombstone_marks_a_child_merged_away() -> None:
    picture = ChildPicture(child_id="c1")
    views = views_of(PictureSeen("c1", picture))
    assert views.picture("c1") == picture
    assert not views.merged_away("c1")
    views.apply(PictureSeen("c1", None))
    assert views.picture("c1") is None
    assert views.merged_away("c1")
    assert views.known_child("c1")
    views.apply(IdentityDecisionSeen(identity("i1", events=[], children=["c2", "c1"])))
    assert views.decided_with("c1") == ["c2"]


def test_disclosures_are_kept_once_each_latest_first() -> None:
    def disclosure(disclosure_id: str, minutes: int) -> AuditDisclosure:
        return AuditDisclosure(
            disclosure_id=disclosure_id,
            event_id="ev1",
            child_id="c1",
            to_agency=Agency.school,
            fields=["child.given_name"],
            lawful_basis="basis",
            consent=ConsentStatus.not_sought,
            decided_by="Priya Shah",
            disclosed_at=datetime(2026, 11, 25, 10, minutes, tzinfo=UTC),
        )

    views = MashViews()
    assert views.apply(DisclosureSeen(disclosure("x", 1)))
    assert not views.apply(DisclosureSeen(disclosure("x", 1)))
    views.apply(DisclosureSeen(disclosure("y", 5)))
    assert [d.disclosure_id for d in views.disclosures("c1")] == ["y", "x"]
    assert views.disclosures("nobody") == []


def test_the_version_moves_only_when_something_changed() -> None:
    views = MashViews()
    a = alert("a1", "ev1")
    assert views.apply(AlertSeen(a))
    assert views.version == 1
    assert not views.apply(AlertSeen(a))
    assert views.version == 1
    assert views.apply(DecisionSeen(decision("d1", "a1")))
    assert views.version == 2
    assert not views.apply(DecisionSeen(decision("d1", "a1")))
    assert views.version == 2


@pytest.mark.parametrize("given_name", ["Lily", "Maya"])
def test_alerts_for_a_child_latest_first(world: World, given_name: str) -> None:
    views = world.views()
    child_id = world.alert("UNSHARED_RISK", given_name).child.child_id
    found = views.alerts_for_child(child_id)
    assert found
    assert all(a.child.child_id == child_id for a in found)
    assert [a.raised_at for a in found] == sorted((a.raised_at for a in found), reverse=True)
