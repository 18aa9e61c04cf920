"""Oversight in a real browser, on the real Kafka: the manager's timeliness report with
its charts; a practitioner refused it; the auditor's disclosure log, and the auditor
refused the alert queue."""

from __future__ import annotations

import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from broker.oversight.timeliness import MEASURES
from tests.e2e.mash_page import SCREENSHOTS, MashPage, log_in, records_of, reload_until
from tests.e2e.test_mash_page import feed_the_page
from tests.unit.web.world import demo_world


def test_the_manager_sees_the_report_with_a_chart_per_measure(
    page: Page, mash_page: MashPage, kafka_bootstrap: str
) -> None:
    feed_the_page(kafka_bootstrap, mash_page.env["MASH_APP_ID"], demo_world())
    log_in(page, mash_page.url, "priya")
    expect(page).to_have_url(re.compile(r"/queue$"))
    page.get_by_role("link", name="Timeliness").click()
    expect(page.get_by_role("heading", name="Timeliness of the front door")).to_be_visible()
    decided = page.locator('table[data-measure="decision_day"] tbody td.empty')
    reload_until(page, page.url, lambda: decided.count() == 0)
    for measure in MEASURES:
        expect(page.get_by_role("heading", name=measure.title, exact=True)).to_be_visible()
    charts = page.locator("img.report-chart")
    expect(charts).to_have_count(len(MEASURES))
    # every chart drawn by the server and decoded by the browser
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.report-chart')]"
        ".every(i => i.complete && i.naturalWidth > 400)"
    )
    decided = page.locator('table[data-measure="decision_day"] tbody tr')
    expect(decided.first).not_to_contain_text("Nothing in this period")
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(r"^/report\.csv\?from=\d{4}-\d\d-01&to=\d{4}-\d\d-01$")
    )
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=False)


def test_a_practitioner_is_refused_the_report(page: Page, mash_page: MashPage) -> None:
    log_in(page, mash_page.url, "sam")
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.get_by_role("link", name="Timeliness")).to_have_count(0)
    answer = page.goto(f"{mash_page.url}/report")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_text("Your role does not give you access to this page.")).to_be_visible()


def test_the_auditor_sees_the_disclosure_log_and_cannot_open_the_alert_queue(
    page: Page, mash_page: MashPage, kafka_bootstrap: str
) -> None:
    world = demo_world()
    feed_the_page(kafka_bootstrap, mash_page.env["MASH_APP_ID"], world)
    log_in(page, mash_page.url, "ines")
    expect(page).to_have_url(re.compile(r"/audit$"))
    expect(page.get_by_role("heading", name="Disclosure and access log")).to_be_visible()
    # the session's Kafka is shared by the e2e tests: at least the demo's disclosures
    told = page.locator('tr[data-kind="told"]')
    reload_until(page, page.url, lambda: told.count() >= len(world.disclosures))
    assert told.count() >= len(world.disclosures)
    expect(page.get_by_role("link", name="Alert queue")).to_have_count(0)

    page.get_by_label("Agency").select_option("socialcare")
    page.get_by_label("Worker").fill("rule:risk_event_to_social_care")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"agency=socialcare"))
    expect(told.first).to_contain_text("Children's social care told")
    expect(told.first).to_contain_text("Decided by the rules (risk event to social care)")
    page.get_by_label("Worker").fill("nobody-at-all")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()

    answer = page.goto(f"{mash_page.url}/queue")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_text("Your role does not give you access to this page.")).to_be_visible()
    alert = world.alerts[0]
    answer = page.goto(f"{mash_page.url}/alerts/{alert.alert_id}")
    assert answer is not None
    assert answer.status == 403

    # the auditor's reading is itself on the access audit
    children = {d.child_id for d in world.disclosures}
    reads = records_of(
        kafka_bootstrap,
        "audit.access.v1",
        lambda found: (
            {r["value"]["child_id"] for r in found if r["value"]["user"] == "ines"} >= children
        ),
    )
    mine = [r["value"] for r in reads if r["value"]["user"] == "ines"]
    assert {(r["role"], r["what"]) for r in mine} == {("auditor", "audit_log")}
    assert not [r for r in mine if r.get("alert_id")]  # never shown an alert
    # a child's entries, and the subject access record from its button
    told = world.disclosures[0]
    page.goto(f"{mash_page.url}/audit")
    page.locator(f'a[href="/audit?child={told.child_id}"]').first.click()
    expect(page).to_have_url(re.compile(rf"child={told.child_id}"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Subject access record (PDF)").click()
    pdf = Path(download.value.path()).read_bytes()
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Subjectaccessrecord" in text
    assert "".join(told.lawful_basis.split()) in text
    assert told.child_id in text

    page.goto(f"{mash_page.url}/audit?kind=told")
    page.screenshot(path=str(SCREENSHOTS / "audit.png"), full_page=False)
