"""deploy/k8s/: generated, current, valid offline, and granting exactly the computed ACLs.

Built-in kinds are validated with kubernetes-validate (strict: an unknown field is an
error); Strimzi's and the Prometheus operator's kinds against their CRDs' schemas,
vendored with their versions in tests/schemas/ (README there), made strict the same way.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from broker.cli.main import main
from broker.kafka.acls import (
    AclBinding,
    Operation,
    PatternType,
    Principals,
    ResourceType,
    all_bindings,
    bindings_by_role,
)
from broker.kafka.estate import PRINCIPALS, role_of
from broker.kafka.manifests import rendered
from broker.settings import PROJECT_ROOT, Settings
from broker.topics import all_topics, retention_ms

K8S = PROJECT_ROOT / "deploy" / "k8s"
VENDORED = Path(__file__).parents[1] / "schemas"
KUBERNETES = "1.33"
CRDS = [
    *sorted((VENDORED / "strimzi-1.2.0").glob("*-Crd-*.yaml")),
    VENDORED / "prometheus-operator-0.93.0" / "monitoring.coreos.com_servicemonitors.yaml",
]


@cache
def _parsed() -> tuple[dict[str, Any], ...]:
    found: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [r for r in yaml.safe_load_all(path.read_text("utf-8")) if r]
    return tuple(found)


def resources() -> list[dict[str, Any]]:
    """Every resource of deploy/k8s/ (a copy: a test may break one)."""
    return copy.deepcopy(list(_parsed()))


def _strict(node: Any) -> Any:
    """A CRD's openAPIV3Schema as a JSON schema that refuses unknown fields, as the API
    server prunes them silently (and `kubectl --validate=strict` refuses them)."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items()}
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


