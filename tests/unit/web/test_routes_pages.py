"""The queue (and its live stream), the alert and the child pages, each view audited."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from broker.models import AccessAudit, RuleId
from broker.web.http import WebContext
from broker.web.views import AlertSeen
from tests.unit.web.world import NOW, FakePublisher, World


def row_ids(html: str) -> list[str]:
    return re.findall(r'data-alert-id="([^"]+)"', html)


def test_the_queue_lists_open_alerts_by_deadline_overdue_in_red(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    ctx: WebContext,
    publisher: FakePublisher,
) -> None:
    as_user("sam")
    page = client.get("/queue")
    assert page.status_code == 200
    expected = [r.alert.alert_id for r in ctx.views.open_queue(NOW)]
    assert row_ids(page.text) == expected
    assert len(expected) >= 15
    assert 'class="overdue"' in page.text
    assert "Overdue by" in page.text
    assert "left</td>" in page.text
    assert "Plymouth Central CIN" in page.text
    assert "Identity review" in page.text
    for label in ("Rule", "Severity", "Team", "Overdue only"):
        assert f">{label}</label>" in page.text
    assert publisher.sent == []  # the queue shows no child's record: nothing to audit


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("rule=CUMULATIVE_NEGLECT", lambda a: a.rule_id == RuleId.CUMULATIVE_NEGLECT),
        ("severity=low", lambda a: a.severity == "low"),
        ("team=Plymouth+Central+CIN", lambda a: a.child.given_name == "Lily"),
        ("overdue=1", lambda a: a.due_by is not None and a.due_by < NOW),
    ],
)
def test_the_queue_filters(
    client: TestClient,
    as_user: Callable[[str], str],
    ctx: WebContext,
    query: str,
    check: Callable[..., bool],
) -> None:
    as_user("sam")
    ids = row_ids(client.get(f"/queue?{query}").text)
    assert ids
    assert all(check(ctx.views.alert(i)) for i in ids)
    assert row_ids(client.get(f"/queue/rows?{query}").text) == ids


def test_an_unknown_filter_value_is_a_clear_400(
    client: TestClient, as_user: Callable[[str], str]
) -> None:
    as_user("sam")
    answer = client.get("/queue?rule=NOT_A_RULE")
    assert answer.status_code == 400
    assert "There is no such rule to filter by." in answer.text
    assert client.get("/queue?severity=urgent").status_code == 400


def test_no_alert_matches(client: TestClient, as_user: Callable[[str], str]) -> None:
    as_user("sam")
    page = client.get("/queue?team=Nobody")
    assert row_ids(page.text) == []
    assert "No open alerts match these filters." in page.text


def test_the_live_stream_says_when_the_queue_changed(
    client: TestClient, as_user: Callable[[str], str], ctx: WebContext, world: World
) -> None:
    as_user("sam")
    ctx.views.apply(AlertSeen(world.alerts[0].model_copy(update={"alert_id": "a-new"})))
    with client.stream("GET", "/queue/stream") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        body = "".join(answer.iter_text())
    assert f"event: queue\ndata: {ctx.views.version}\n\n" in body
    assert "retry: 2000" in body


def audits(publisher: FakePublisher) -> list[AccessAudit]:
    return publisher.on("audit.access.v1")


def test_the_alert_page_shows_everything_and_audits_the_view(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    page = client.get(f"/alerts/{alert.alert_id}")
    assert page.status_code == 200
    text = page.text
    for part in (
        "Summary",
        "Why this alert",
        "Evidence",
        "How the child was linked",
        "chronology across agencies",
        "Record the MASH decision",
    ):
        assert part in text, part
    assert alert.summary.replace("'", "&#39;") in text
    assert "Opened its work (DSL, Stoke Damerel Primary)" in text  # the chronology, across agencies
    assert "Officers attended an argument" in text  # the MASH reads the record itself
    assert 'id="share-school"' in text
    assert "Will receive:" in text
    assert "Already told of this event" in text  # the police published it
    [seen] = audits(publisher)
    assert (seen.user, seen.user_name, seen.role, seen.what) == (
        "sam",
        "Sam Reed",
        "practitioner",
        "alert",
    )
    assert (seen.child_id, seen.alert_id, seen.accessed_at) == (
        alert.child.child_id,
        alert.alert_id,
        NOW,
    )
    assert [t for t, _, _ in publisher.sent] == ["audit.access.v1"]
    assert publisher.sent[0][1] == alert.child.child_id  # keyed by child


def test_the_alert_page_shows_what_the_agencies_knew_when_it_was_raised(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    known = alert.context
    assert known is not None
    text = client.get(f"/alerts/{alert.alert_id}").text
    assert "What the agencies knew when this was raised" in text
    assert f"{known.risk_events_90_days} in the last 90 days" in text
    assert f"{known.risk_events_365_days} in the last 365 days" in text
    if known.current_school:
        assert known.current_school.name in text
    for count in known.concerns:
        row = f"<td>{count.last_90_days}</td><td>{count.last_365_days}</td></tr>"
        assert row in text


def test_an_unknown_alert_is_404_and_nothing_is_published(
    client: TestClient, as_user: Callable[[str], str], publisher: FakePublisher
) -> None:
    as_user("sam")
    answer = client.get("/alerts/alert-does-not-exist")
    assert answer.status_code == 404
    assert "There is no alert with that id." in answer.text
    assert publisher.sent == []


def test_the_identity_review_page_shows_the_candidates_and_audits_them(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("priya")
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    page = client.get(f"/alerts/{review.alert_id}")
    assert page.status_code == 200
    assert "Record identity decision" in page.text
    assert "Record the MASH decision" not in page.text
    whats = [(a.what, a.child_id) for a in audits(publisher)]
    assert whats[0] == ("alert", review.child.child_id)
    assert [w for w, _ in whats[1:]] == ["identity_review"]


def test_a_practitioner_sees_the_identity_form_disabled(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("sam")
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    page = client.get(f"/alerts/{review.alert_id}").text
    assert "Only a manager can decide whether records are the same child." in page
    assert re.search(
        r'<button type="submit" class="button" disabled>Record identity decision', page
    )


def test_the_child_page_shows_the_record_and_audits_it(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("sam")
    child_id = world.alert("UNSHARED_RISK", "Maya").child.child_id
    page = client.get(f"/children/{child_id}")
    assert page.status_code == 200
    text = page.text
    for part in (
        "Maya Thompson",
        "Identity",
        "NHS number",
        "Social care",
        "Agencies involved",
        "Plymstock School",
        "Chronology across agencies",
        "Disclosures about Maya Thompson",
        "Mental health crisis at Derriford ED",
    ):
        assert part in text, part
    [seen] = audits(publisher)
    assert (seen.what, seen.child_id, seen.alert_id) == ("child", child_id, None)


def test_the_child_page_lists_disclosures(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("sam")
    disclosure = world.disclosures[0]
    text = client.get(f"/children/{disclosure.child_id}").text
    assert "Automatic (school transition to social care)" in text
    assert "Children&#39;s social care" in text


def test_an_unknown_child_is_404_and_nothing_is_published(
    client: TestClient, as_user: Callable[[str], str], publisher: FakePublisher
) -> None:
    as_user("sam")
    assert client.get("/children/child-nobody").status_code == 404
    assert publisher.sent == []


def test_kafka_away_means_the_record_is_not_shown(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("sam")
    publisher.fail = True
    alert = world.alert("UNSHARED_RISK", "Lily")
    for path in (f"/alerts/{alert.alert_id}", f"/children/{alert.child.child_id}"):
        answer = client.get(path)
        assert answer.status_code == 503
        assert "could not reach Kafka" in answer.text
        assert alert.summary not in answer.text
