"""The Confluent wire format on the real Kafka, with `MASH_SCHEMA_REGISTRY_URL` set.

`mash-broker publish` registers each event's schema under `<topic>-value` and frames the
record `00` + the registry's id; the real worker reads it by fetching that id, and frames
its own records with the ids the registry gives it; a record naming an id the registry
does not hold is kept on broker.rejected.v1, its bytes whole, with the reason; a schema
the registry refuses stops `publish` with what to do. The registry is the stand-in of
tests/registry.py, over HTTP: no real registry could be run here (it says
what was refused), so a registry's own BACKWARD rule is not proven here.
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
from broker.settings import Settings
from broker.topics import all_topics
from tests.integration.worker import WorkerProcess, publish, read_topic, run, worker_env
from tests.registry import RegistryState, standin_registry
from tests.unit.test_ingest import GOOD

SCHEMAS = Settings().schemas_dir


def _event(event_id: str) -> dict[str, Any]:
    data = deepcopy(GOOD)
    data["event_id"] = event_id
    return data


def _write(path: Path, *events: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def _with(event_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda records: any(event_id in json.dumps(r["value"]) for r in records)


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
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    bootstrap = own_kafka.bootstrap
    run(create_topics(bootstrap, all_topics(), 1, 1))
    with standin_registry() as (url, registry):
        env = {"MASH_SCHEMA_REGISTRY_URL": url}
        reader = AvroCodec(SCHEMAS, CachingSchemaRegistry(HttpSchemaRegistry(url)))
        worker_environment = worker_env(bootstrap, tmp_path / "state", "mash-registry-test")
        worker = WorkerProcess({**worker_environment, **env}, tmp_path / "worker.log")
        worker.start()
        try:
            _published_and_linked(bootstrap, tmp_path, env, reader, registry, worker)
            _an_unknown_id_is_rejected_with_a_reason(bootstrap, tmp_path, env, reader, worker)
            _a_refused_schema_stops_publish(bootstrap, tmp_path, env, registry)
        finally:
            worker.stop()


def _published_and_linked(
    bootstrap: str,
    tmp_path: Path,
    env: dict[str, str],
    reader: AvroCodec,
    registry: RegistryState,
    worker: WorkerProcess,
) -> None:
    event = _event(f"registry-{uuid.uuid4().hex[:8]}")
    result = publish(bootstrap, _write(tmp_path / "one.jsonl", event), extra_env=env)
    assert result.returncode == 0, result.stderr

    [sent] = run(read_topic(bootstrap, "police.vist.v1", _with(event["event_id"]), codec=reader))
    vist_id = _framed_id(sent["raw"])
    assert registry.subjects["police.vist.v1-value"] == [vist_id]
    assert registry.schema(vist_id) == reader.current["uk.gov.mash.v1.PoliceVist"].text

    linked = run(read_topic(bootstrap, "broker.linked.v1", _with(event["event_id"]), codec=reader))
    assert linked, worker.tail()
    [mine] = [r for r in linked if event["event_id"] in json.dumps(r["value"])]
    assert mine["value"]["event"]["event_id"] == event["event_id"]
    child_message_id = _framed_id(mine["raw"])
    assert registry.subjects["broker.linked.v1-value"] == [child_message_id]
    assert vist_id in registry.fetched  # the worker read the event by asking for its id
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


def _a_refused_schema_stops_publish(
    bootstrap: str, tmp_path: Path, env: dict[str, str], registry: RegistryState
) -> None:
    """As a registry answers a schema that breaks the subject's compatibility rule."""
    registry.refused_subjects.add("police.vist.v1-value")
    before = dict(registry.ids)
    event = _event(f"refused-{uuid.uuid4().hex[:8]}")
    result = publish(bootstrap, _write(tmp_path / "three.jsonl", event), extra_env=env)
    assert result.returncode == 2, result.stderr
    assert "police.vist.v1-value as incompatible (409)" in result.stderr
    assert registry.ids == before
