"""`mash-broker what-if kafka`: the inbound topics of a real Kafka, read from the start,
give the same difference as the file they were published from, and the cluster is left
exactly as it was (every topic's end offsets unchanged, no consumer group created)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bench.council import Council
from broker.cli.main import main
from broker.kafka.admin import admin_client, create_topics
from broker.kafka.history import end_offsets
from broker.kafka.local import LocalKafka
from broker.kafka.publish import publish_file
from broker.pipeline.ingest import Accepted, ingest_json
from broker.settings import Settings
from broker.topics import INBOUND_TOPICS, all_topics, topic_for_event_type

PARTITIONS = 3


def history_file(tmp_path: Path) -> Path:
    """A council's events that the broker accepts (a refused line cannot be published
    as it is), in the order the Kafka history is read: by recorded_at, and the topics
    in their declared order where two events were recorded at the same instant."""
    accepted = []
    for line in Council(seed=3, events=1200).lines():
        result = ingest_json(line)
        if isinstance(result, Accepted):
            topic = topic_for_event_type(result.event.event_type)
            assert topic is not None
            accepted.append((result.event.recorded_at, INBOUND_TOPICS.index(topic), line))
    accepted.sort(key=lambda a: (a[0], a[1]))
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"".join(line.rstrip(b"\n") + b"\n" for *_, line in accepted))
    return path


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    for varying in ("source", "seconds"):
        del data[varying]
    return data


async def consumer_groups(bootstrap: str) -> list[Any]:
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        return list(await admin.list_consumer_groups())
    finally:
        await admin.close()


def test_the_inbound_topics_give_the_files_difference_and_nothing_is_written(
    own_kafka: LocalKafka,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bootstrap = own_kafka.bootstrap
    monkeypatch.setenv("MASH_KAFKA_BOOTSTRAP", bootstrap)
    settings = Settings()
    asyncio.run(create_topics(bootstrap, all_topics(), PARTITIONS, 1))
    events = history_file(tmp_path)
    assert asyncio.run(publish_file(settings, events)) == 0
    every_topic = [t.name for t in all_topics()]
    before = asyncio.run(end_offsets(settings, every_topic))
    assert sum(before.values()) == len(events.read_bytes().splitlines())

    config = tmp_path / "new.toml"
    config.write_text("[thresholds]\ncumulative_concerns_every = 2\n")
    from_kafka = report(["what-if", "--config", str(config), "kafka", "--json"], capsys)
    from_file = report(["what-if", "--config", str(config), str(events), "--json"], capsys)

    assert from_kafka == from_file
    assert not from_kafka["no_difference"]
    assert from_kafka["alert_changes"]  # a difference worth comparing
    assert from_kafka["events"] == sum(before.values())
    assert asyncio.run(end_offsets(settings, every_topic)) == before
    assert asyncio.run(consumer_groups(bootstrap)) == []
