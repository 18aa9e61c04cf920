"""Who may do what on a mash-broker cluster: its Kafka ACLs, computed, as plain data.

Why computed and not written down: every topic is declared once (broker.topics), and ACLs
kept by hand drift from it: a new topic left unreadable stalls the worker, and the usual
"fix" is a wildcard that lets every agency read every child's record. Here each
principal's rights are derived from the declarations and from who publishes what
(events.md, "Topics"), so the unit tests (tests/unit/test_acls.py) can state the
safeguarding properties over the whole set: no agency reads another agency's topics,
the MASH's alerts, the rejected events or the audit; nobody gets a wildcard.

The principals:

- **each agency's** system writes the inbound topics its agency publishes and reads only
  its own `agency.<agency>.notification.v1` and `.feedback.v1`, in consumer groups named
  `agency.<agency>.*` (a prefix that can never match another agency's groups nor the
  worker's);
- **the worker** reads every inbound topic, writes every outbound one, owns the internal
  topics and its faust topics (prefix `<app id>-`: changelogs, the assignor's leader
  topic), and commits in its consumer group `<app id>` (and, running the link stage as a
  transactional loop, in `<app id>-link` with the transactional id `<app id>-link-0`;
  running the ingest stage as a loop, in `<app id>-ingest`; running the child stage as a
  transactional loop, in `<app id>-child` with the transactional ids `<app id>-child-<n>`,
  one per partition of broker.linked.v1);
- **the MASH page** (`mash-broker web`, docs/web.md) reads what its views show (alerts,
  decisions, identity decisions, the disclosure audit, the worker's child-pictures
  changelog) with no consumer group, and writes decisions and the access audit;
- **the auditor** (an information governance officer's or an inspector's own tools) reads
  the two audit topics, `audit.disclosure.v1` and `audit.access.v1`, and nothing else: no
  alert, no event, no picture, no consumer group (it reads as the page does, without
  one); it writes nothing;
- **no operations principal**: the operations view (`/ops`, `/ops.json`, `mash-broker
  status`) is served by the worker over HTTP and never connects to Kafka itself.

Pure: nothing here connects. broker.kafka.secure applies the bindings through the admin
API; `mash-broker kafka acls` prints them as the `kafka-acls.sh` commands an operator runs.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from broker.errors import ConfigurationError
from broker.kafka.tables import PICTURES, changelog_topic
from broker.models.common import Agency
from broker.models.events import SENDERS
from broker.topics import (
    ALERTS,
    AUDIT_ACCESS,
    AUDIT_DISCLOSURE,
    INBOUND,
    all_topics,
    feedback_topic,
    notification_topic,
)


class ResourceType(enum.StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    CLUSTER = "CLUSTER"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"


class PatternType(enum.StrEnum):
    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Operation(enum.StrEnum):
    """Only what the bindings use. Kafka lets READ and WRITE imply DESCRIBE; DESCRIBE is
    still granted explicitly beside them, as kafka-acls.sh's --producer and --consumer do."""

    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DESCRIBE = "DESCRIBE"


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW rule: `principal` may do `operation` on the resource, from any host."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation
    permission: str = "ALLOW"
    host: str = "*"


PUBLISHERS: Final[Mapping[str, frozenset[Agency]]] = {
    **SENDERS,  # events.md's "who publishes", as ingest checks `source.agency` against it
    # Our addition to the contract (docs/contract.md): a MASH *manager* decides who is
    # who, and the page is where that role is checked (docs/web.md). No agency system
    # writes it, so no system can merge two children's records around that check.
    "mash.identity_decision": frozenset(),
}
"""Inbound event type (a key of broker.topics.INBOUND) -> the agencies whose systems
publish it, as events.md's "Topics" table says."""

#: Topics the MASH page writes and the worker never does.
PAGE_WRITES: Final = (
    INBOUND["mash.decision"].name,
    INBOUND["mash.identity_decision"].name,
    AUDIT_ACCESS.name,
)


def page_reads(app_id: str) -> tuple[str, ...]:
    """What the page's views are built from (broker.web.feed.view_topics); the access
    audit too, for the auditor's log on the page (docs/web.md)."""
    return (
        ALERTS.name,
        INBOUND["mash.decision"].name,
        INBOUND["mash.identity_decision"].name,
        AUDIT_DISCLOSURE.name,
        AUDIT_ACCESS.name,
        changelog_topic(app_id, PICTURES),
    )


AUDITOR_READS: Final = (AUDIT_DISCLOSURE.name, AUDIT_ACCESS.name)
"""The only topics the auditor's principal may read: who was told what, who saw what."""


def agency_group_prefix(agency: Agency) -> str:
    """Consumer groups an agency's system may use: `agency.<agency>.` then anything."""
    return f"agency.{agency.value}."


