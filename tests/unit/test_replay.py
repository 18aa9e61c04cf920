"""`mash-broker replay`: the pipeline over a file, printing what would be published."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_ingest import GOOD

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec"


def replay(path: Path, *args: str) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "broker.cli", "replay", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.skipif(not SPEC.exists(), reason="../shared/spec is not beside this checkout")
def test_public_bad_input_example_rejects_with_reasons_and_feedback(tmp_path: Path) -> None:
    scenario = json.loads((SPEC / "examples" / "bad_input.json").read_text())
    records = replay(_write(tmp_path, scenario["events"]), "--until", scenario["until"])
    rejected = [r for r in records if r["topic"] == "broker.rejected.v1"]
    assert [r["value"]["event_id"] for r in rejected] == ["pol-91544-002"]
    assert any(p["field"] == "subject.nhs_number" for p in rejected[0]["value"]["reasons"])
    feedback = [
        r
        for r in records
        if r["topic"] == "agency.police.feedback.v1" and r["value"]["event_id"] == "pol-91544-002"
    ]
    assert feedback
    assert "nhs_number" in json.dumps(feedback[0]).lower()


def test_non_json_lines_are_rejections_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("not json at all\n" + json.dumps(GOOD) + "\n\n[1,2]\n")
    records = replay(path)
    assert sum(r["topic"] == "broker.rejected.v1" for r in records) == 2


def test_the_same_event_twice_is_processed_once(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n")
    linked = [r for r in replay(path, "--internal") if r["topic"] == "broker.linked.v1"]
    assert len(linked) == 1


def _write(folder: Path, events: list[dict]) -> Path:
    path = folder / "events.jsonl"
    with path.open("w") as handle:
        for event in events:
            handle.write((event["__raw__"] if "__raw__" in event else json.dumps(event)) + "\n")
    return path
