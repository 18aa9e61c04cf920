"""The child stage on the real Kafka: state recovered from changelogs, and two workers.

- A worker is stopped and a new one starts with an *empty* state directory: the
  children's pictures (and the identity index) come back from the changelog topics, so
  the events after the restart are judged on the history before it (the third and
  fourth concerns about neglect), and `mash-broker chronology --live` shows all four.
- Two workers share the work (broker.linked.v1 with four partitions): each child's
  records, published by two agencies on two topics with different keys, meet at one
  child, and every alert is published once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from copy import deepcopy
from pathlib import Path
from typing import Any

from broker.kafka.local import LocalKafka
from tests.integration.conftest import free_ports
from tests.integration.test_operations import get, poll
from tests.integration.worker import WorkerProcess, publish, read_topic, run, worker_env
from tests.unit.test_ingest import GOOD

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def start(env: dict[str, str], log: Path) -> tuple[WorkerProcess, int]:
    [port] = free_ports(1)
    process = WorkerProcess({**env, "MASH_WORKER_WEB_PORT": str(port)}, log)
    process.start()
    ready = lambda: get(f"http://127.0.0.1:{port}/health/ready")[0] == 200  # noqa: E731
    assert poll(ready, 90), process.tail()
    return process, port


def gus(run_id: str) -> list[dict[str, Any]]:
    """Four health updates about neglect, one child (cumulative_neglect_second_and_fourth)."""
    scenario = json.loads((SCENARIOS / "cumulative_neglect_second_and_fourth.json").read_text())
    events = deepcopy(scenario["events"])
    for e in events:
        e["event_id"] = f"{e['event_id']}-{run_id}"
        e["subject"]["socialcare_id"] = f"SC-{run_id}"
    return events


def alerts_for(records: list[dict[str, Any]], event_id: str) -> list[str]:
    """The rules of the alerts this event triggered (the first id; the rest is evidence)."""
    return [r["value"]["rule_id"] for r in records if r["value"]["triggered_by"][0] == event_id]


def test_pictures_come_back_from_the_changelogs_after_a_restart(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    run_id = uuid.uuid4().hex[:8]
    env = worker_env(kafka_bootstrap, tmp_path / "state-1", f"mash-restart-{run_id}")
    events = gus(run_id)
    first, _ = start(env, tmp_path / "worker-1.log")
    try:
        assert publish(kafka_bootstrap, write(tmp_path / "a.jsonl", events[:2])).returncode == 0
        has = lambda e: lambda rs: bool(alerts_for(rs, e))  # noqa: E731
        records = run(read_topic(kafka_bootstrap, "mash.alert.v1", has(events[1]["event_id"])))
        assert alerts_for(records, events[1]["event_id"]) == ["CUMULATIVE_NEGLECT"], first.tail()
    finally:
        first.stop()

    env["MASH_STATE_DIR"] = str(tmp_path / "state-2")  # nothing on disk: changelogs only
    second, _ = start(env, tmp_path / "worker-2.log")
    try:
        assert publish(kafka_bootstrap, write(tmp_path / "b.jsonl", events[2:])).returncode == 0
        last = events[3]["event_id"]
        records = run(read_topic(kafka_bootstrap, "mash.alert.v1", has(last)))
        assert alerts_for(records, events[2]["event_id"]) == ["CUMULATIVE_CONCERNS"]
        assert alerts_for(records, last) == ["CUMULATIVE_NEGLECT"], second.tail()
        [alert] = [r["value"] for r in records if r["value"]["triggered_by"][0] == last]
        # the evidence is the history from before the restart
        assert alert["triggered_by"] == [e["event_id"] for e in reversed(events)][:1] + [
            e["event_id"] for e in events[:3]
        ]
        for day in ("12 Jan 2026", "12 Feb 2026", "12 Mar 2026", "13 Apr 2026"):
            assert day in alert["explanation"], alert["explanation"]
        # and the enrichment it carries counts them too
        context = alert["context"]
        assert (context["risk_events_90_days"], context["risk_events_365_days"]) == (3, 4)
        assert context["concerns"] == [
            {"concern": "neglect", "last_90_days": 3, "last_365_days": 4}
        ]

        chronology = subprocess.run(
            [
                sys.executable,
                "-m",
                "broker.cli",
                "chronology",
                "--live",
                "--json",
                "--socialcare-id",
                f"SC-{run_id}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert chronology.returncode == 0, chronology.stderr
        rows = [json.loads(line) for line in chronology.stdout.splitlines()]
        assert [r["event_id"] for r in rows] == [e["event_id"] for e in events]
    finally:
        second.stop()


def two_records_of_one_child(n: int, run_id: str) -> list[dict[str, Any]]:
    """A notice from the police (with their person id) and a GP's concern (names, date
    of birth and postcode only): two topics, two keys, one child."""
    given = ("Ada", "Ben", "Cal", "Dee", "Eli", "Fay", "Gil", "Hal")[n % 8]
    family = ("Marsh", "Frost", "Ridley", "Okafor", "Nash", "Quill")[n % 6] + "e" * (n // 8)
    subject = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": f"201{n % 10}-0{1 + n % 9}-1{n % 10}",
        "postcode": f"PL{n % 9 + 1} {n % 9}AB",
    }
    vist = deepcopy(GOOD)
    vist.update(event_id=f"two-pol-{n}-{run_id}", vist_id=f"V-{n}-{run_id}")
    vist["subject"] = {**subject, "police_person_id": f"P-{n}-{run_id}"}
    health = {
        "event_id": f"two-hea-{n}-{run_id}",
        "event_type": "health.update",
        "source": {"agency": "health", "system": "gp"},
        "occurred_at": "2026-05-20T10:00:00+01:00",
        "recorded_at": "2026-05-20T10:00:00+01:00",
        "subject": subject,
        "update_id": f"U-{n}-{run_id}",
        "kind": "gp_concern",
        "setting": "GP surgery",
        "concerns": ["neglect"],
        "narrative": "Seen at the surgery.",
    }
    return [vist, health]


def test_two_workers_share_the_children_and_agree_on_who_is_who(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    run_id = uuid.uuid4().hex[:6]
    env = worker_env(own_kafka.bootstrap, tmp_path / "state-a", f"mash-two-{run_id}")
    env["MASH_TOPIC_PARTITIONS"] = "4"
    a, port_a = start(env, tmp_path / "a.log")
    b, port_b = start({**env, "MASH_STATE_DIR": str(tmp_path / "state-b")}, tmp_path / "b.log")
    try:
        children = 16
        events = [e for n in range(children) for e in two_records_of_one_child(n, run_id)]
        assert publish(own_kafka.bootstrap, write(tmp_path / "in.jsonl", events)).returncode == 0

        def all_linked(records: list[dict[str, Any]]) -> bool:
            return len([r for r in records if r["value"].get("event")]) >= len(events)

        linked = run(read_topic(own_kafka.bootstrap, "broker.linked.v1", all_linked, 120))
        child_of = {
            r["value"]["event"]["event_id"]: r["value"]["child_id"]
            for r in linked
            if r["value"].get("event")
        }
        assert len(child_of) == len(events), (a.tail(), b.tail())
        for n in range(children):
            assert child_of[f"two-pol-{n}-{run_id}"] == child_of[f"two-hea-{n}-{run_id}"], n
        assert len(set(child_of.values())) == children

        def processed(port: int) -> float:
            text = get(f"http://127.0.0.1:{port}/metrics")[1]
            lines = [
                line
                for line in text.splitlines()
                if line.startswith("mash_stage_outcomes_total{")
                and 'stage="child"' in line
                and 'outcome="event"' in line
            ]
            return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

        assert poll(lambda: processed(port_a) + processed(port_b) == len(events), 60)
        assert processed(port_a) > 0, "worker a processed no child's events"
        assert processed(port_b) > 0, "worker b processed no child's events"

        alerts = run(read_topic(own_kafka.bootstrap, "mash.alert.v1", lambda rs: False, 5))
        ids = [r["value"]["alert_id"] for r in alerts]
        assert ids, "the notices raise alerts"
        assert len(ids) == len(set(ids)), "an alert was published twice"
    finally:
        a.stop()
        b.stop()
