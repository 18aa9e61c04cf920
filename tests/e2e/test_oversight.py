"""Oversight in a real browser, on the real Kafka: the manager's timeliness report with
its charts; a practitioner refused it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from broker.oversight.timeliness import MEASURES
from tests.e2e.mash_page import SCREENSHOTS, MashPage, log_in
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
