"""A production estate of mash-broker, as data: what the AsyncAPI document and the
Kubernetes/Strimzi manifests are generated from.

Why one module: the contract a police force's engineer reads (schemas/asyncapi.yaml)
and the resources a council's platform team applies (deploy/k8s/) must say the same
thing about every topic (its partitions, cleanup and retention, its messages and key)
and every principal (what it may write and read). Both are derived here from the
declarations (broker.topics), the ACLs (broker.kafka.acls) and the Avro schemas, so
neither can drift from the cluster the tests prove.

Pure: nothing here connects or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel

from broker.codec import MESSAGE_SCHEMAS
from broker.errors import ConfigurationError
from broker.kafka.acls import AclBinding, Operation, PatternType, Principals, ResourceType
from broker.models import events, internal, outputs
from broker.models.common import Agency
from broker.settings import Settings
from broker.topics import (
    ACCEPTED,
    ALERTS,
    AUDIT_ACCESS,
    AUDIT_DISCLOSURE,
    DAY_MS,
    INBOUND,
    LINKED,
    REJECTED,
    TopicSpec,
    retention_ms,
)

PARTITIONS: Final[int] = Settings.model_fields["topic_partitions"].default
"""deploy/README.md, "Partitions: 6, once": the worker's own default (one decision, not
two numbers to keep equal). 1, 2, 3 or 6 workers share evenly, and a worker pays in
latency for each partition it owns (12 measured slower at 100 events/s)."""
REPLICAS: Final = 3
MIN_INSYNC_REPLICAS: Final = 2
TOMBSTONE_RETENTION_MS: Final = DAY_MS
"""How long a compacted topic keeps a tombstone (`delete.retention.ms`): one day."""

APP_ID: Final = "mash-broker"
WORKER_USER: Final = "mash-broker"
WEB_USER: Final = "mash-web"
AUDITOR_USER: Final = "mash-audit"


def agency_user(agency: Agency) -> str:
    """An agency system's Kafka user: a Kubernetes name (no underscore), never an
    agency's bare name, so that `User:mash` (the MASH team's system) is not confused
    with the broker's own principals."""
    return f"agency-{agency.value.replace('_', '-')}"


PRINCIPALS: Final = Principals(
    worker=f"User:{WORKER_USER}",
    web=f"User:{WEB_USER}",
    agencies={agency: f"User:{agency_user(agency)}" for agency in Agency},
    app_id=APP_ID,
    auditor=f"User:{AUDITOR_USER}",
)
"""Every role of the estate with its SCRAM user (Strimzi's KafkaUser names them)."""


def role_of(principal: str) -> str:
    """ "worker", "web", "auditor" or the agency's name, for `principal` in PRINCIPALS."""
    if principal == PRINCIPALS.worker:
        return "worker"
    if principal == PRINCIPALS.web:
        return "web"
    if principal == PRINCIPALS.auditor:
        return "auditor"
    for agency, named in PRINCIPALS.agencies.items():
        if named == principal:
            return agency.value
    raise ConfigurationError(f"{principal} is not a principal of the estate")


def partitions(topic: TopicSpec) -> int:
    return topic.partitions or PARTITIONS


def topic_config(topic: TopicSpec) -> dict[str, str | int]:
    """The topic's Kafka configuration in production (deploy/README.md, "Topics")."""
    config: dict[str, str | int] = {"min.insync.replicas": MIN_INSYNC_REPLICAS}
    retention = retention_ms(topic)
    if retention is None:
        config["cleanup.policy"] = "compact"
        config["delete.retention.ms"] = TOMBSTONE_RETENTION_MS
    else:
        config["cleanup.policy"] = "delete"
        config["retention.ms"] = retention
    return config


@dataclass(frozen=True)
class Carries:
    """What a topic carries: its messages (Avro full names) and what its key is."""

    messages: tuple[str, ...]
    key: str


_EVENT_KEYS: Final[Mapping[str, str]] = {
    "school.transition": "the transition_id",
    "agency.involvement": "the child's identity and the agency (compacted: latest per key)",
    "socialcare.record": "the socialcare_id (compacted: the latest record per child)",
}


def _schema(cls: type[BaseModel]) -> str:
    return MESSAGE_SCHEMAS[cls]


def carries(topic: TopicSpec) -> Carries:
    """The messages on `topic` and its key, as broker/pipeline/records.py routes them."""
    for event_type, spec in INBOUND.items():
        if spec is topic:
            key = _EVENT_KEYS.get(event_type, "the event_id")
            return Carries((_schema(events.EVENT_CLASSES[event_type]),), key)
    child = "the broker's child id (a hash: no personal data)"
    fixed: dict[str, Carries] = {
        ALERTS.name: Carries((_schema(outputs.Alert),), child),
        AUDIT_DISCLOSURE.name: Carries((_schema(outputs.AuditDisclosure),), child),
        AUDIT_ACCESS.name: Carries((_schema(outputs.AccessAudit),), child),
        REJECTED.name: Carries(
            (_schema(outputs.Rejected),), "the refused event's event_id, when it could be read"
        ),
        ACCEPTED.name: Carries(
            tuple(_schema(cls) for cls in events.EVENT_CLASSES.values()), "the event_id"
        ),
        LINKED.name: Carries((_schema(internal.ChildMessage),), child),
    }
    if topic.name in fixed:
        return fixed[topic.name]
    if topic.name.endswith(".notification.v1"):
        return Carries((_schema(outputs.Notification),), child)
    if topic.name.endswith(".feedback.v1"):
        return Carries((_schema(outputs.Feedback),), "the event_id it is about")
    raise ConfigurationError(f"topic {topic.name} carries no declared message")


def topic_rights(
    bindings: list[AclBinding], topic: str
) -> tuple[list[AclBinding], list[AclBinding]]:
    """The literal-topic bindings that let a principal write, and read, `topic`."""

    def on(operation: Operation) -> list[AclBinding]:
        return [
            b
            for b in bindings
            if b.resource_type is ResourceType.TOPIC
            and b.pattern_type is PatternType.LITERAL
            and b.resource_name == topic
            and b.operation is operation
        ]

    return on(Operation.WRITE), on(Operation.READ)
