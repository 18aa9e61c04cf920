"""The whole loop with the real worker: an agency publishes a VIST, the worker raises
the alert, it appears in the open page without a reload; the MASH decides to share
with the school, and the worker closes the loop: the school's notification (minimised)
and the disclosure audit are on their topics, and the alert leaves the queue."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from broker.kafka.local import LocalKafka
from tests.e2e.mash_page import MashPage, log_in, records_of
from tests.integration.conftest import own_kafka  # noqa: F401  (a fixture)
from tests.integration.worker import WorkerProcess, publish, wait_linked


def events(run: str, now: datetime) -> list[dict[str, Any]]:
    subject = {
        "given_name": "Cara",
        "family_name": "Dean",
        "date_of_birth": "2012-06-06",
        "postcode": "PL1 1AA",
        "socialcare_id": f"SC-E2E-{run}",
    }

    def at(minutes: int) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    def envelope(event_id: str, event_type: str, agency: str, minutes: int) -> dict[str, Any]:
        return {
            "event_id": f"{event_id}-{run}",
            "event_type": event_type,
            "source": {"agency": agency, "system": f"{agency}-records"},
            "occurred_at": at(minutes),
            "recorded_at": at(minutes),
            "subject": subject,
        }

    return [
        envelope("soc", "socialcare.record", "socialcare", 30)
        | {
            "status": "child_in_need",
            "status_since": (now - timedelta(days=20)).date().isoformat(),
            "allocated_worker": {"name": "Sam Reed", "team": "Plymouth Central CIN"},
            "previous_referrals": [],
        },
        envelope("inv", "agency.involvement", "school", 20)
        | {
            "agency": "school",
            "status": "open",
            "team": "DSL",
            "school": {"urn": "113500", "name": "Stoke Damerel Primary"},
        },
    ], envelope("vist", "police.vist", "police", 1) | {
        "vist_id": f"V-{run}",
        "rag": "GREEN",
        "concerns": ["emotional_abuse"],
        "narrative": "Cara said she is scared of her stepfather.",
        "out_of_hours": False,
    }


@pytest.fixture
def kafka_bootstrap(own_kafka: LocalKafka) -> str:  # noqa: F811
    """A Kafka of this test's own: a worker of a new app id reads every inbound topic
    from the start, and on the session's Kafka that is every earlier test's events (in CI
    it had not reached this test's history after 120 s)."""
    return own_kafka.bootstrap


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in items))
    return path


def test_a_published_vist_appears_live_and_a_share_tells_the_school(
    page: Page, worker: WorkerProcess, mash_page: MashPage, kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    history, vist = events(run, datetime.now(UTC))
    published = publish(kafka_bootstrap, write(tmp_path / "history.jsonl", history))
    assert published.returncode == 0, published.stderr

    # the history linked to the child before the VIST is sent: see wait_linked (a VIST
    # read before the record that makes the child one in need rightly raises no
    # unshared-risk alert; CI found it under load)
    wait_linked(kafka_bootstrap, {e["event_id"] for e in history})

    log_in(page, mash_page.url, "priya")
    expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    published = publish(kafka_bootstrap, write(tmp_path / "vist.jsonl", [vist]))
    assert published.returncode == 0, published.stderr

    def raised(records: list[dict[str, Any]]) -> bool:
        return any(vist["event_id"] in r["value"].get("triggered_by", []) for r in records)

    alerts = records_of(kafka_bootstrap, "mash.alert.v1", raised, timeout=120)
    mine = [r["value"] for r in alerts if vist["event_id"] in r["value"]["triggered_by"]]
    assert mine, f"the worker raised no alert for the VIST:\n{worker.tail()}"
    [unshared] = [a for a in mine if a["rule_id"] == "UNSHARED_RISK"]
    row = page.locator(f'tr[data-alert-id="{unshared["alert_id"]}"]')
    expect(row).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True  # it came without a reload

    row.get_by_role("link", name="Unshared risk").click()
    expect(page.get_by_role("heading", name=re.compile("Unshared risk: Cara Dean"))).to_be_visible()
    expect(page.locator("table.chronology")).to_contain_text("Opened its work (DSL")
    page.get_by_label("Share", exact=True).check()
    expect(page.get_by_label("School")).to_be_checked()
    page.get_by_label("Rationale (required)").fill("Cara's school must know to support her.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status").first).to_contain_text("Decision recorded: Share")
    expect(page.locator(f'tr[data-alert-id="{unshared["alert_id"]}"]')).to_have_count(0)

    def about_vist(records: list[dict[str, Any]]) -> bool:
        return any(r["value"].get("event_id") == vist["event_id"] for r in records)

    notes = records_of(kafka_bootstrap, "agency.school.notification.v1", about_vist, timeout=90)
    [note] = [r["value"] for r in notes if r["value"]["event_id"] == vist["event_id"]]
    assert "narrative" not in note["fields"]
    assert "stepfather" not in json.dumps(note)
    assert "MASH decided" in note["summary"]

    audits = records_of(kafka_bootstrap, "audit.disclosure.v1", about_vist, timeout=60)
    to_school = [
        r["value"]
        for r in audits
        if r["value"]["event_id"] == vist["event_id"] and r["value"]["to_agency"] == "school"
    ]
    assert [a["decided_by"] for a in to_school] == ["Priya Shah"]

    def viewed(records: list[dict[str, Any]]) -> bool:
        return any(r["value"].get("alert_id") == unshared["alert_id"] for r in records)

    access = records_of(kafka_bootstrap, "audit.access.v1", viewed)
    [seen] = [r["value"] for r in access if r["value"].get("alert_id") == unshared["alert_id"]]
    assert (seen["user"], seen["role"], seen["what"]) == ("priya", "manager", "alert")