def published_by(agency: Agency) -> list[str]:
    """The inbound topics `agency`'s system may write."""
    return [INBOUND[et].name for et, who in PUBLISHERS.items() if agency in who]


@dataclass(frozen=True)
class Principals:
    """Kafka principals (`User:name`) by role, as the operator names them."""

    worker: str
    web: str | None = None
    agencies: Mapping[Agency, str] = field(default_factory=dict)
    app_id: str = "mash-broker"
    auditor: str | None = None

    def __post_init__(self) -> None:
        named = [
            self.worker,
            *([self.web] if self.web else []),
            *([self.auditor] if self.auditor else []),
            *self.agencies.values(),
        ]
        for principal in named:
            check_principal(principal)
        if len(set(named)) != len(named):
            raise ConfigurationError(
                "every role needs a principal of its own: a shared one would let one "
                "agency (or the page) read what another is told"
            )
        check_app_id(self.app_id)


_PRINCIPAL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9]*:[^\s*][^\r\n]*$")


def check_principal(principal: str) -> str:
    """`Type:name` (e.g. `User:police`, or a TLS distinguished name); never a wildcard."""
    if not _PRINCIPAL.match(principal) or principal.endswith(":*"):
        raise ConfigurationError(
            f"principal {principal!r} is not of the form User:name (no wildcard)"
        )
    return principal


def check_app_id(app_id: str) -> str:
    """The worker's group and topic prefix must not reach any declared topic or any
    agency's consumer groups."""
    prefix = f"{app_id}-"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", app_id) or app_id.startswith("agency."):
        raise ConfigurationError(f"app id {app_id!r}: letters, digits, . _ -, not agency.*")
    if any(t.name.startswith(prefix) for t in all_topics()):
        raise ConfigurationError(f"app id {app_id!r}: its prefix would cover declared topics")
    return app_id


def parse_agency_principal(text: str) -> tuple[Agency, str]:
    """`police=User:police` -> (Agency.police, 'User:police')."""
    name, sep, principal = text.partition("=")
    try:
        agency = Agency(name.strip())
    except ValueError:
        known = ", ".join(a.value for a in Agency)
        raise ConfigurationError(f"{name!r} is not an agency ({known})") from None
    if not sep:
        raise ConfigurationError(f"give the agency's principal as {agency.value}=User:name")
    return agency, check_principal(principal.strip())


# -- the bindings -----------------------------------------------------------------------


def _on(
    principal: str,
    names: Iterable[str],
    *operations: Operation,
    resource: ResourceType = ResourceType.TOPIC,
    pattern: PatternType = PatternType.LITERAL,
) -> list[AclBinding]:
    return [AclBinding(principal, resource, n, pattern, op) for n in names for op in operations]


def agency_bindings(agency: Agency, principal: str) -> list[AclBinding]:
    read, write, describe = Operation.READ, Operation.WRITE, Operation.DESCRIBE
    own = [notification_topic(agency.value), feedback_topic(agency.value)]
    return [
        *_on(principal, published_by(agency), write, describe),
        *_on(principal, own, read, describe),
        *_on(
            principal,
            [agency_group_prefix(agency)],
            read,
            resource=ResourceType.GROUP,
            pattern=PatternType.PREFIXED,
        ),
    ]


def worker_bindings(principal: str, app_id: str) -> list[AclBinding]:
    read, write, create, describe = (
        Operation.READ,
        Operation.WRITE,
        Operation.CREATE,
        Operation.DESCRIBE,
    )
    declared = all_topics()
    inbound = {t.name for t in INBOUND.values()}
    internal = [t.name for t in declared if t.internal]
    outbound = [
        t.name
        for t in declared
        if t.name not in inbound and not t.internal and t.name not in PAGE_WRITES
    ]
    return [
        *_on(principal, [t.name for t in INBOUND.values()], read, describe),
        *_on(principal, outbound, write, describe),
        *_on(principal, internal, read, write, describe),
        # At start the worker creates whatever declared topic is missing
        # (broker.kafka.admin.create_topics): it must see each one, and may create only these.
        *_on(principal, [t.name for t in declared], create, describe),
        # faust's own topics: table changelogs and the assignor's leader topic.
        *_on(
            principal, [f"{app_id}-"], read, write, create, describe, pattern=PatternType.PREFIXED
        ),
        *_on(principal, [app_id], read, resource=ResourceType.GROUP),
        # The link stage as a transactional loop (MASH_LINK_STAGE=loop,
        # broker/kafka/link_loop.py): its consumer group and its transactional id.
        *_on(principal, [f"{app_id}-link"], read, resource=ResourceType.GROUP),
        # The ingest stage as a loop (MASH_INGEST_STAGE=loop, broker/kafka/ingest_loop.py).
        *_on(principal, [f"{app_id}-ingest"], read, resource=ResourceType.GROUP),
        *_on(
            principal,
            [f"{app_id}-link-0"],
            write,
            describe,
            resource=ResourceType.TRANSACTIONAL_ID,
        ),
        # The child stage as a transactional loop (MASH_CHILD_STAGE=loop,
        # broker/kafka/child_loop.py): its group, one transactional id per partition.
        *_on(principal, [f"{app_id}-child"], read, resource=ResourceType.GROUP),
        *_on(
            principal,
            [f"{app_id}-child-"],
            write,
            describe,
            resource=ResourceType.TRANSACTIONAL_ID,
            pattern=PatternType.PREFIXED,
        ),
    ]


