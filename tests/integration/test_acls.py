"""The ACLs of broker/acls.py, proven on a real Kafka 4.3.1 that enforces them.

A Kafka of this module's own (broker.kafka.secure.SecureLocalKafka): SASL/SCRAM-SHA-512
on 127.0.0.1, KRaft's StandardAuthorizer, `allow.everyone.if.no.acl.found=false`, a
super user `admin`. The ACLs are created by the operator's command, `mash-broker kafka
acls --apply`, run as that admin; then real aiokafka clients log in as each principal
and are allowed or refused by Kafka itself, and the real `mash-broker worker` runs as
the worker's principal. "Refused" is shown two ways: Kafka answers the principal's
metadata request with TOPIC_AUTHORIZATION_FAILED, and a record that another principal
reads is never fetched.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from broker.kafka.acls import Principals, all_bindings
from broker.kafka.admin import create_topics
from broker.kafka.jars import ensure_jars
from broker.kafka.secure import SecureLocalKafka, describe_acls
from broker.kafka.tables import PICTURES, changelog_topic
from broker.models.common import Agency
from broker.topics import all_topics
from broker.web.feed import page_topics
from tests.integration.conftest import JAR_CACHE, free_ports
from tests.integration.worker import CODEC, WorkerProcess, run, worker_env
from tests.unit.test_ingest import GOOD

APP_ID = "mash-broker"
USERS = ("admin", "mash-broker", "mash-web", "mash-audit", "police", "health")
PRINCIPALS = Principals(
    worker="User:mash-broker",
    web="User:mash-web",
    agencies={Agency.police: "User:police", Agency.health: "User:health"},
    app_id=APP_ID,
    auditor="User:mash-audit",
)
ACLS_ARGS = [
    "kafka",
    "acls",
    "--worker",
    PRINCIPALS.worker,
    "--web",
    "User:mash-web",
    "--auditor",
    "User:mash-audit",
    "--agency",
    "police=User:police",
    "--agency",
    "health=User:health",
    "--app-id",
    APP_ID,
    "--apply",
]
SEEDED = (
    "agency.police.notification.v1",
    "agency.health.notification.v1",
    "mash.alert.v1",
    "broker.rejected.v1",
)


def env_as(kafka: SecureLocalKafka, user: str) -> dict[str, str]:
    """The environment of a `mash-broker` process logged in as `user`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env.update(
        MASH_KAFKA_BOOTSTRAP=kafka.bootstrap,
        MASH_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        MASH_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        MASH_KAFKA_SASL_USERNAME=user,
        MASH_KAFKA_SASL_PASSWORD=kafka.users[user].get_secret_value(),
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mash-broker ARGS` in a process of its own, with `env` as its environment."""
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_as(kafka: SecureLocalKafka, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env_as(kafka, user), *args)


def apply_with_the_command(
    kafka: SecureLocalKafka, user: str = "admin"
) -> subprocess.CompletedProcess[str]:
    return cli_as(kafka, user, *ACLS_ARGS)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureLocalKafka]:
    """Kafka enforcing the ACLs, applied by the command; every declared topic created by
    the worker's principal, as a worker does at start."""
    port, controller_port = free_ports(2)
    users = {name: SecretStr(secrets.token_urlsafe(18)) for name in USERS}
    server = SecureLocalKafka(
        tmp_path_factory.mktemp("kafka-acls"),
        ensure_jars(JAR_CACHE),
        port,
        controller_port,
        users=users,
    )
    with server:
        applied = apply_with_the_command(server)
        assert applied.returncode == 0, applied.stderr
        created = run(
            create_topics(
                server.bootstrap,
                all_topics(),
                1,
                1,
                client_options=server.options_for("mash-broker"),
            )
        )
        assert len(created) == len(all_topics())
        run(seed(server))
        yield server


async def seed(kafka: SecureLocalKafka) -> None:
    """One record on each topic whose readers are checked, written as the worker."""
    async with producer(kafka, "mash-broker") as send:
        for topic in SEEDED:
            await send.send_and_wait(topic, f"seed for {topic}".encode())


class producer:
    """An idempotent acks=all producer logged in as `user` (as agencies are told to run)."""

    def __init__(self, kafka: SecureLocalKafka, user: str, *, idempotent: bool = True) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=kafka.bootstrap,
            enable_idempotence=idempotent,
            request_timeout_ms=10_000,
            **kafka.options_for(user),
        )

    async def __aenter__(self) -> AIOKafkaProducer:
        try:
            await self._producer.start()
        except BaseException:
            await self._producer.stop()
            raise
        return self._producer

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()


async def fetch(
    kafka: SecureLocalKafka,
    user: str,
    topic: str,
    *,
    group: str | None = None,
    until: Callable[[list[bytes]], bool] = bool,
    timeout: float = 3.0,
) -> list[bytes]:
    """Values `user` can fetch from `topic` from its start (in `group`, committing), until
    `until(values)` holds or `timeout` seconds pass."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka.options_for(user),
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        if group:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, 0)])
        deadline = time.monotonic() + timeout
        while not until(values) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            values += [m.value or b"" for messages in batch.values() for m in messages]
        if group and values:
            await consumer.commit()
    finally:
        await consumer.stop()
    return values


async def metadata_refused(kafka: SecureLocalKafka, user: str, topic: str) -> bool:
    """Whether Kafka answers `user`'s metadata request for `topic` with
    TOPIC_AUTHORIZATION_FAILED (no Describe, hence no Read nor Write)."""
    async with producer(kafka, user, idempotent=False) as client:
        try:
            await client.partitions_for(topic)
        except TopicAuthorizationFailedError:
            return True
    return False


async def read_refused(kafka: SecureLocalKafka, user: str, topic: str) -> bool:
    """Kafka refuses `user` the records of `topic`: its metadata request (no Describe) or
    its fetch (Describe without Read) is answered with TOPIC_AUTHORIZATION_FAILED, and
    nothing of the topic's records is fetched."""
    if await metadata_refused(kafka, user, topic):
        return await fetch(kafka, user, topic, timeout=2.0) == []
    try:
        await fetch(kafka, user, topic, timeout=2.0)
    except TopicAuthorizationFailedError:
        return True
    return False


async def all_refused(kafka: SecureLocalKafka, user: str, topics: list[str]) -> list[str]:
    """The topics of `topics` whose reading by `user` is NOT refused (checked together)."""
    refused = await asyncio.gather(*(read_refused(kafka, user, t) for t in topics))
    return [t for t, no in zip(topics, refused, strict=True) if not no]


async def can_write(
    kafka: SecureLocalKafka, user: str, topic: str, *, idempotent: bool = True
) -> bool:
    """Whether `user` may write `topic`. A principal that may write nothing at all is
    refused an idempotent producer's id outright; `idempotent=False` asks per topic."""
    async with producer(kafka, user, idempotent=idempotent) as send:
        try:
            await send.send_and_wait(topic, b"probe", key=b"probe")  # compacted: keyed
        except TopicAuthorizationFailedError:
            return False
    return True


# -- the command ------------------------------------------------------------------------


def test_the_command_applied_exactly_the_computed_acls(secured: SecureLocalKafka) -> None:
    again = apply_with_the_command(secured)  # idempotent: a second run adds nothing
    assert again.returncode == 0, again.stderr
    assert "applied, all present" in again.stdout
    assert again.stderr == ""  # no right beyond the computed ones
    on_cluster = run(describe_acls(secured.bootstrap, client_options=secured.client_options()))
    assert on_cluster == set(all_bindings(PRINCIPALS))
    for user in USERS:  # no password ever printed
        secret = secured.users[user].get_secret_value()
        assert secret not in again.stdout + again.stderr


def test_the_command_refuses_a_principal_that_may_not_alter_acls(
    secured: SecureLocalKafka,
) -> None:
    done = apply_with_the_command(secured, "police")
    assert done.returncode == 2
    assert "may not change ACLs" in done.stderr
    assert secured.users["police"].get_secret_value() not in done.stderr


def test_the_command_says_so_when_the_cluster_enforces_no_acls(kafka_bootstrap: str) -> None:
    """The session's plain development Kafka has no authorizer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env["MASH_KAFKA_BOOTSTRAP"] = kafka_bootstrap
    done = run_cli(env, *ACLS_ARGS)
    assert done.returncode == 2
    assert "no authorizer" in done.stderr


# -- agencies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "allowed", "refused"),
    [
        ("police", ["police.vist.v1", "agency.involvement.v1"], ["health.update.v1"]),
        ("health", ["health.update.v1", "agency.involvement.v1"], ["police.vist.v1"]),
    ],
)
def test_an_agency_writes_only_what_it_publishes(
    secured: SecureLocalKafka, user: str, allowed: list[str], refused: list[str]
) -> None:
    for topic in allowed:
        assert run(can_write(secured, user, topic)), topic
    for topic in [*refused, "mash.alert.v1", "broker.accepted.v1", f"agency.{user}.feedback.v1"]:
        assert not run(can_write(secured, user, topic)), topic


@pytest.mark.parametrize(("user", "other"), [("police", "health"), ("health", "police")])
def test_an_agency_reads_only_its_own_topics(
    secured: SecureLocalKafka, user: str, other: str
) -> None:
    own = f"agency.{user}.notification.v1"
    assert run(fetch(secured, user, own, group=f"agency.{user}.case-system")) == [
        f"seed for {own}".encode()
    ]
    others = [f"agency.{other}.notification.v1", "mash.alert.v1", "broker.rejected.v1"]
    assert run(all_refused(secured, user, others)) == []
    for topic in others:  # ...though each holds a record its own reader gets
        assert run(fetch(secured, "admin", topic)) == [f"seed for {topic}".encode()]


@pytest.mark.parametrize("group", [APP_ID, "agency.health.case-system", "police-reader"])
def test_an_agency_joins_only_its_own_consumer_groups(
    secured: SecureLocalKafka, group: str
) -> None:
    with pytest.raises(GroupAuthorizationFailedError):
        run(fetch(secured, "police", "agency.police.notification.v1", group=group))


# -- the MASH page ------------------------------------------------------------------------


def test_the_page_starts_reads_its_views_and_writes_decisions_and_audit(
    secured: SecureLocalKafka,
) -> None:
    # broker.web.server checks its own topics at start: DESCRIBE on them is enough.
    as_page = secured.options_for("mash-web")
    assert run(create_topics(secured.bootstrap, page_topics(), 1, 1, client_options=as_page)) == []
    assert b"seed for mash.alert.v1" in run(fetch(secured, "mash-web", "mash.alert.v1"))
    for topic in ("mash.decision.v1", "mash.identity-decision.v1", "audit.access.v1"):
        assert run(can_write(secured, "mash-web", topic)), topic
    refused = ["agency.police.notification.v1", "broker.rejected.v1", "police.vist.v1"]
    assert run(all_refused(secured, "mash-web", refused)) == []
    for topic in refused:  # it cannot even see that they exist
        assert run(metadata_refused(secured, "mash-web", topic)), topic
    assert not run(can_write(secured, "mash-web", "mash.alert.v1"))


# -- the auditor ----------------------------------------------------------------------------


def test_the_auditor_reads_the_audit_topics_and_nothing_else(secured: SecureLocalKafka) -> None:
    """Each audit topic gets a record from its writer (the worker's disclosure audit, the
    page's access audit); the auditor fetches both, and Kafka refuses it every other
    topic, any write and any consumer group."""
    writers = {"audit.disclosure.v1": "mash-broker", "audit.access.v1": "mash-web"}
    for topic, writer in writers.items():
        assert run(can_write(secured, writer, topic)), topic
        assert b"probe" in run(fetch(secured, "mash-audit", topic, until=lambda v: b"probe" in v))
        assert not run(can_write(secured, "mash-audit", topic, idempotent=False)), topic
    refused = [
        "mash.alert.v1",
        "broker.rejected.v1",
        "agency.police.notification.v1",
        "police.vist.v1",
        "mash.decision.v1",
        "broker.linked.v1",
        changelog_topic(APP_ID, PICTURES),
    ]
    assert run(all_refused(secured, "mash-audit", refused)) == []
    for topic in [t for t in refused if t in SEEDED]:  # ...each holds a record, though
        assert run(fetch(secured, "admin", topic))
    assert not run(can_write(secured, "mash-audit", "mash.alert.v1", idempotent=False))
    with pytest.raises(ClusterAuthorizationFailedError):  # not even a producer id
        run(can_write(secured, "mash-audit", "audit.access.v1"))
    with pytest.raises(GroupAuthorizationFailedError):
        run(fetch(secured, "mash-audit", "audit.access.v1", group="audit.reader"))


# -- the worker -----------------------------------------------------------------------------


def test_an_agency_publishes_and_tails_with_the_command_line_as_itself(
    secured: SecureLocalKafka, tmp_path: Path
) -> None:
    """`mash-broker publish` and `tail` log in as the MASH_KAFKA_* settings say: police's
    integration engineer can send events and read police's own topics with them, and is
    refused the others by Kafka."""
    events = tmp_path / "police.jsonl"
    events.write_text(json.dumps(vist(f"cli-{uuid.uuid4().hex[:8]}")) + "\n")
    sent = cli_as(secured, "police", "publish", str(events))
    assert sent.returncode == 0, sent.stderr
    assert "published 1 record" in sent.stderr
    mine = "agency.police.notification.v1"
    read = cli_as(secured, "police", "tail", mine, "--from-beginning", "--max", "1",
                  "--idle-timeout", "20")  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert [json.loads(line)["topic"] for line in read.stdout.splitlines()] == [mine]
    refused = cli_as(secured, "police", "tail", "agency.health.notification.v1",
                     "--from-beginning", "--max", "1", "--idle-timeout", "10")  # fmt: skip
    assert refused.stdout == ""
    assert refused.returncode == 1  # NotAuthorized: not retriable
    said = refused.stderr.splitlines()[-1]
    assert said.startswith("error: Kafka refused reading agency.health.notification.v1")
    assert "ask the operators for the ACL" in said
    assert "Traceback" not in refused.stderr
    assert "Unclosed" not in refused.stderr
    forbidden = tmp_path / "health.jsonl"
    health = {**vist(f"cli-h-{uuid.uuid4().hex[:8]}"), "event_type": "health.update"}
    health |= {"source": {"agency": "health", "system": "ed"}, "update_id": "U-1",
               "kind": "ed_attendance", "setting": "ED", "concerns": []}  # fmt: skip
    for name in ("vist_id", "rag", "out_of_hours", "officer"):
        health.pop(name, None)
    forbidden.write_text(json.dumps(health) + "\n")
    denied = cli_as(secured, "police", "publish", str(forbidden))
    assert denied.returncode == 1
    said = denied.stderr.splitlines()[-1]
    assert said.startswith("error: Kafka refused writing health.update.v1"), denied.stderr
    assert secured.users["police"].get_secret_value() not in sent.stderr + read.stderr


def vist(event_id: str, **changes: Any) -> dict[str, Any]:
    data = deepcopy(GOOD)
    data.update(event_id=event_id, rag="RED", **changes)
    return data


@pytest.fixture
def worker(secured: SecureLocalKafka, tmp_path: Path) -> Iterator[WorkerProcess]:
    env = worker_env(secured.bootstrap, tmp_path / "state", APP_ID)
    env.update({k: v for k, v in env_as(secured, "mash-broker").items() if k.startswith("MASH_")})
    env["MASH_TICK_SECONDS"] = "1"
    process = WorkerProcess(env, tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()


def test_the_worker_does_its_job_as_its_own_principal(
    secured: SecureLocalKafka, worker: WorkerProcess
) -> None:
    """Police publishes a good RED VIST and a bad one; the worker (consumer group,
    changelogs, internal topics) rejects the bad one to police's feedback and raises a
    DECISION_OVERDUE alert (the VIST is months old) that the page reads."""
    run_id = uuid.uuid4().hex[:8]
    good = vist(f"acl-good-{run_id}")
    bad = vist(f"acl-bad-{run_id}", subject={**GOOD["subject"], "nhs_number": "9434765910"})

    async def publish_as_police() -> None:
        async with producer(secured, "police") as send:
            for event in (good, bad):
                value = CODEC.encode_dict("police.vist", event, topic="police.vist.v1")
                await send.send_and_wait("police.vist.v1", value, key=event["event_id"].encode())

    run(publish_as_police())

    def decoded(values: list[bytes]) -> list[dict[str, Any]]:
        return [CODEC.decode(v).model_dump(mode="json") for v in values if v.startswith(b"\xc3")]

    def names(event_id: str) -> Callable[[list[bytes]], bool]:
        return lambda values: any(r.get("event_id") == event_id for r in decoded(values))

    feedback = run(
        fetch(
            secured,
            "police",
            "agency.police.feedback.v1",
            group="agency.police.case-system",
            until=names(bad["event_id"]),
            timeout=60,
        )
    )
    assert names(bad["event_id"])(feedback), worker.tail()

    def alerted(values: list[bytes]) -> bool:
        return any(good["event_id"] in a.get("triggered_by", []) for a in decoded(values))

    alerts = run(fetch(secured, "mash-web", "mash.alert.v1", until=alerted, timeout=60))
    assert alerted(alerts), worker.tail()
    pictures = changelog_topic(APP_ID, PICTURES)
    assert run(fetch(secured, "mash-web", pictures)), "the page reads the child pictures"
    assert run(metadata_refused(secured, "police", pictures))
    assert worker.alive(), worker.tail()
