"""`python -m bench.chaos`, CI-sized: a few SIGKILLs, a Kafka restart, a few hundred
hostile records and one worker's state directory made unwritable (bench/chaos_disk.py),
and the two workers still publish exactly what replay of the events Kafka accepted
publishes: nothing lost, nothing duplicated, nothing changed.

The benchmark (bench/chaos.py) runs fifty kills and prints its figures; this runs its
very code with a small plan, and fails on any loss, duplicate or change, on a hostile
record not accounted for, on a worker not ready between faults, on a child's name or
NHS number in a worker's log, or on a worker that goes on without its state directory
(it must stop with exit 75, stop again when restarted, and come back once it can write).
A byte-identical re-send after a kill is allowed (at-least-once, the same output id).
"""

from __future__ import annotations

from pathlib import Path

from bench.chaos import Plan, run
from broker.kafka.local import LocalKafka

PLAN = Plan(seed=7, kills=3, events=250, hostile=200, rate=15.0, pause=False)


def test_kills_and_a_kafka_restart_lose_duplicate_and_change_nothing(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    report = run(PLAN, tmp_path, own_kafka)
    shown = "\n".join(report.lines())
    print(shown)
    verdict = report.verdict
    assert verdict.clean, shown
    assert (verdict.lost, verdict.duplicated, verdict.changed) == (0, 0, 0), shown
    assert sum(report.outcomes.values()) == PLAN.hostile, shown  # every one was sent
    assert {outcome for _, outcome in report.outcomes} == {"accepted", "rejected"}
    assert None not in report.recoveries, shown
    assert report.personal_data_in_logs == 0, shown
    looks, not_ready = report.readiness
    assert looks > 0, shown
    assert not_ready == 0, shown  # between faults, every worker stays ready
    assert len(report.disk_faults) == 1, shown
    assert report.disk_faults[0].as_it_should, shown
