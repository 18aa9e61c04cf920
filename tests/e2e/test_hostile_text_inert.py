"""Every hostile string the broker accepts is shown on the MASH page as text, in a real
browser: no script runs, no element is injected, the characters are there as sent.

The strings: a sample of the fuzzer's hostile records (bench/chaos_fuzz.py) that ingest
*accepts* (markup, script, SQL and template payloads in narratives: names with markup,
control or bidi characters are refused, and so are bidi characters in any text:
tests/unit/test_hostile_input.py), with
payloads that would set a flag if they ever ran, and the same payloads in the other
free-text fields the rules let through and the page shows (an allocated worker's name
and team, a school's name, an involvement's team). Each is checked to be accepted by
ingest on the very bytes sent, then processed by the real worker, and read in chromium
on the alert page (the records as the agencies sent them, the picture) and the child's
page (the chronology).

Two defences stand between such a string and a script: the templates escape every value
(jinja2 autoescape, broker/web/http.py) and the Content-Security-Policy forbids inline
script (broker/web/app.py). A policy alone would still let markup into the page, so the
DOM is checked as well as the flag: with escaping switched off this test fails on the
injected elements.
"""

from __future__ import annotations

import random
import uuid
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Dialog, Page

from bench.chaos_fuzz import Hostile, expected_outcome, hostile_records
from broker.errors import InvalidInput
from broker.models.events import parse_event
from broker.topics import topic_for_event_type
from tests.e2e.mash_page import MashPage, log_in, records_of, reload_until
from tests.e2e.test_worker_flow import events, write
from tests.integration.worker import CODEC, WorkerProcess, publish, wait_linked

FLAG_PAYLOADS: Final = (
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<svg onload="window.__pwned=1"></svg>',
    "</dd></dl></td><b id=injected>bold</b>",
)
INJECTED: Final = (
    "img[src='x'], [onerror], [onload], #injected, b#injected, dd script, td script, "
    "li script, p script"
)


def accepted_narratives() -> list[str]:
    """The fuzzer's hostile narratives that ingest accepts, from its own records."""
    history, vist = events("fuzz", datetime.now(UTC))
    found = set()
    for record in hostile_records(random.Random(16), [*history, vist], 2000, CODEC):
        if record.kind == "markup_in_narrative" and expected_outcome(record, CODEC) == "accepted":
            found.add(CODEC.decode(record.value).narrative)  # type: ignore[attr-defined]
    return sorted(found)


def accepted(event: dict[str, Any]) -> bool:
    """Whether ingest accepts the event's Avro bytes on its own topic."""
    try:
        model = parse_event(event)
    except InvalidInput:
        return False
    topic = topic_for_event_type(model.event_type)
    assert topic is not None
    value = CODEC.encode(model, topic=topic)
    return expected_outcome(Hostile("e2e", topic, b"", value), CODEC) == "accepted"


FIELDS: Final[tuple[tuple[int, str, str], ...]] = (
    (0, "allocated_worker", "name"),
    (0, "allocated_worker", "team"),
    (1, "", "team"),
    (1, "school", "name"),
)
"""(which history event, the object it is in ("" for the event), the field)"""


def hostile_history(run: str, strings: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The worker flow's child with, in each free-text field, the first of `strings`
    that ingest accepts there, and one RED notice per string with it as the narrative:
    (the events, the strings in the fields)."""
    now = datetime.now(UTC)
    history, vist = events(run, now)
    history[0]["allocated_worker"] = {"name": "Sam Reed", "team": "CIN"}
    placed = []
    for which, within, name in FIELDS:
        for text in [*strings[len(placed) :], *strings]:
            event = deepcopy(history[which])
            (event[within] if within else event)[name] = text
            if accepted(event):
                history[which] = event
                placed.append(text)
                break
    notices = [
        vist
        | {
            "event_id": f"{vist['event_id']}-{n}",
            "vist_id": f"{vist['vist_id']}-{n}",
            "rag": "RED",
            "narrative": text,
        }
        for n, text in enumerate(strings)
    ]
    return [*history, *notices], placed


def inert(page: Page, strings: list[str], dialogs: list[Dialog]) -> None:
    """Nothing ran, nothing was injected, and every string is on the page as text."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert page.locator(INJECTED).count() == 0, page.content()[:3000]
    text = page.locator("main").text_content() or ""
    missing = [s for s in strings if s not in text]
    assert missing == [], missing


def test_every_accepted_hostile_string_is_text_on_the_page(
    page: Page, worker: WorkerProcess, mash_page: MashPage, kafka_bootstrap: str, tmp_path: Path
) -> None:
    narratives = accepted_narratives()
    assert len(narratives) >= 3, narratives  # the fuzzer's markup, script and SQL payloads
    strings = [*FLAG_PAYLOADS, *narratives]
    run = uuid.uuid4().hex[:8]
    history, placed = hostile_history(run, strings)
    assert len(placed) == len(FIELDS)  # a hostile string the rules let through, in each
    assert set(placed) - set(strings) == set()
    assert all(accepted(e) for e in history)  # each one is what the rules let through
    # the child's record and involvement linked before the notices: see wait_linked (CI
    # found a notice read before the involvement, rightly without an unshared-risk alert)
    published = publish(kafka_bootstrap, write(tmp_path / "history.jsonl", history[:2]))
    assert published.returncode == 0, published.stderr
    wait_linked(kafka_bootstrap, {e["event_id"] for e in history[:2]})
    published = publish(kafka_bootstrap, write(tmp_path / "notices.jsonl", history[2:]))
    assert published.returncode == 0, published.stderr

    ids = {e["event_id"] for e in history[2:]}

    def raised(records: list[dict[str, Any]]) -> bool:
        told = {i for r in records for i in r["value"].get("triggered_by", [])}
        return ids <= told

    alerts = records_of(kafka_bootstrap, "mash.alert.v1", raised, timeout=120)
    mine = [
        r["value"]
        for r in alerts
        if r["value"]["rule_id"] == "UNSHARED_RISK" and set(r["value"]["triggered_by"]) & ids
    ]
    assert len(mine) == len(strings), worker.tail()

    dialogs: list[Dialog] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    log_in(page, mash_page.url, "priya")
    for alert in mine:
        url = f"{mash_page.url}/alerts/{alert['alert_id']}"
        reload_until(page, url, lambda: page.locator("dl.record").count() > 0)
        [event_id] = alert["triggered_by"]
        n = int(event_id.rsplit("-", 1)[1])
        inert(page, [strings[n], *placed], dialogs)  # its narrative; worker, teams, school
    child_id = mine[0]["child"]["child_id"]
    page.goto(f"{mash_page.url}/children/{child_id}")
    inert(page, placed, dialogs)  # the worker, the teams and the school, as text
    assert page.evaluate("typeof window.__pwned") == "undefined"
