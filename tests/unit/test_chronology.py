"""`mash-broker chronology`: one child's story across agencies, from a replay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.unit.test_link_step import GOOD


def ev(event_id: str, event_type: str, agency: str, at: str, **body: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "source": {"agency": agency, "system": f"{agency}-records"},
        "occurred_at": at,
        "recorded_at": at,
        "subject": dict(GOOD["subject"], socialcare_id="SC-42")
        if event_type == "socialcare.record"
        else dict(GOOD["subject"]),
        **body,
    }


EVENTS = [
    ev(
        "s-1",
        "socialcare.record",
        "socialcare",
        "2026-05-11T10:00:00+01:00",
        status="child_in_need",
        status_since="2026-05-11",
        previous_referrals=[],
    ),
    ev(
        "p-2",
        "police.vist",
        "police",
        "2026-05-19T21:00:00+01:00",
        vist_id="V-2",
        rag="AMBER",
        concerns=["domestic_abuse"],
        narrative="Officers attended a domestic incident.",
        out_of_hours=True,
    ),
    ev(
        "h-3",
        "health.update",
        "health",
        "2026-05-14T10:00:00+01:00",
        update_id="U-3",
        kind="ed_attendance",
        setting="Derriford ED",
        concerns=["self_harm"],
        narrative="Attended after an overdose.",
    ),
]


def chronology(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", "chronology", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rows_in_date_order_across_agencies_without_narratives(tmp_path: Path) -> None:
    result = chronology(tmp_path, "--socialcare-id", "SC-42", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["agency"] for r in rows] == ["socialcare", "health", "police"]
    assert rows[2]["rag"] == "AMBER"
    assert rows[2]["concerns"] == ["domestic_abuse"]
    assert "overdose" not in result.stdout  # what happened, never the free text
    assert "Derriford ED" in rows[1]["what"]


def test_text_form_names_the_child_and_unknown_children_are_an_error(tmp_path: Path) -> None:
    text = chronology(tmp_path, "--socialcare-id", "SC-42")
    assert text.stdout.startswith("Chronology for Tia Lewis")
    assert "AMBER police vulnerability notice (domestic abuse)" in text.stdout
    missing = chronology(tmp_path, "--nhs-number", "9434765919")
    assert missing.returncode == 1
    assert "no child" in missing.stderr
