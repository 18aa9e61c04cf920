"""The MASH page in a real browser, on the real Kafka, fed by records on its topics.

The queue here is fed by records published straight to the topics the page reads
(alerts, the worker's picture changelog, the disclosure audit), made by the broker's own
engine from the demo's events: so the page is tested end to end without depending on
the worker's timing. `test_worker_flow.py` runs the same page against the real worker.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Page, expect

from broker.models import AccessAudit, DecisionKind, MashDecision, RuleId
from broker.web.feed import pictures_changelog
from tests.e2e.mash_page import (
    SCREENSHOTS,
    MashPage,
    encoded,
    ensure_topic,
    log_in,
    picture_record,
    produce,
    records_of,
)
from tests.unit.web.world import World, demo_world


def feed_the_page(bootstrap: str, app_id: str, world: World, *, alerts: bool = True) -> None:
    changelog = pictures_changelog(app_id)
    ensure_topic(bootstrap, changelog, compacted=True)
    records = [picture_record(changelog, c, p) for c, p in world.pictures.items()]
    records += [encoded("audit.disclosure.v1", d.child_id, d) for d in world.disclosures]
    if alerts:
        records += [encoded("mash.alert.v1", a.child.child_id, a) for a in world.alerts]
    produce(bootstrap, records)


def test_login_is_required_and_a_wrong_password_is_refused(page: Page, mash_page: MashPage) -> None:
    page.goto(f"{mash_page.url}/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=/queue$"))
    expect(page.get_by_role("heading", name="Log in to the MASH page")).to_be_visible()

    log_in(page, mash_page.url, "sam", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("The user name or password is not right.")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{mash_page.url}/queue")
    expect(page).to_have_url(re.compile(r"/login"))

    log_in(page, mash_page.url, "sam")
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()
    expect(page.get_by_text("Sam Reed")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{mash_page.url}/queue")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_queue_fills_without_reload_and_a_decision_is_published(
    page: Page, mash_page: MashPage, kafka_bootstrap: str, app_id: str
) -> None:
    world = demo_world(datetime.now(UTC))
    feed_the_page(kafka_bootstrap, app_id, world, alerts=False)
    log_in(page, mash_page.url, "priya")
    expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    produce(kafka_bootstrap, [encoded("mash.alert.v1", a.child.child_id, a) for a in world.alerts])
    poppy = world.alert("UNSHARED_RISK", "Lily")
    row = page.locator(f'tr[data-alert-id="{poppy.alert_id}"]')
    expect(row).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    expect(page.get_by_role("status").filter(has_text="Queue updated")).to_be_visible()
    expect(page.locator("tr.is-overdue .overdue").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "queue.png"))

    # keyboard: the first Tab reaches the skip link
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()

    row.get_by_role("link", name="Unshared risk").click()
    expect(
        page.get_by_role("heading", name=re.compile("Unshared risk: Lily Carter"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="How the child was linked")).to_be_visible()
    expect(page.locator("table.chronology")).to_contain_text("Opened its work")

    page.get_by_label("Share", exact=True).check()
    school = page.get_by_label("School")
    expect(school).to_be_checked()  # the agencies not told are chosen already
    expect(page.locator("#share-school-fields")).to_contain_text("Will receive: child's given name")
    expect(page.locator("#share-school-fields")).not_to_contain_text("narrative")
    rationale = page.get_by_label("Rationale (required)")
    rationale.fill("The school must support Lily; proportionate.")
    page.screenshot(path=str(SCREENSHOTS / "alert.png"), full_page=True)

    # a decision without rationale is refused, with the error summary focused
    rationale.fill("")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Enter the rationale for the decision.")
    expect(page.get_by_label("Share", exact=True)).to_be_checked()  # what was chosen is kept
    expect(page.get_by_label("School")).to_be_checked()
    page.get_by_label("Rationale (required)").fill("The school must support Lily; proportionate.")
    page.get_by_role("button", name="Record decision").click()
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.get_by_role("status").first).to_contain_text(
        "Decision recorded: Share for Lily Carter."
    )
    expect(page.locator(f'tr[data-alert-id="{poppy.alert_id}"]')).to_have_count(0)

    def mine(records: list[dict[str, Any]]) -> bool:
        return any(r["value"].get("refers_to") == poppy.triggered_by[0] for r in records)

    decisions = records_of(kafka_bootstrap, "mash.decision.v1", mine)
    [made] = [r for r in decisions if r["value"]["refers_to"] == poppy.triggered_by[0]]
    decision = MashDecision.model_validate(made["value"])
    assert decision.decision == DecisionKind.share
    assert [a.value for a in decision.share_with] == ["school"]
    assert decision.decided_by == "Priya Shah"
    assert made["key"] == decision.event_id.encode()

    def viewed(records: list[dict[str, Any]]) -> bool:
        return any(r["value"].get("alert_id") == poppy.alert_id for r in records)

    access = records_of(kafka_bootstrap, "audit.access.v1", viewed)
    seen = [
        AccessAudit.model_validate(r["value"])
        for r in access
        if r["value"].get("alert_id") == poppy.alert_id
    ]
    assert seen
    assert (seen[0].user, seen[0].role, seen[0].what, seen[0].child_id) == (
        "priya",
        "manager",
        "alert",
        poppy.child.child_id,
    )

    maya = world.alert("REPEAT_MISSING", "Maya")
    page.goto(f"{mash_page.url}/children/{maya.child.child_id}")
    expect(page.get_by_role("heading", name="Maya Thompson", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Chronology across agencies")).to_be_visible()
    expect(page.locator("table.chronology")).to_contain_text("Mental health crisis")
    page.screenshot(path=str(SCREENSHOTS / "child.png"), full_page=True)
    assert any(
        r["value"].get("what") == "child" and r["value"].get("child_id") == maya.child.child_id
        for r in records_of(
            kafka_bootstrap,
            "audit.access.v1",
            lambda rs: any(
                r["value"].get("what") == "child"
                and r["value"].get("child_id") == maya.child.child_id
                for r in rs
            ),
        )
    )
    assert RuleId.IDENTITY_REVIEW in {a.rule_id for a in world.alerts}