@cache
def crd_validators() -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    validators = {}
    for path in CRDS:
        crd = yaml.safe_load(path.read_text("utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}
            validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    return validators


def validate(resource: dict[str, Any]) -> None:
    """Raises (jsonschema.ValidationError) if `resource` is not valid for its kind."""
    key = (resource["apiVersion"], resource["kind"])
    if key in crd_validators():
        crd_validators()[key].validate(resource)
    else:
        kubernetes_validate.validate(resource, KUBERNETES, strict=True)


def test_the_files_in_the_repository_are_what_the_command_writes() -> None:
    texts = rendered()
    assert {p.name for p in K8S.glob("*.yaml")} == set(texts)
    for name, text in texts.items():
        assert (K8S / name).read_text("utf-8") == text, (
            f"deploy/k8s/{name} is stale: run `mash-broker kafka manifests`"
        )


def test_the_command_checks_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kafka", "manifests", "--output-dir", str(tmp_path), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    (tmp_path / "left-over.yaml").write_text("kind: Secret\n")
    assert main(["kafka", "manifests", "--output-dir", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {p.name for p in K8S.glob("*.yaml")}
    assert main(["kafka", "manifests", "--output-dir", str(tmp_path), "--check"]) == 0
    (tmp_path / "topics.yaml").write_text("# edited by hand\n")
    assert main(["kafka", "manifests", "--output-dir", str(tmp_path), "--check"]) == 1


def test_every_resource_is_valid_for_its_kind() -> None:
    found = resources()
    kinds = {r["kind"] for r in found}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"} <= kinds
    assert {"StatefulSet", "Deployment", "Service", "ServiceMonitor"} <= kinds
    for resource in found:
        validate(resource)


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("KafkaTopic", ("spec", "partitons"), 12),
        ("KafkaUser", ("spec", "authorization", "acls", 0, "operations", 0), "Reed"),
        ("Kafka", ("spec", "kafka", "listeners", 0, "type"), "public"),
        ("ServiceMonitor", ("spec", "endpoints", 0, "scrapeEvery"), "30s"),
        ("StatefulSet", ("spec", "template", "spec", "containers", 0, "livenessProbe"), "yes"),
        ("Deployment", ("spec", "replicas"), "one"),
    ],
)
def test_the_validation_refuses_a_broken_resource(
    kind: str, path: tuple[Any, ...], value: Any
) -> None:
    resource = copy.deepcopy(next(r for r in resources() if r["kind"] == kind))
    node = resource
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate(resource)


STRIMZI_TYPES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "cluster": ResourceType.CLUSTER,
    "transactionalId": ResourceType.TRANSACTIONAL_ID,
}
"""Strimzi's resource types (its KafkaUser schema), read back independently of
broker.kafka.manifests."""


def _acls_of(user: dict[str, Any]) -> set[AclBinding]:
    principal = f"User:{user['metadata']['name']}"
    pattern = {"literal": PatternType.LITERAL, "prefix": PatternType.PREFIXED}
    found = set()
    for rule in user["spec"]["authorization"]["acls"]:
        assert rule["type"] == "allow"
        resource = rule["resource"]
        rtype = STRIMZI_TYPES[resource["type"]]
        for operation in rule["operations"]:
            found.add(
                AclBinding(
                    principal,
                    rtype,
                    resource.get("name", "kafka-cluster"),
                    pattern[resource.get("patternType", "literal")],
                    Operation(operation.upper()),
                )
            )
    return found


def users() -> list[dict[str, Any]]:
    return [r for r in resources() if r["kind"] == "KafkaUser"]


def test_the_kafka_users_carry_exactly_the_computed_acls() -> None:
    granted = set().union(*(_acls_of(u) for u in users()))
    assert granted == set(all_bindings(PRINCIPALS))
    assert {f"User:{u['metadata']['name']}" for u in users()} == {
        PRINCIPALS.worker,
        PRINCIPALS.web,
        PRINCIPALS.auditor,
        *PRINCIPALS.agencies.values(),
    }


def _renamed(bindings: set[AclBinding], principal: str) -> set[tuple[Any, ...]]:
    return {
        (principal, b.resource_type, b.resource_name, b.pattern_type, b.operation) for b in bindings
    }


def test_each_role_has_the_acls_the_secured_kafka_test_proves() -> None:
    """tests/integration/test_acls.py applies `mash-broker kafka acls` for its own
    principals to a Kafka with the StandardAuthorizer and shows what each may do; each
    KafkaUser of the same role holds the same bindings, under its own name."""
    from tests.integration.test_acls import PRINCIPALS as PROVEN

    proven = bindings_by_role(PROVEN)
    by_role = {role_of(f"User:{u['metadata']['name']}"): _acls_of(u) for u in users()}
    for role, bindings in proven.items():
        name = role.removeprefix("agency ")
        assert _renamed(by_role[name], "P") == _renamed(set(bindings), "P"), role
    assert isinstance(PROVEN, Principals)


def test_every_declared_topic_is_a_kafka_topic_as_declared() -> None:
    topics = {r["spec"]["topicName"]: r["spec"] for r in resources() if r["kind"] == "KafkaTopic"}
    assert set(topics) == {t.name for t in all_topics()}
    for topic in all_topics():
        spec = topics[topic.name]
        assert spec["partitions"] == (topic.partitions or 6)  # deploy/README.md, "Partitions"
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        assert spec["config"]["cleanup.policy"] == ("compact" if topic.compacted else "delete")
        assert spec["config"].get("retention.ms") == retention_ms(topic)
    assert topics["broker.accepted.v1"]["partitions"] == 1
    assert topics["audit.disclosure.v1"]["config"]["retention.ms"] == -1


def _containers() -> dict[str, dict[str, Any]]:
    return {
        r["metadata"]["name"]: r["spec"]["template"]["spec"]["containers"][0]
        for r in resources()
        if r["kind"] in ("StatefulSet", "Deployment")
    }


def test_the_workloads_probe_health_and_connect_as_their_users() -> None:
    names = {u["metadata"]["name"] for u in users()}
    settings = set(Settings.model_fields)
    for name, container in _containers().items():
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert container["resources"]["requests"], name
        env = {e["name"]: e for e in container["env"]}
        user = env["MASH_KAFKA_SASL_USERNAME"]["value"]
        assert user in names
        assert env["MASH_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == user
        for variable in env:  # a misspelt MASH_ variable would be ignored silently
            if variable.startswith("MASH_"):
                assert variable.removeprefix("MASH_").lower() in settings, variable


def test_each_worker_has_its_own_state_volume_and_is_scraped() -> None:
    (workers,) = [r for r in resources() if r["kind"] == "StatefulSet"]
    claim = workers["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    container = workers["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    state_dir = {e["name"]: e.get("value") for e in container["env"]}["MASH_STATE_DIR"]
    assert state_dir.startswith(mounts[claim] + "/")
    (monitor,) = [r for r in resources() if r["kind"] == "ServiceMonitor"]
    services = [r for r in resources() if r["kind"] == "Service"]
    scraped = [
        s
        for s in services
        if s["metadata"]["labels"].items() >= monitor["spec"]["selector"]["matchLabels"].items()
    ]
    assert [s["metadata"]["name"] for s in scraped] == [workers["spec"]["serviceName"]]
    ports = {p["name"] for p in scraped[0]["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
