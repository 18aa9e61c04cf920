"""Scenario files (tests/scenarios/*.json and the spec's public examples) through the
replay engine, in-process, checked by the spec's own checker (check_scenarios.check).

A scenario is events in, expectations on what is published out; the format is the
spec's (../shared/spec/check_scenarios.py). Running the engine in-process rather than a
subprocess per file keeps the whole set to a second or two.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from broker.calendar.clock import ManualClock
from broker.config.partnership import load_config
from broker.pipeline.engine import replay_lines
from broker.topics import INTERNAL_TOPICS

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "scenarios"
SPEC = ROOT.parent / "shared" / "spec"
CHECKER = SPEC / "check_scenarios.py"
CONFIG = load_config()


def _load_checker() -> Callable[[dict[str, Any], list[dict[str, Any]]], list[str]] | None:
    if not CHECKER.exists():
        return None
    spec = importlib.util.spec_from_file_location("check_scenarios", CHECKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check: Callable[[dict[str, Any], list[dict[str, Any]]], list[str]] = module.check
    return check


check = _load_checker()


def run_scenario(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """What `mash-broker replay EVENTS --until UNTIL` would print, as dicts."""
    lines = [
        (e["__raw__"] if "__raw__" in e else json.dumps(e)).encode("utf-8")
        for e in scenario["events"]
    ]
    until = datetime.fromisoformat(scenario["until"]) if scenario.get("until") else None
    records = replay_lines(lines, ManualClock(), until=until, config=CONFIG)
    return [r.to_json() for r in records if r.topic not in INTERNAL_TOPICS]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


@pytest.mark.skipif(check is None, reason="../shared/spec is not beside this checkout")
@pytest.mark.parametrize("path", _files(OWN), ids=lambda p: p.stem)
def test_own_scenario(path: Path) -> None:
    assert check is not None
    scenario = json.loads(path.read_text())
    problems = check(scenario, run_scenario(scenario))
    assert problems == [], f"{path.name}: {scenario['name']}"


@pytest.mark.skipif(check is None, reason="../shared/spec is not beside this checkout")
@pytest.mark.parametrize("path", _files(SPEC / "examples"), ids=lambda p: p.stem)
def test_public_example(path: Path) -> None:
    assert check is not None
    scenario = json.loads(path.read_text())
    problems = check(scenario, run_scenario(scenario))
    assert problems == [], f"{path.name}: {scenario['name']}"


def test_there_are_enough_scenarios() -> None:
    assert len(_files(OWN)) >= 40


def test_a_refused_line_is_refused_at_its_own_recorded_at() -> None:
    event = {
        "event_id": "bad-1",
        "event_type": "police.vist",
        "source": {"agency": "police", "system": "p"},
        "recorded_at": "2026-05-19T12:00:00+01:00",
    }
    records = run_scenario({"events": [event], "until": None})
    [rejected] = [r for r in records if r["topic"] == "broker.rejected.v1"]
    assert rejected["value"]["rejected_at"] == "2026-05-19T12:00:00+01:00"


def test_every_alert_reads_as_sentences() -> None:
    """Whatever a scenario raises, its words are punctuated as a person would write them:
    one full stop at the end of each sentence, never two (an identity note is a sentence
    already when an explanation quotes it)."""
    texts = []
    for path in [*_files(OWN), *_files(SPEC / "examples")]:
        for record in run_scenario(json.loads(path.read_text())):
            if record["topic"] == "mash.alert.v1":
                value = record["value"]
                for name in ("summary", "explanation", "recommended_action", "identity_note"):
                    texts.append((path.stem, name, value.get(name) or ""))
    assert len(texts) > 100
    doubled = [(stem, name) for stem, name, text in texts if ".." in text or ". ." in text]
    assert doubled == []
    # a social worker reads words, not the contract's field names or event types
    jargon = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:police|yot|school|health|mash|socialcare)\.[a-z]")
    worded = [(stem, name, text) for stem, name, text in texts if name != "identity_note"]
    assert [(stem, name, m.group()) for stem, name, text in worded
            if (m := jargon.search(text))] == []  # fmt: skip
    one = re.compile(r"\b1 (?:[a-z-]+ ){0,4}(?:events|concerns|episodes|times)\b")
    assert [(stem, name) for stem, name, text in texts if one.search(text)] == []
