"""schemas/asyncapi.yaml: generated, current, valid AsyncAPI 3.0.0, and saying exactly
what the ACLs allow and the Avro schemas hold."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from broker.cli.main import main
from broker.codec.schemas import load_current
from broker.kafka.acls import Operation, PatternType, ResourceType, all_bindings
from broker.kafka.asyncapi import asyncapi_document, render
from broker.kafka.estate import PRINCIPALS, role_of
from broker.settings import PROJECT_ROOT
from broker.topics import all_topics

SCHEMAS = PROJECT_ROOT / "schemas"
FILE = SCHEMAS / "asyncapi.yaml"
SPEC = Path(__file__).parents[1] / "schemas" / "asyncapi-3.0.0" / "asyncapi-3.0.0.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(SCHEMAS)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    spec = json.loads(SPEC.read_text("utf-8"))
    return jsonschema.Draft7Validator(spec)


def test_the_file_in_the_repository_is_what_the_command_writes(document: dict[str, Any]) -> None:
    assert FILE.read_text("utf-8") == render(document), (
        "schemas/asyncapi.yaml is stale: run `mash-broker contract asyncapi`"
    )


def test_the_command_checks_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "asyncapi.yaml"
    assert main(["contract", "asyncapi", "--output", str(target), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["contract", "asyncapi", "--output", str(target)]) == 0
    assert target.read_text("utf-8") == FILE.read_text("utf-8")
    assert main(["contract", "asyncapi", "--output", str(target), "--check"]) == 0


def test_the_file_is_valid_asyncapi_3(validator: jsonschema.Draft7Validator) -> None:
    loaded = yaml.safe_load(FILE.read_text("utf-8"))
    errors = sorted(validator.iter_errors(loaded), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_the_validation_is_not_vacuous(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    """A wrong action, a channel with an unknown field, a broken Avro schema and a bad
    Kafka binding are each refused by the vendored schema."""
    breakages = [
        ("operations", "police.send.police.vist.v1", "action", "publish"),
        ("channels", "police.vist.v1", "topic", "police.vist.v1"),
        ("components", "schemas", "uk.gov.mash.v1.PoliceVist", "schema", "type", "recrod"),
        ("channels", "mash.alert.v1", "bindings", "kafka", "partitions", 0),
    ]
    for *path, key, value in breakages:
        broken = copy.deepcopy(document)
        node = broken
        for part in path:
            node = node[part]
        node[key] = value
        assert not validator.is_valid(broken), f"{path}/{key}={value!r} was accepted"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert len(refs) > 200
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict), ref


def test_every_declared_topic_is_a_channel_with_its_retention(document: dict[str, Any]) -> None:
    channels = document["channels"]
    assert set(channels) == {t.name for t in all_topics()}
    assert channels["audit.disclosure.v1"]["bindings"]["kafka"]["topicConfiguration"] == {
        "cleanup.policy": ["delete"],
        "retention.ms": -1,
    }
    config = channels["socialcare.record.v1"]["bindings"]["kafka"]["topicConfiguration"]
    assert config["cleanup.policy"] == ["compact"]
    assert "retention.ms" not in config
    assert channels["police.vist.v1"]["bindings"]["kafka"]["topicConfiguration"][
        "retention.ms"
    ] == (400 * 86_400_000)
    assert channels["broker.accepted.v1"]["bindings"]["kafka"]["partitions"] == 1
    assert len(channels["broker.accepted.v1"]["messages"]) == 11


def test_every_message_is_the_current_avro_schema(document: dict[str, Any]) -> None:
    current = load_current(SCHEMAS)
    schemas = document["components"]["schemas"]
    assert set(schemas) == set(current)
    for name, entry in schemas.items():
        assert entry["schemaFormat"].startswith("application/vnd.apache.avro")
        assert entry["schema"] == json.loads(current[name].text)


def _operations(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (op["tags"][0]["$ref"].rsplit("/", 1)[1], op["action"], op["channel"]["$ref"][11:])
        for op in document["operations"].values()
    }


def test_the_operations_are_exactly_the_acls_on_declared_topics(document: dict[str, Any]) -> None:
    declared = {t.name for t in all_topics()}
    action = {Operation.WRITE: "send", Operation.READ: "receive"}
    granted = {
        (role_of(b.principal), action[b.operation], b.resource_name)
        for b in all_bindings(PRINCIPALS)
        if b.resource_type is ResourceType.TOPIC
        and b.pattern_type is PatternType.LITERAL
        and b.resource_name in declared
        and b.operation in action
    }
    assert _operations(document) == granted


def test_an_agency_sends_what_it_publishes_and_receives_only_its_own(
    document: dict[str, Any],
) -> None:
    police = {(a, c) for role, a, c in _operations(document) if role == "police"}
    assert police == {
        ("send", "police.vist.v1"),
        ("send", "agency.involvement.v1"),
        ("receive", "agency.police.notification.v1"),
        ("receive", "agency.police.feedback.v1"),
    }
    readers = {(role, c) for role, a, c in _operations(document) if a == "receive"}
    assert not {r for r, c in readers if c == "broker.rejected.v1"}
    # who saw what: the page (the auditor's view of it) and the auditor's own principal
    assert {r for r, c in readers if c == "audit.access.v1"} == {"web", "auditor"}
    assert {r for r, c in readers if c == "mash.alert.v1"} == {"web"}
    groups = document["operations"]["police.receive.agency.police.notification.v1"]["bindings"]
    assert groups["kafka"]["groupId"]["pattern"] == r"^agency\.police\..+$"


def test_a_topic_without_a_declared_retention_is_refused() -> None:
    from broker.errors import InvalidInput
    from broker.topics import TopicSpec, retention_ms

    assert all(retention_ms(t) != 0 for t in all_topics())
    with pytest.raises(InvalidInput):
        retention_ms(TopicSpec("someone.new.v1"))


def test_the_contract_tells_consumers_to_read_committed(document: dict[str, Any]) -> None:
    """What the worker sends agencies is written in transactions (the link and child
    loops): an agency's consumer reading uncommitted could see an aborted batch's records."""
    description = document["info"]["description"]
    assert "isolation.level=read_committed" in description
    assert "notifications" in description.split("**Read committed.**")[1]
