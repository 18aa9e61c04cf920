"""A secured Kafka: applying the ACLs of broker.kafka.acls, and a local broker that enforces them.

`apply_acls` and `describe_acls` speak Kafka's CreateAcls and DescribeAcls requests
through aiokafka. aiokafka 0.14's `AIOKafkaAdminClient` has no ACL methods, but its
protocol module carries both requests (CreateAcls v0-v1, DescribeAcls v0-v2), and Kafka
4.3.1 still accepts v1 of each (its valid versions are 1-3: KIP-896 removed only v0), so
they are sent here with aiokafka's own client. CreateAcls is idempotent on the broker:
an ACL that exists already is not added twice, so `mash-broker kafka acls --apply` can
be run again after every topic or principal change.

`SecureLocalKafka` is the local development Kafka of broker.kafka.local with SASL
(SCRAM-SHA-512, the production default of `MASH_KAFKA_SASL_MECHANISM`) on its client
listener and KRaft's StandardAuthorizer denying whatever no ACL allows. It exists to
prove the ACLs on the real broker (tests/integration/test_acls.py); `mash-broker kafka
up` and every other test keep the plain one. Passwords are `SecretStr`s and reach only
Kafka's files and command line, never a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaError,
    SecurityDisabled,
    for_code,
)
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request
from pydantic import SecretStr

from broker.errors import BrokerError, ConfigurationError, InfrastructureError
from broker.kafka.acls import AclBinding, Operation, PatternType, ResourceType
from broker.kafka.admin import client_options
from broker.kafka.jars import LOG4J_CONFIG
from broker.kafka.local import LocalKafka
from broker.settings import Settings

__all__ = [
    "SCRAM_MECHANISM",
    "AclReport",
    "SecureLocalKafka",
    "apply_acls",
    "apply_and_verify",
    "describe_acls",
]

REQUEST_TIMEOUT_MS: Final = 30_000
SCRAM_MECHANISM: Final = "SCRAM-SHA-512"
AUTHORIZER: Final = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

# Kafka's wire codes (org.apache.kafka.common.resource / .acl).
_RESOURCE: Final = {
    ResourceType.TOPIC: 2,
    ResourceType.GROUP: 3,
    ResourceType.CLUSTER: 4,
    ResourceType.TRANSACTIONAL_ID: 5,
}
_PATTERN: Final = {PatternType.LITERAL: 3, PatternType.PREFIXED: 4}
_OPERATION: Final = {
    Operation.READ: 3,
    Operation.WRITE: 4,
    Operation.CREATE: 5,
    Operation.DESCRIBE: 8,
}
_ANY: Final = 1
_ALLOW: Final = 3
_BATCH: Final = 100


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    """CreateAcls v1 with many creations in one request (aiokafka's sends one)."""

    API_KEY = 30

    def __init__(self, creations: list[tuple[int, str, int, str, str, int, int]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[Any]) -> Any:
        return request_struct_class(self._creations)


def _wire(binding: AclBinding) -> tuple[int, str, int, str, str, int, int]:
    return (
        _RESOURCE[binding.resource_type],
        binding.resource_name,
        _PATTERN[binding.pattern_type],
        binding.principal,
        binding.host,
        _OPERATION[binding.operation],
        _ALLOW,
    )


def _refusal(code: int, message: str | None) -> BrokerError:
    error = for_code(code)
    if error is SecurityDisabled:
        return ConfigurationError(
            "the cluster has no authorizer (authorizer.class.name): ACLs cannot be set"
        )
    if error is ClusterAuthorizationFailedError:
        return ConfigurationError(
            "the admin principal (MASH_KAFKA_SASL_USERNAME) may not change ACLs: "
            "use a super user or one with ALTER on the cluster"
        )
    detail = f"{error.__name__} {message or ''}".strip()
    return InfrastructureError(f"Kafka refused an ACL request: {detail}")


async def _client(bootstrap: str, client_options: Mapping[str, Any] | None) -> AIOKafkaClient:
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        **dict(client_options or {}),
    )
    try:
        await client.bootstrap()
    except BaseException:
        await client.close()
        raise
    return client


async def apply_acls(
    bootstrap: str,
    bindings: Iterable[AclBinding],
    *,
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """Create every binding (those present already stay as they are); return the count.

    Raises `ConfigurationError` when the cluster has no authorizer or the connecting
    principal may not alter ACLs, `InfrastructureError` when Kafka is away or refuses.
    """
    wanted = [_wire(b) for b in bindings]
    try:
        client = await _client(bootstrap, client_options)
    except KafkaError as exc:
        raise InfrastructureError(f"Kafka at {bootstrap}: {type(exc).__name__}") from None
    try:
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            response = await client.send(client.get_random_node(), _CreateAcls(batch))
            for result in response.to_object()["creation_responses"]:
                if result["error_code"]:
                    raise _refusal(result["error_code"], result["error_message"])
    except KafkaError as exc:
        raise InfrastructureError(f"Kafka at {bootstrap}: {type(exc).__name__}") from None
    finally:
        await client.close()
    return len(wanted)


async def describe_acls(
    bootstrap: str,
    principal: str | None = None,
    *,
    client_options: Mapping[str, Any] | None = None,
) -> set[AclBinding]:
    """The ALLOW bindings the cluster holds (of `principal`, or of everyone) that are of
    the kinds broker.kafka.acls computes; other ACLs (DENY, other operations) are left out."""
    resource = {v: k for k, v in _RESOURCE.items()}
    pattern = {v: k for k, v in _PATTERN.items()}
    operation = {v: k for k, v in _OPERATION.items()}
    request = DescribeAclsRequest(_ANY, None, _ANY, principal, None, _ANY, _ANY)
    try:
        client = await _client(bootstrap, client_options)
        try:
            response = (await client.send(client.get_random_node(), request)).to_object()
        finally:
            await client.close()
    except KafkaError as exc:
        raise InfrastructureError(f"Kafka at {bootstrap}: {type(exc).__name__}") from None
    if response["error_code"]:
        raise _refusal(response["error_code"], response["error_message"])
    found: set[AclBinding] = set()
    for res in response["resources"]:
        for acl in res["acls"]:
            kinds = (
                resource.get(res["resource_type"]),
                pattern.get(res["resource_pattern_type"]),
                operation.get(acl["operation"]),
            )
            if None in kinds or acl["permission_type"] != _ALLOW:
                continue
            found.add(
                AclBinding(
                    principal=acl["principal"],
                    resource_type=resource[res["resource_type"]],
                    resource_name=res["resource_name"],
                    pattern_type=pattern[res["resource_pattern_type"]],
                    operation=operation[acl["operation"]],
                    host=acl["host"],
                )
            )
    return found


@dataclass(frozen=True)
class AclReport:
    """What `apply_and_verify` found: the computed bindings against the cluster's."""

    bootstrap: str
    wanted: frozenset[AclBinding]
    present: frozenset[AclBinding]
    """Every ALLOW binding the cluster holds for the wanted principals."""

    @property
    def missing(self) -> list[AclBinding]:
        return sorted(self.wanted - self.present)

    @property
    def extra(self) -> list[AclBinding]:
        """Rights these principals hold beyond what mash-broker computes: to review."""
        return sorted(self.present - self.wanted)

    @property
    def complete(self) -> bool:
        return not self.missing

    def summary(self) -> str:
        principals = len({b.principal for b in self.wanted})
        head = (
            f"{len(self.wanted)} ACL binding(s) for {principals} principal(s) on {self.bootstrap}"
        )
        if self.complete:
            return f"{head}: applied, all present"
        return f"{head}: {len(self.missing)} MISSING after applying: " + "; ".join(
            _describe(b) for b in self.missing
        )

    def extra_lines(self) -> list[str]:
        return [f"beyond mash-broker's ACLs (review): {_describe(b)}" for b in self.extra]


def _describe(b: AclBinding) -> str:
    pattern = "" if b.pattern_type is PatternType.LITERAL else " (prefix)"
    return f"{b.principal} {b.operation} {b.resource_type} {b.resource_name}{pattern}"


async def apply_and_verify(
    settings: Settings, bindings: Iterable[AclBinding], *, settle_seconds: float = 10.0
) -> AclReport:
    """Apply `bindings` on the cluster of `settings` (connecting as its MASH_KAFKA_*
    principal), then read back each principal's ACLs. A cluster's brokers apply new ACLs
    from the metadata log a moment after the controller accepts them, so the read-back
    is retried for up to `settle_seconds` before a binding counts as missing."""
    wanted = frozenset(bindings)
    bootstrap, options = settings.kafka_bootstrap, client_options(settings)
    await apply_acls(bootstrap, wanted, client_options=options)
    deadline = time.monotonic() + settle_seconds
    while True:
        present: set[AclBinding] = set()
        for principal in sorted({b.principal for b in wanted}):
            present |= await describe_acls(bootstrap, principal, client_options=options)
        report = AclReport(bootstrap, wanted, frozenset(present))
        if report.complete or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.5)


# -- a local Kafka that enforces ACLs ---------------------------------------------------

_USER: Final = re.compile(r"^[A-Za-z0-9._-]+$")
# Passwords go into `--add-scram name=..,password=..` and a JAAS line in double quotes.
_PASSWORD: Final = re.compile(r'^[^\s,\[\]"\\;=]{8,}$')


class SecureLocalKafka(LocalKafka):
    """LocalKafka with SASL/SCRAM-SHA-512 on 127.0.0.1:`port` and ACLs enforced.

    `users` (name -> password) get SCRAM credentials when the storage is formatted, so no
    client ever connects unauthenticated; `admin` is Kafka's super user (it creates the
    topics and the ACLs). The controller listener authenticates the node to itself with
    PLAIN (SCRAM credentials live in the metadata log, which the controller serves, so
    they cannot authenticate the controller's own listener). Everything not allowed by
    an ACL is denied (`allow.everyone.if.no.acl.found=false`), as in production.
    """

    def __init__(
        self,
        data_dir: Path,
        jar_dir: Path,
        port: int,
        controller_port: int,
        *,
        users: Mapping[str, SecretStr],
        admin: str = "admin",
        heap: str = "512m",
        log4j_config: Path = LOG4J_CONFIG,
    ) -> None:
        super().__init__(data_dir, jar_dir, port, controller_port, heap, log4j_config=log4j_config)
        if admin not in users:
            raise ConfigurationError("the admin user needs a password among the users")
        for name, password in users.items():
            if not _USER.match(name):
                raise ConfigurationError(f"user name {name!r}: letters, digits, . _ - only")
            if not _PASSWORD.match(password.get_secret_value()):
                raise ConfigurationError(
                    f"the password of {name!r}: at least 8 characters, "
                    'no whitespace nor any of , [ ] " \\ ; ='
                )
        self.users = dict(users)
        self.admin = admin

    @property
    def admin_principal(self) -> str:
        return f"User:{self.admin}"

    def options_for(self, user: str) -> dict[str, Any]:
        """aiokafka keyword arguments to connect as `user`."""
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": user,
            "sasl_plain_password": self.users[user].get_secret_value(),
        }

    def client_options(self) -> dict[str, Any]:
        """The node's own probes connect as the admin."""
        return self.options_for(self.admin)

    def format_options(self) -> list[str]:
        options: list[str] = []
        for name, password in self.users.items():
            secret = password.get_secret_value()
            options += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={secret}]"]
        return options

    def server_properties(self) -> dict[str, str]:
        admin = self.admin
        secret = self.users[admin].get_secret_value()
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
        plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
        return super().server_properties() | {
            "listeners": f"SASL_PLAINTEXT://{self.host}:{self.port},"
            f"CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"SASL_PLAINTEXT://{self.host}:{self.port}",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": (
                "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
            ),
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms": SCRAM_MECHANISM,
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                f'{scram} required username="{admin}" password="{secret}";'
            ),
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": (
                f'{plain} required username="{admin}" password="{secret}" user_{admin}="{secret}";'
            ),
            "authorizer.class.name": AUTHORIZER,
            "super.users": self.admin_principal,
            "allow.everyone.if.no.acl.found": "false",
        }
