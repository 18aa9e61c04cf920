"""Issue 2 on the real Kafka: publish, ingest, reject with reasons, de-duplicate.

The worker is the real `mash-broker worker` process. A good and a bad event are
published with `mash-broker publish`; the good one is passed on (linked, keyed by child),
the bad one lands on broker.rejected.v1 with its reasons and original bytes, and the
sender's feedback topic says what to fix. The same event published again, before and
after a worker restart, is processed once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest

from tests.integration.worker import CODEC, WorkerProcess, publish, read_topic, run, worker_env
from tests.unit.test_ingest import GOOD


def event(event_id: str, **subject: Any) -> dict[str, Any]:
    data = deepcopy(GOOD)
    data["event_id"] = event_id
    data["subject"].update(subject)
    return data


def write(path: Path, *events: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


@pytest.fixture(params=["faust", "loop"], ids=["ingest-agent", "ingest-loop"])
def worker(
    kafka_bootstrap: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[WorkerProcess]:
    """A worker whose ingest stage is the faust agent, or the loop (MASH_INGEST_STAGE):
    every test here holds for both."""
    env = worker_env(kafka_bootstrap, tmp_path / "state", f"mash-test-{uuid.uuid4().hex[:8]}")
    env["MASH_INGEST_STAGE"] = request.param
    process = WorkerProcess(env, tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()


def linked_ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["value"]["event"]["event_id"] for r in records if r["value"].get("event")]


def test_good_passed_on_bad_rejected_with_reasons_and_feedback(
    kafka_bootstrap: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    run_id = uuid.uuid4().hex[:8]
    good = event(f"good-{run_id}")
    bad = event(f"bad-{run_id}", nhs_number="9434765910")
    result = publish(kafka_bootstrap, write(tmp_path / "in.jsonl", good, bad), "--send-invalid")
    assert result.returncode == 1, result.stderr  # a bad line is reported...
    assert "in.jsonl:2: subject.nhs_number" in result.stderr
    assert "published 2 record(s)" in result.stderr  # ...and did not stop the rest

    def has(event_id: str) -> Any:
        return lambda records: any(r["value"].get("event_id") == event_id for r in records)

    linked = run(read_topic(kafka_bootstrap, "broker.linked.v1", has(good["event_id"])))
    assert good["event_id"] in linked_ids(linked), worker.tail()
    assert bad["event_id"] not in linked_ids(linked)

    rejected = run(read_topic(kafka_bootstrap, "broker.rejected.v1", has(bad["event_id"])))
    [mine] = [r for r in rejected if r["value"]["event_id"] == bad["event_id"]]
    assert {p["field"] for p in mine["value"]["reasons"]} == {"subject.nhs_number"}
    assert mine["value"]["source_agency"] == "police"
    # the original bytes, exactly as published (Avro single-object encoding)
    original = CODEC.encode_dict("police.vist", bad, topic="police.vist.v1")
    import base64

    assert base64.b64decode(mine["value"]["original"]) == original

    feedback = run(read_topic(kafka_bootstrap, "agency.police.feedback.v1", has(bad["event_id"])))
    [fb] = [r for r in feedback if r["value"]["event_id"] == bad["event_id"]]
    assert fb["value"]["kind"] == "rejected"
    assert "nhs number" in json.dumps(fb["value"]).lower()


def test_same_event_twice_is_processed_once_also_across_a_restart(
    kafka_bootstrap: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    run_id = uuid.uuid4().hex[:8]
    original = event(f"once-{run_id}")
    markers = [event(f"marker{i}-{run_id}") for i in range(3)]

    def linked_after(marker: dict[str, Any]) -> list[dict[str, Any]]:
        def done(records: list[dict[str, Any]]) -> bool:
            return marker["event_id"] in linked_ids(records)

        records = run(read_topic(kafka_bootstrap, "broker.linked.v1", done))
        assert marker["event_id"] in linked_ids(records), worker.tail()
        return records

    # once, then the same again: one partition keeps order, the marker proves it was seen
    publish(kafka_bootstrap, write(tmp_path / "a.jsonl", original, markers[0]))
    linked_after(markers[0])
    publish(kafka_bootstrap, write(tmp_path / "b.jsonl", original, markers[1]))
    records = linked_after(markers[1])
    assert linked_ids(records).count(original["event_id"]) == 1

    # a restart: the seen-events table comes back from its changelog
    worker.stop(signal.SIGTERM)
    worker.start()
    publish(kafka_bootstrap, write(tmp_path / "c.jsonl", original, markers[2]))
    records = linked_after(markers[2])
    assert linked_ids(records).count(original["event_id"]) == 1, worker.tail()
    assert worker.alive()


def test_a_worker_killed_mid_stream_loses_nothing(
    kafka_bootstrap: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    """SIGKILL while a batch is in flight; the restarted worker finishes the batch.

    At-least-once: anything not committed is processed again, and de-duplication keeps
    the linked stream to one record per event.
    """
    run_id = uuid.uuid4().hex[:8]
    batch = [event(f"batch{i:02d}-{run_id}") for i in range(40)]
    publish(kafka_bootstrap, write(tmp_path / "batch.jsonl", *batch))
    worker.stop(signal.SIGKILL)  # whatever it had done by now, mid-stream or not
    worker.start()
    wanted = {e["event_id"] for e in batch}

    def complete(records: list[dict[str, Any]]) -> bool:
        return wanted <= set(linked_ids(records))

    records = run(read_topic(kafka_bootstrap, "broker.linked.v1", complete, timeout=120))
    ids = [i for i in linked_ids(records) if i in wanted]
    assert set(ids) == wanted, worker.tail()


def test_a_poison_message_never_stalls_the_partition(
    kafka_bootstrap: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    """Garbage bytes straight onto an inbound topic, then a good event behind them."""
    from aiokafka import AIOKafkaProducer

    run_id = uuid.uuid4().hex[:8]
    poison = f"\x00\x01 not avro {run_id}".encode()

    async def send_poison() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait("police.vist.v1", poison)
        finally:
            await producer.stop()

    run(send_poison())
    good = event(f"after-poison-{run_id}")
    publish(kafka_bootstrap, write(tmp_path / "after.jsonl", good))

    def done(records: list[dict[str, Any]]) -> bool:
        return good["event_id"] in linked_ids(records)

    linked = run(read_topic(kafka_bootstrap, "broker.linked.v1", done))
    assert good["event_id"] in linked_ids(linked), worker.tail()

    def kept(records: list[dict[str, Any]]) -> bool:
        return any(r["raw"] and poison in r["raw"] for r in records)

    rejected = run(read_topic(kafka_bootstrap, "broker.rejected.v1", kept))
    [mine] = [r for r in rejected if poison in r["raw"]]
    assert mine["value"]["reasons"][0]["field"] == "payload"
    assert worker.alive()
    # and `mash-broker tail` shows it, decoded, as an operator would see it
    tailed = subprocess.run(
        [
            sys.executable,
            "-m",
            "broker.cli",
            "tail",
            "broker.rejected.v1",
            "--from-beginning",
            "--idle-timeout",
            "5",
        ],
        env={**worker.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert any(line["value"]["rejection_id"] == mine["value"]["rejection_id"] for line in lines)
