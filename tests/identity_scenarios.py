"""The identity scenarios the link stage's own tests run (tests/agents/test_link_loop.py,
tests/integration/test_link_loop_equals_replay.py): merges by a person's decision, a
contradicting NHS number, a misspelt name, twins, a duplicate; and one event id sent
again with other content (a conflict)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from broker.models.events import Event, parse_event

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
CHOSEN = (
    "identity_decision_merges",
    "identity_contradicting_nhs_number_review",
    "identity_misspelt_name_links",
    "identity_twins_not_linked",
    "duplicate_event_is_processed_once",
)


def scenario_events() -> list[Event]:
    found: list[dict[str, Any]] = []
    for name in CHOSEN:
        found += json.loads((SCENARIOS / f"{name}.json").read_text())["events"]
    conflict = dict(found[0], narrative="Another narrative under the same event id.")
    return [parse_event(e) for e in [*found, conflict]]
