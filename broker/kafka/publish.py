"""`mash-broker publish`: what an agency system does, from a JSON-lines file.

Each line is checked exactly as the broker will check it, so that a publisher learns of
a bad line at once, with its line number and every reason, and the rest still go. With
`--send-invalid` the bad lines are sent too (Avro-encoded where the schema allows, the
raw bytes otherwise), to exercise the broker's own rejection path end to end.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer

from broker.codec import codec_from_settings
from broker.errors import InvalidInput
from broker.kafka.admin import client_options, refusals_as_not_authorized
from broker.models.events import Event
from broker.models.ids import stable_id
from broker.pipeline.ingest import Accepted, ingest_json
from broker.pipeline.jsonlines import json_lines, read_json
from broker.settings import Settings
from broker.topics import topic_for_event_type


def partition_key(event: Event) -> str:
    """The key events.md gives each topic (a school move by transition, a record by id)."""
    subject = event.subject
    match event.event_type:
        case "school.transition":
            return str(getattr(event, "transition_id", event.event_id))
        case "socialcare.record":
            return subject.socialcare_id or event.event_id
        case "agency.involvement":
            who = subject.nhs_number or subject.socialcare_id or subject.upn
            who = who or f"{subject.given_name}|{subject.family_name}|{subject.date_of_birth}"
            # hashed: a topic key must carry no personal data
            return stable_id("inv", who, str(getattr(event, "agency", "")))
        case _:
            return event.event_id


async def publish_file(
    settings: Settings, path: Path, *, send_invalid: bool = False, err: TextIO = sys.stderr
) -> int:
    codec = codec_from_settings(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        **client_options(settings),  # TLS/SASL: an agency publishes as its own principal
    )
    sent = bad = 0
    try:
        with refusals_as_not_authorized("connecting to Kafka"):
            await producer.start()
        with path.open("rb") as handle:
            for number, line in json_lines(handle):
                result = ingest_json(line)
                if isinstance(result, Accepted):
                    topic = topic_for_event_type(result.event.event_type)
                    assert topic is not None  # an accepted event has a known type
                    value = codec.encode(result.event, topic=topic)
                    key = partition_key(result.event)
                    with refusals_as_not_authorized(f"writing {topic}"):
                        await producer.send_and_wait(topic, value, key=key.encode())
                    sent += 1
                    continue
                bad += 1
                for problem in result.problems:
                    print(f"{path.name}:{number}: {problem.field}: {problem.message}", file=err)
                if send_invalid and (encoded := _invalid_payload(codec, line)) is not None:
                    with refusals_as_not_authorized(f"writing {encoded[0]}"):
                        await producer.send_and_wait(encoded[0], encoded[1])
                    sent += 1
    finally:
        await producer.stop()
    print(f"published {sent} record(s); {bad} line(s) had problems", file=err)
    return 1 if bad else 0


def _invalid_payload(codec: Any, line: bytes) -> tuple[str, bytes] | None:
    """The topic and bytes to send for a line the broker should reject."""
    try:
        data = read_json(line)
    except InvalidInput:
        return None
    if not isinstance(data, dict):
        return None
    topic = topic_for_event_type(str(data.get("event_type")))
    if topic is None:
        return None
    try:
        return topic, codec.encode_dict(str(data["event_type"]), data, topic=topic)
    except InvalidInput:
        return topic, line
