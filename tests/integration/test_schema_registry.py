"""The Confluent wire format on the real Kafka and a real schema registry.

With `MASH_SCHEMA_REGISTRY_URL` set, `mash-broker publish` registers each event's schema
under `<topic>-value` and frames the record `00` + the registry's id; the real worker
reads it by the id, and frames its own records with the ids the registry gives it; a
record naming an id the registry does not hold is kept on broker.rejected.v1, its bytes
whole, with the reason. The registry's BACKWARD rule refuses an incompatible change of a
subject, and `publish` then stops with what to do. The registry is Apicurio Registry
(broker/kafka/registry.py: in memory, on loopback, built from Maven Central), asked
through its Confluent-compatible API, the one the broker's client speaks.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from broker.codec import AvroCodec, CachingSchemaRegistry, HttpSchemaRegistry
from broker.kafka.admin import create_topics
from broker.kafka.local import LocalKafka
from broker.kafka.registry import LocalRegistry
from broker.settings import Settings
from broker.topics import all_topics
from tests.integration.worker import WorkerProcess, publish, read_topic, run, worker_env
from tests.unit.test_ingest import GOOD

SCHEMAS = Settings().schemas_dir
VIST_SUBJECT = "police.vist.v1-value"
VIST = "uk.gov.mash.v1.PoliceVist"


def _event(event_id: str) -> dict[str, Any]:
    data = deepcopy(GOOD)
    data["event_id"] = event_id
    return data


def _write(path: Path, *events: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def _with(event_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda records: any(event_id in json.dumps(r["value"]) for r in records)


def _versions(registry: LocalRegistry, subject: str) -> list[Any]:
    answer = registry.call("GET", f"/subjects/{subject}/versions")
    assert isinstance(answer, list), answer
    return answer


def _latest(registry: LocalRegistry, subject: str) -> dict[str, Any]:
    answer = registry.call("GET", f"/subjects/{subject}/versions/latest")
    assert isinstance(answer, dict), answer
    return answer


def _framed_id(raw: bytes) -> int:
    assert raw[:1] == b"\x00", raw[:10].hex()
    return int.from_bytes(raw[1:5], "big")


async def _send_raw(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


def test_publish_and_the_worker_honour_registry_ids_on_the_real_kafka(
    own_kafka: LocalKafka, schema_registry: LocalRegistry, tmp_path: Path
) -> None:
    bootstrap = own_kafka.bootstrap
    run(create_topics(bootstrap, all_topics(), 1, 1))
    env = {"MASH_SCHEMA_REGISTRY_URL": schema_registry.url}
    reader = AvroCodec(SCHEMAS, CachingSchemaRegistry(HttpSchemaRegistry(schema_registry.url)))
    worker_environment = worker_env(bootstrap, tmp_path / "state", "mash-registry-test")
    worker = WorkerProcess({**worker_environment, **env}, tmp_path / "worker.log")
    worker.start()
    try:
        _published_and_linked(bootstrap, tmp_path, env, reader, schema_registry, worker)
        _an_unknown_id_is_rejected_with_a_reason(bootstrap, tmp_path, env, reader, worker)
    finally:
        worker.stop()


def _published_and_linked(
    bootstrap: str,
    tmp_path: Path,
    env: dict[str, str],
    reader: AvroCodec,
    registry: LocalRegistry,
    worker: WorkerProcess,
) -> None:
    event = _event(f"registry-{uuid.uuid4().hex[:8]}")
    result = publish(bootstrap, _write(tmp_path / "one.jsonl", event), extra_env=env)
    assert result.returncode == 0, result.stderr

    [sent] = run(read_topic(bootstrap, "police.vist.v1", _with(event["event_id"]), codec=reader))
    vist_id = _framed_id(sent["raw"])
    # one version under the topic's subject: our schema, under the id in the framing
    assert _versions(registry, VIST_SUBJECT) == [1]
    latest = _latest(registry, VIST_SUBJECT)
    assert latest["id"] == vist_id
    assert json.loads(latest["schema"]) == json.loads(reader.current[VIST].text)

    linked = run(read_topic(bootstrap, "broker.linked.v1", _with(event["event_id"]), codec=reader))
    assert linked, worker.tail()
    [mine] = [r for r in linked if event["event_id"] in json.dumps(r["value"])]
    assert mine["value"]["event"]["event_id"] == event["event_id"]
    assert _latest(registry, "broker.linked.v1-value")["id"] == _framed_id(mine["raw"])
    accepted = run(
        read_topic(bootstrap, "broker.accepted.v1", _with(event["event_id"]), codec=reader)
    )
    # the worker re-encoded the event under the same schema: the registry's same id
    assert {_framed_id(r["raw"]) for r in accepted} == {vist_id}


def _an_unknown_id_is_rejected_with_a_reason(
    bootstrap: str, tmp_path: Path, env: dict[str, str], reader: AvroCodec, worker: WorkerProcess
) -> None:
    body = reader.encode_dict("police.vist", _event("never-registered"), topic="police.vist.v1")[5:]
    unknown = b"\x00" + (4242).to_bytes(4, "big") + body
    run(_send_raw(bootstrap, "police.vist.v1", unknown))
    marker = _event(f"after-{uuid.uuid4().hex[:8]}")
    assert publish(bootstrap, _write(tmp_path / "two.jsonl", marker), extra_env=env).returncode == 0

    def kept(records: list[dict[str, Any]]) -> bool:
        return any(base64.b64decode(r["value"]["original"]) == unknown for r in records)

    rejected = run(read_topic(bootstrap, "broker.rejected.v1", kept, codec=reader))
    [mine] = [r for r in rejected if base64.b64decode(r["value"]["original"]) == unknown]
    assert mine["value"]["topic"] == "police.vist.v1"
    reasons = " ".join(p["message"] for p in mine["value"]["reasons"])
    assert "4242" in reasons, mine["value"]["reasons"]
    # ...and the stream goes on: the next event is linked
    linked = run(read_topic(bootstrap, "broker.linked.v1", _with(marker["event_id"]), codec=reader))
    assert any(marker["event_id"] in json.dumps(r["value"]) for r in linked), worker.tail()
    assert worker.alive()


def test_the_registry_backward_rule_refuses_an_incompatible_change(
    own_kafka: LocalKafka, schema_registry: LocalRegistry, tmp_path: Path
) -> None:
    """The subject already holds an earlier contract without `out_of_hours`; ours adds it
    with no default, so a reader of ours cannot read the records written under the earlier
    one: BACKWARD refuses it, and `publish` stops (exit 2) before sending anything. With
    the rule set to NONE the same publish goes through, so the rule was the reason. On a
    Kafka of its own: no other test's worker meets its Confluent-framed record."""
    kafka_bootstrap = own_kafka.bootstrap
    run(create_topics(kafka_bootstrap, all_topics(), 1, 1))
    env = {"MASH_SCHEMA_REGISTRY_URL": schema_registry.url}
    ours = json.loads(AvroCodec(SCHEMAS).current[VIST].text)
    earlier = {**ours, "fields": [f for f in ours["fields"] if f["name"] != "out_of_hours"]}
    assert len(earlier["fields"]) == len(ours["fields"]) - 1
    subject_path = f"/subjects/{VIST_SUBJECT}/versions"
    schema_registry.call("POST", subject_path, {"schema": json.dumps(earlier)})
    # a compatible change of the earlier contract (a field with a default) is accepted
    optional = {"name": "note", "type": ["null", "string"], "default": None}
    later = {**earlier, "fields": [*earlier["fields"], optional]}
    schema_registry.call("POST", subject_path, {"schema": json.dumps(later)})
    assert _versions(schema_registry, VIST_SUBJECT) == [1, 2]

    event = _event(f"refused-{uuid.uuid4().hex[:8]}")
    refused = publish(kafka_bootstrap, _write(tmp_path / "refused.jsonl", event), extra_env=env)
    assert refused.returncode == 2, refused.stderr
    assert f"{VIST_SUBJECT} as incompatible (409)" in refused.stderr
    assert _versions(schema_registry, VIST_SUBJECT) == [1, 2]

    schema_registry.set_compatibility("NONE")
    accepted = publish(kafka_bootstrap, _write(tmp_path / "accepted.jsonl", event), extra_env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert _versions(schema_registry, VIST_SUBJECT) == [1, 2, 3]
    assert json.loads(_latest(schema_registry, VIST_SUBJECT)["schema"]) == ours
