"""An alert whose child's record arrived after it was raised, in a real browser: the page
shows what the agencies knew when it was raised beside the picture now, the late record
marked in both the comparison and the chronology."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.mash_page import SCREENSHOTS, MashPage, log_in, reload_until
from tests.e2e.test_mash_page import feed_the_page
from tests.unit.web.world import late_record_world


def test_the_alert_shows_the_snapshot_and_the_late_record(
    page: Page, mash_page: MashPage, kafka_bootstrap: str
) -> None:
    late = late_record_world()
    feed_the_page(kafka_bootstrap, mash_page.env["MASH_APP_ID"], late)
    [alert] = late.alerts
    log_in(page, mash_page.url, "sam")
    expect(page).to_have_url(re.compile(r"/queue$"))
    since = page.locator("section", has=page.locator("#since-title"))
    late = since.get_by_text("Late record")
    reload_until(page, f"{mash_page.url}/alerts/{alert.alert_id}", lambda: late.count() > 0)
    # the snapshot, as it was
    known = page.locator("section", has=page.locator("#known-title"))
    expect(known).to_contain_text("Not known to children's social care")
    # beside it, the picture now, and why they differ
    expect(since.get_by_role("heading")).to_have_text("What has changed since it was raised")
    care = since.get_by_role("row", name=re.compile(r"^Social care"))
    expect(care).to_contain_text("Not known to children's social care")
    expect(care).to_contain_text("On a child protection plan since")
    expect(care).to_contain_text("Late record")
    # and in the chronology: the plan's record, marked late
    chronology = page.locator("section", has=page.locator("#chronology-title"))
    status = chronology.get_by_role("row", name=re.compile(r"Social care status"))
    expect(status).to_contain_text("late record")
    expect(status).to_contain_text("received after the alert")
    since.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "alert-late-record.png"), full_page=False)