def web_bindings(principal: str, app_id: str) -> list[AclBinding]:
    """The page reads its views' topics and writes decisions and the access audit; it
    sees no other topic (at start it checks only its own: broker.web.feed.page_topics)."""
    return [
        *_on(principal, page_reads(app_id), Operation.READ, Operation.DESCRIBE),
        *_on(principal, PAGE_WRITES, Operation.WRITE, Operation.DESCRIBE),
    ]


def auditor_bindings(principal: str) -> list[AclBinding]:
    """The auditor reads the disclosure and access audits; nothing else, no group."""
    return _on(principal, AUDITOR_READS, Operation.READ, Operation.DESCRIBE)


def bindings_by_role(principals: Principals) -> dict[str, list[AclBinding]]:
    """Each role's bindings, in a stable order: "worker", "web", "auditor", "agency <name>"."""
    roles = {"worker": worker_bindings(principals.worker, principals.app_id)}
    if principals.web:
        roles["web"] = web_bindings(principals.web, principals.app_id)
    if principals.auditor:
        roles["auditor"] = auditor_bindings(principals.auditor)
    for agency in sorted(principals.agencies):
        roles[f"agency {agency.value}"] = agency_bindings(agency, principals.agencies[agency])
    return {role: sorted(set(found)) for role, found in roles.items()}


def all_bindings(principals: Principals) -> list[AclBinding]:
    return sorted({b for found in bindings_by_role(principals).values() for b in found})


# -- as kafka-acls.sh commands ----------------------------------------------------------

_ROLE_NOTES: Final = {
    "worker": "reads inbound, writes outbound, owns broker.* and its '{app}-' topics",
    "web": "the MASH page: reads its views' topics, writes decisions and the access audit",
    "auditor": "reads the disclosure and access audits only",
}


def kafka_acls_commands(
    bindings: Iterable[AclBinding], bootstrap: str, command_config: str
) -> list[str]:
    """One `kafka-acls.sh --add` per principal and resource, its operations together."""
    grouped: dict[tuple[str, ResourceType, str, PatternType], list[Operation]] = {}
    for b in sorted(bindings):
        key = (b.principal, b.resource_type, b.resource_name, b.pattern_type)
        grouped.setdefault(key, []).append(b.operation)
    order = list(Operation)
    commands = []
    for (principal, rtype, name, pattern), ops in grouped.items():
        words = [
            "kafka-acls.sh",
            f"--bootstrap-server {shlex.quote(bootstrap)}",
            f"--command-config {shlex.quote(command_config)}",
            "--add",
            f"--allow-principal {shlex.quote(principal)}",
            *(f"--operation {op.value.capitalize()}" for op in sorted(ops, key=order.index)),
            "--cluster"
            if rtype is ResourceType.CLUSTER
            else f"--{rtype.lower().replace('_', '-')} {shlex.quote(name)}",
            f"--resource-pattern-type {pattern.lower()}",
        ]
        commands.append(" ".join(words))
    return commands


def acls_script(principals: Principals, bootstrap: str, command_config: str) -> str:
    """The shell script an operator runs (as a principal allowed to alter ACLs)."""
    lines = [
        "#!/bin/sh",
        "# The Kafka ACLs of mash-broker, computed from broker/topics.py by",
        "# `mash-broker kafka acls`. Run as a super user (or one with ALTER on the cluster):",
        f"# {command_config} holds its security.protocol, sasl.mechanism and sasl.jaas.config.",
        "# Adding an ACL that exists already changes nothing: run it again after upgrades.",
        "set -eu",
    ]
    for role, found in bindings_by_role(principals).items():
        principal = found[0].principal
        note = _ROLE_NOTES.get(role, "writes what it publishes, reads only its own topics")
        lines += ["", f"# {role} ({principal}): {note.format(app=principals.app_id)}"]
        lines += kafka_acls_commands(found, bootstrap, command_config)
    return "\n".join(lines) + "\n"
