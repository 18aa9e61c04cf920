"""Recording decisions: what is published, what closes, and every refusal (no rationale,
an unknown alert, a forged form, a decision beyond the role, a closed alert) answered
with a clear error and no decision published."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from broker.models import (
    Agency,
    DecisionKind,
    IdentityDecision,
    IdentityDecisionKind,
    MashDecision,
    RuleId,
)
from broker.web.http import WebContext
from tests.unit.web.world import NOW, FakePublisher, World

DECISIONS = "mash.decision.v1"
IDENTITY = "mash.identity-decision.v1"


def decisions_sent(publisher: FakePublisher) -> list[tuple[str, str]]:
    return [(t, k) for t, k, _ in publisher.sent if t in (DECISIONS, IDENTITY)]


def test_a_share_is_published_closes_the_alert_and_says_so(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    publisher: FakePublisher,
    ctx: WebContext,
) -> None:
    token = as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={
            "csrf_token": token,
            "decision": "share",
            "share_with": ["school"],
            "rationale": "School must support Lily.",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/queue"
    [made] = publisher.on(DECISIONS)
    assert isinstance(made, MashDecision)
    assert (made.decision, made.share_with, made.refers_to) == (
        DecisionKind.share,
        [Agency.school],
        alert.triggered_by[0],
    )
    assert (made.decided_by, made.rationale, made.recorded_at) == (
        "Sam Reed",
        "School must support Lily.",
        NOW,
    )
    assert made.subject.socialcare_id == "SC-9101"
    [(_topic, key)] = decisions_sent(publisher)
    assert key == made.event_id
    queue = client.get("/queue")
    assert "Decision recorded: Share for Lily Carter." in queue.text
    assert alert.alert_id not in queue.text
    assert ctx.views.closure(alert) is not None
    closed = client.get(f"/alerts/{alert.alert_id}").text
    assert "Closed" in closed
    assert "decided by Sam Reed" in closed
    assert "Record the MASH decision" not in closed


def test_every_decision_kind_a_practitioner_may_make(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    token = as_user("sam")
    kinds = [
        "no_share",
        "no_further_action",
        "early_help",
        "child_in_need_assessment",
        "strategy_discussion",
    ]
    alerts = [
        a
        for a in world.alerts
        if a.rule_id
        in (
            RuleId.UNSHARED_RISK,
            RuleId.DECISION_OVERDUE,
            RuleId.CUMULATIVE_CONCERNS,
            RuleId.REPEAT_MISSING,
            RuleId.REFERRAL_INCOMPLETE,
            RuleId.SCHOOL_FILE_NOT_TRANSFERRED,
        )
    ]
    used: set[str] = set()
    for kind in kinds:
        alert = next(a for a in alerts if a.triggered_by[0] not in used)
        used.add(alert.triggered_by[0])
        answer = client.post(
            f"/alerts/{alert.alert_id}/decision",
            data={"csrf_token": token, "decision": kind, "rationale": f"Decided: {kind}."},
        )
        assert answer.status_code == 303, (kind, answer.text)
    assert [d.decision.value for d in publisher.on(DECISIONS)] == kinds


def test_a_decision_without_rationale_is_refused_and_nothing_is_published(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    token = as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "no_share", "rationale": "  "},
    )
    assert answer.status_code == 400
    assert "There is a problem" in answer.text
    assert "Enter the rationale for the decision." in answer.text
    assert 'href="#field-rationale"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert re.search(r'value="no_share"[^>]* checked', answer.text)  # what was chosen is kept
    assert decisions_sent(publisher) == []


def test_a_share_without_agencies_is_refused(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    token = as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "share", "rationale": "Yes."},
    )
    assert answer.status_code == 400
    assert "Choose at least one agency to share with." in answer.text
    assert decisions_sent(publisher) == []


def test_an_unknown_decision_is_refused(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    token = as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "ignore", "rationale": "r"},
    )
    assert answer.status_code == 400
    assert "Choose a decision." in answer.text
    assert decisions_sent(publisher) == []


def test_a_decision_on_an_unknown_alert_is_404(
    client: TestClient, as_user: Callable[[str], str], publisher: FakePublisher
) -> None:
    token = as_user("sam")
    answer = client.post(
        "/alerts/alert-nope/decision",
        data={"csrf_token": token, "decision": "no_share", "rationale": "r"},
    )
    assert answer.status_code == 404
    assert "There is no alert with that id." in answer.text
    assert publisher.sent == []


def test_a_forged_form_is_refused_and_nothing_is_published(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    for token in ("forged", None):
        data = {"decision": "share", "share_with": "school", "rationale": "r"}
        if token:
            data["csrf_token"] = token
        answer = client.post(f"/alerts/{alert.alert_id}/decision", data=data)
        assert answer.status_code == 403
        assert "did not come from this page" in answer.text
    assert publisher.sent == []


def test_a_decision_needs_a_login(
    client: TestClient, world: World, publisher: FakePublisher
) -> None:
    alert = world.alert("UNSHARED_RISK", "Lily")
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision", data={"decision": "no_share", "rationale": "r"}
    )
    assert answer.status_code == 401
    assert publisher.sent == []


def test_section_47_is_a_manager_s_decision(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    alert = world.alert("REPEAT_MISSING", "Maya")
    token = as_user("sam")
    refused = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "section_47", "rationale": "Significant harm."},
    )
    assert refused.status_code == 403
    assert "Only a manager can start a section 47 enquiry." in refused.text
    assert decisions_sent(publisher) == []
    client.post("/logout", data={"csrf_token": token})
    token = as_user("priya")
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "section_47", "rationale": "Significant harm."},
    )
    assert answer.status_code == 303
    assert [(d.decision, d.decided_by) for d in publisher.on(DECISIONS)] == [
        (DecisionKind.section_47, "Priya Shah")
    ]


def test_sharing_when_consent_was_refused_is_a_manager_s_decision(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    alert = world.alert("CONSENT_DECISION_REQUIRED", "Amelia")
    token = as_user("sam")
    form = {
        "csrf_token": token,
        "decision": "share",
        "share_with": "camhs",
        "rationale": "Risk outweighs refusal.",
    }
    refused = client.post(f"/alerts/{alert.alert_id}/decision", data=form)
    assert refused.status_code == 403
    assert "Only a manager can decide to share when consent was refused." in refused.text
    assert decisions_sent(publisher) == []


def test_a_closed_alert_takes_no_second_decision(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    token = as_user("sam")
    alert = world.alert("CUMULATIVE_NEGLECT", "Noah")
    form = {"csrf_token": token, "decision": "early_help", "rationale": "Family support."}
    assert client.post(f"/alerts/{alert.alert_id}/decision", data=form).status_code == 303
    again = client.post(f"/alerts/{alert.alert_id}/decision", data=form)
    assert again.status_code == 409
    assert "already closed" in again.text
    assert len(publisher.on(DECISIONS)) == 1


def test_an_alert_whose_event_cannot_be_shared_refuses_a_share(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    token = as_user("sam")
    alert = world.alert("RELEVANT_AGENCY_OMITTED", "Kai")  # raised by an info request
    page = client.get(f"/alerts/{alert.alert_id}").text
    assert re.search(r'value="share"[^>]* disabled', page)
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={
            "csrf_token": token,
            "decision": "share",
            "share_with": "substance_misuse",
            "rationale": "r",
        },
    )
    assert answer.status_code == 400
    assert "cannot be shared from the page" in answer.text
    assert decisions_sent(publisher) == []


def test_an_identity_decision_by_a_manager(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    publisher: FakePublisher,
    ctx: WebContext,
) -> None:
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    token = as_user("priya")
    page = client.get(f"/alerts/{review.alert_id}").text
    candidate = re.search(r'name="child_ids" value="([^"]+)"', page)
    assert candidate
    answer = client.post(
        f"/alerts/{review.alert_id}/identity",
        data={
            "csrf_token": token,
            "identity_decision": "same_child",
            "child_ids": candidate.group(1),
            "rationale": "GP confirms the date of birth was mistyped.",
        },
    )
    assert answer.status_code == 303
    [made] = publisher.on(IDENTITY)
    assert isinstance(made, IdentityDecision)
    assert made.decision == IdentityDecisionKind.same_child
    assert (made.event_ids, made.child_ids, made.review_alert_id) == (
        [review.triggered_by[0]],
        [candidate.group(1)],
        review.alert_id,
    )
    assert ctx.views.closure(review) is not None


def test_identity_decisions_refused(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    token = as_user("sam")
    form = {
        "csrf_token": token,
        "identity_decision": "same_child",
        "child_ids": "child-x",
        "rationale": "r",
    }
    assert client.post(f"/alerts/{review.alert_id}/identity", data=form).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = as_user("priya")
    no_rationale = client.post(
        f"/alerts/{review.alert_id}/identity", data={**form, "csrf_token": token, "rationale": ""}
    )
    assert no_rationale.status_code == 400
    assert "Enter the rationale" in no_rationale.text
    not_review = world.alert("UNSHARED_RISK", "Lily")
    wrong = client.post(
        f"/alerts/{not_review.alert_id}/identity", data={**form, "csrf_token": token}
    )
    assert wrong.status_code == 400
    as_decision = client.post(
        f"/alerts/{review.alert_id}/decision",
        data={"csrf_token": token, "decision": "no_share", "rationale": "r"},
    )
    assert as_decision.status_code == 400
    assert "identity decision" in as_decision.text
    assert decisions_sent(publisher) == []


def test_kafka_away_when_deciding_records_nothing(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    publisher: FakePublisher,
    ctx: WebContext,
) -> None:
    token = as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    publisher.fail = True
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "no_share", "rationale": "r"},
    )
    assert answer.status_code == 503
    assert "nothing was shown or recorded" in answer.text
    assert ctx.views.closure(alert) is None
