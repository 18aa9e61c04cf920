"""The cluster's ACLs (broker/acls.py): the safeguarding properties over the whole set.

Computed for every agency of the contract at once, so a property holds whichever
agencies a partnership onboards. tests/integration/test_acls.py shows the same bindings
enforced by a real Kafka.
"""

from __future__ import annotations

import gc
import shlex
from collections.abc import Iterator

import pytest

from broker.cli import main
from broker.errors import ConfigurationError
from broker.kafka import acls
from broker.kafka.acls import (
    AclBinding,
    Operation,
    PatternType,
    Principals,
    ResourceType,
    acls_script,
    agency_bindings,
    all_bindings,
    bindings_by_role,
    check_app_id,
    kafka_acls_commands,
    page_reads,
    parse_agency_principal,
    published_by,
)
from broker.models.common import Agency
from broker.settings import PROJECT_ROOT
from broker.topics import (
    AGENCIES,
    ALERTS,
    AUDIT_ACCESS,
    AUDIT_DISCLOSURE,
    INBOUND,
    INBOUND_TOPICS,
    REJECTED,
    all_topics,
    feedback_topic,
    notification_topic,
)
from broker.web.actions import DECISIONS, IDENTITY_DECISIONS
from broker.web.feed import page_topics, view_topics

APP_ID = "mash-broker"
WORKER, WEB, AUDITOR = "User:mash-broker", "User:mash-web", "User:mash-audit"
EVERY = Principals(
    worker=WORKER,
    web=WEB,
    agencies={a: f"User:{a.value}" for a in Agency},
    app_id=APP_ID,
    auditor=AUDITOR,
)
BINDINGS = all_bindings(EVERY)
DECLARED = [t.name for t in all_topics()]


def of(principal: str, *ops: Operation) -> list[AclBinding]:
    return [b for b in BINDINGS if b.principal == principal and (not ops or b.operation in ops)]


def topics(bindings: list[AclBinding]) -> set[str]:
    return {b.resource_name for b in bindings if b.resource_type is ResourceType.TOPIC}


def covers(binding: AclBinding, topic: str) -> bool:
    if binding.resource_type is not ResourceType.TOPIC:
        return False
    if binding.pattern_type is PatternType.PREFIXED:
        return topic.startswith(binding.resource_name)
    return topic == binding.resource_name


def readers(topic: str) -> set[str]:
    return {b.principal for b in BINDINGS if b.operation is Operation.READ and covers(b, topic)}


def writers(topic: str) -> set[str]:
    return {b.principal for b in BINDINGS if b.operation is Operation.WRITE and covers(b, topic)}


AGENCY_PRINCIPALS = {f"User:{a.value}": a for a in Agency}


# -- who publishes what ------------------------------------------------------------------


def test_every_inbound_event_type_says_who_publishes_it() -> None:
    assert set(acls.PUBLISHERS) == set(INBOUND)
    nobody = [et for et, who in acls.PUBLISHERS.items() if not who]
    assert nobody == ["mash.identity_decision"]  # the page's alone (below)


def test_every_inbound_topic_is_writable_by_at_least_one_agency() -> None:
    for topic in INBOUND_TOPICS:
        if topic != IDENTITY_DECISIONS:
            assert writers(topic) & set(AGENCY_PRINCIPALS), topic


def test_only_the_page_writes_identity_decisions() -> None:
    """A manager decides who is who, and the page is where that role is checked: no
    agency system may merge two children's records around it."""
    assert writers(IDENTITY_DECISIONS) == {WEB}


def test_what_events_md_says_each_agency_publishes() -> None:
    assert published_by(Agency.police) == ["police.vist.v1", "agency.involvement.v1"]
    assert published_by(Agency.yot) == ["yot.referral.v1", "agency.involvement.v1"]
    assert published_by(Agency.school) == ["school.transition.v1", "agency.involvement.v1"]
    assert published_by(Agency.early_help) == ["agency.involvement.v1"]
    assert set(published_by(Agency.socialcare)) == {
        "agency.involvement.v1",
        "socialcare.record.v1",
        "mash.screening.v1",
        "socialcare.strategy-meeting.v1",
    }
    assert set(published_by(Agency.mash)) == {
        "agency.involvement.v1",
        "mash.info-request.v1",
        "mash.decision.v1",
        "mash.screening.v1",
    }


def test_health_updates_come_from_health_and_camhs_only() -> None:
    agencies = writers("health.update.v1") & set(AGENCY_PRINCIPALS)
    assert agencies == {"User:health", "User:camhs"}


def test_any_agency_records_its_involvement() -> None:
    assert writers("agency.involvement.v1") >= set(AGENCY_PRINCIPALS)


# -- agencies read only their own ----------------------------------------------------------


@pytest.mark.parametrize("agency", list(Agency))
def test_an_agency_reads_only_its_own_notifications_and_feedback(agency: Agency) -> None:
    principal = f"User:{agency.value}"
    own = {notification_topic(agency.value), feedback_topic(agency.value)}
    assert topics(of(principal, Operation.READ)) == own


@pytest.mark.parametrize("agency", list(Agency))
def test_an_agency_touches_no_topic_of_another_agency(agency: Agency) -> None:
    principal = f"User:{agency.value}"
    for other in AGENCIES:
        if other == agency.value:
            continue
        for topic in (notification_topic(other), feedback_topic(other)):
            assert not [b for b in of(principal) if covers(b, topic)], (agency, topic)


def test_no_agency_reads_alerts_rejections_audit_internal_changelogs_or_inbound() -> None:
    forbidden = [
        ALERTS.name,
        REJECTED.name,
        AUDIT_DISCLOSURE.name,
        AUDIT_ACCESS.name,
        *(t.name for t in all_topics() if t.internal),
        *INBOUND_TOPICS,
        *(f"{APP_ID}-{table}-changelog" for table in ("child-pictures", "identity", "seen-events")),
        f"{APP_ID}-__assignor-__leader",
    ]
    assert {t for t in forbidden if t.startswith("audit.")} == {
        "audit.disclosure.v1",
        "audit.access.v1",
    }
    for topic in forbidden:
        assert not readers(topic) & set(AGENCY_PRINCIPALS), topic


def test_an_agency_has_only_the_rights_its_role_needs() -> None:
    for principal, agency in AGENCY_PRINCIPALS.items():
        for b in of(principal):
            if b.resource_type is ResourceType.GROUP:
                assert (b.operation, b.pattern_type) == (Operation.READ, PatternType.PREFIXED)
                assert b.resource_name == f"agency.{agency.value}."
            elif (
                b.operation in (Operation.WRITE, Operation.DESCRIBE)
                and b.resource_name in INBOUND_TOPICS
            ):
                assert b.resource_name in published_by(agency)
            else:
                assert b.operation in (Operation.READ, Operation.DESCRIBE), b
                assert b.resource_name.startswith(f"agency.{agency.value}."), b


def test_agencies_consumer_groups_never_reach_another_agency_or_the_worker() -> None:
    prefixes = {a: acls.agency_group_prefix(a) for a in Agency}
    for agency, prefix in prefixes.items():
        assert not APP_ID.startswith(prefix)
        for other, other_prefix in prefixes.items():
            assert other == agency or not other_prefix.startswith(prefix)


# -- the worker, the page, operations --------------------------------------------------------


def test_the_worker_reads_every_inbound_and_internal_topic_and_writes_every_outbound() -> None:
    for topic in [*INBOUND_TOPICS, "broker.accepted.v1", "broker.linked.v1"]:
        assert WORKER in readers(topic), topic
    outbound = [ALERTS.name, REJECTED.name, AUDIT_DISCLOSURE.name, "broker.accepted.v1"]
    for agency in AGENCIES:  # every agency's: a recipient onboarded later is told at once
        outbound += [notification_topic(agency), feedback_topic(agency)]
    for topic in outbound:
        assert WORKER in writers(topic), topic
    changelog = f"{APP_ID}-child-pictures-changelog"
    assert WORKER in readers(changelog) & writers(changelog)


def test_the_worker_may_create_only_declared_topics_and_its_own_prefix() -> None:
    created = of(WORKER, Operation.CREATE)
    literal = {b.resource_name for b in created if b.pattern_type is PatternType.LITERAL}
    prefixed = {b.resource_name for b in created if b.pattern_type is PatternType.PREFIXED}
    assert literal == set(DECLARED)
    assert prefixed == {f"{APP_ID}-"}
    assert not any(t.startswith(f"{APP_ID}-") for t in DECLARED)


def test_the_worker_neither_reads_nor_writes_the_access_audit() -> None:
    assert WORKER not in readers(AUDIT_ACCESS.name) | writers(AUDIT_ACCESS.name)


def test_the_worker_commits_in_its_own_groups_only() -> None:
    groups = [b for b in of(WORKER) if b.resource_type is ResourceType.GROUP]
    assert [(b.resource_name, b.pattern_type, b.operation) for b in groups] == [
        (APP_ID, PatternType.LITERAL, Operation.READ),
        (f"{APP_ID}-child", PatternType.LITERAL, Operation.READ),  # the child loop's
        (f"{APP_ID}-ingest", PatternType.LITERAL, Operation.READ),  # the ingest loop's
        (f"{APP_ID}-link", PatternType.LITERAL, Operation.READ),  # the link loop's
    ]


def test_only_the_worker_holds_the_loops_transactional_ids() -> None:
    """The link loop's one id, and the child loop's, one per partition (a prefix: the
    manifests do not know how many partitions a cluster's topic has)."""
    held = [b for b in BINDINGS if b.resource_type is ResourceType.TRANSACTIONAL_ID]
    assert {(b.principal, b.resource_name, b.pattern_type) for b in held} == {
        (WORKER, f"{APP_ID}-link-0", PatternType.LITERAL),
        (WORKER, f"{APP_ID}-child-", PatternType.PREFIXED),
    }
    assert {b.operation for b in held} == {Operation.WRITE, Operation.DESCRIBE}


def test_the_page_reads_exactly_what_its_views_are_built_from() -> None:
    assert topics(of(WEB, Operation.READ)) == set(view_topics(APP_ID)) == set(page_reads(APP_ID))


def test_the_page_writes_decisions_identity_decisions_and_the_access_audit_only() -> None:
    assert topics(of(WEB, Operation.WRITE)) == {DECISIONS, IDENTITY_DECISIONS, AUDIT_ACCESS.name}


def test_the_page_reads_no_agency_topic_nor_rejections_and_uses_no_group() -> None:
    for topic in [REJECTED.name, *(notification_topic(a) for a in AGENCIES)]:
        assert WEB not in readers(topic)
    assert not [b for b in of(WEB) if b.resource_type is not ResourceType.TOPIC]


def test_the_page_sees_only_its_own_topics_and_those_are_what_it_checks_at_start() -> None:
    seen = topics(of(WEB, Operation.DESCRIBE))
    assert seen == set(page_reads(APP_ID)) | {DECISIONS, IDENTITY_DECISIONS, AUDIT_ACCESS.name}
    assert {t.name for t in page_topics()} <= seen  # broker.web.server ensures these exist
    assert not seen & {REJECTED.name, *(notification_topic(a) for a in AGENCIES)}
    assert not of(WEB, Operation.CREATE)


def test_operations_need_no_kafka_principal() -> None:
    """/ops, /ops.json and `mash-broker status` are served by the worker over HTTP."""
    for module in (PROJECT_ROOT / "broker" / "ops").glob("*.py"):
        text = module.read_text("utf-8")
        assert "from aiokafka" not in text, module.name  # logs.py names its loggers only
        assert "import aiokafka" not in text, module.name
        assert "broker.kafka" not in text, module.name
    assert set(bindings_by_role(EVERY)) == {
        "worker",
        "web",
        "auditor",
        *(f"agency {a.value}" for a in Agency),
    }


# -- the auditor ------------------------------------------------------------------------------


def test_the_auditor_reads_the_two_audit_topics_and_nothing_else() -> None:
    assert topics(of(AUDITOR)) == {AUDIT_DISCLOSURE.name, AUDIT_ACCESS.name}
    assert {b.operation for b in of(AUDITOR)} == {Operation.READ, Operation.DESCRIBE}
    assert not [b for b in of(AUDITOR) if b.resource_type is not ResourceType.TOPIC]
    assert all(b.pattern_type is PatternType.LITERAL for b in of(AUDITOR))


def test_the_auditor_reads_no_alert_event_picture_notification_or_rejection() -> None:
    others = [t for t in DECLARED if t not in (AUDIT_DISCLOSURE.name, AUDIT_ACCESS.name)]
    for topic in [*others, f"{APP_ID}-child-pictures-changelog"]:
        assert AUDITOR not in readers(topic), topic
        assert AUDITOR not in writers(topic), topic


def test_the_auditor_needs_a_principal_of_its_own() -> None:
    with pytest.raises(ConfigurationError, match="principal of its own"):
        Principals(worker=WORKER, web=WEB, auditor=WEB)
    with pytest.raises(ConfigurationError):
        Principals(worker=WORKER, auditor="User:*")


def test_the_command_prints_the_auditor_s_acls(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["kafka", "acls", "--worker", WORKER, "--auditor", AUDITOR])
    assert code == 0
    out = capsys.readouterr().out
    assert "# auditor (User:mash-audit): reads the disclosure and access audits only" in out
    lines = [line for line in out.splitlines() if "mash-audit" in line and "--add" in line]
    assert sorted(shlex.split(line)[-3] for line in lines) == sorted(
        [AUDIT_ACCESS.name, AUDIT_DISCLOSURE.name]
    )
    for line in lines:
        assert "--operation Read --operation Describe" in line


def test_the_page_reads_the_access_audit_for_the_auditor_s_log() -> None:
    assert AUDIT_ACCESS.name in page_reads(APP_ID)
    assert WEB in readers(AUDIT_ACCESS.name)


# -- the set as a whole ----------------------------------------------------------------------


def test_every_declared_topic_is_read_or_written_by_someone() -> None:
    for topic in DECLARED:
        assert readers(topic) | writers(topic), topic
        assert writers(topic), topic


def test_no_wildcards_no_cluster_rights_no_deny_only_allow() -> None:
    for b in BINDINGS:
        assert "*" not in b.principal
        assert "*" not in b.resource_name
        assert b.resource_type is not ResourceType.CLUSTER
        assert (b.permission, b.host) == ("ALLOW", "*")
        if b.pattern_type is PatternType.PREFIXED:
            assert (
                (b.principal, b.resource_name) == (WORKER, f"{APP_ID}-")
                or b.resource_type is ResourceType.GROUP
                or (b.principal, b.resource_name) == (WORKER, f"{APP_ID}-child-")
            )


def test_an_agency_alone_gets_only_its_own_bindings() -> None:
    only = Principals(WORKER, agencies={Agency.police: "User:police"}, app_id=APP_ID)
    roles = bindings_by_role(only)
    assert set(roles) == {"worker", "agency police"}
    assert roles["agency police"] == sorted(agency_bindings(Agency.police, "User:police"))


# -- principals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["police", "User:*", "User:", "*", "User: police", ":x", "User:a\nb"]
)
def test_a_principal_must_name_one_user(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        Principals(worker=bad)


def test_a_tls_distinguished_name_is_a_principal() -> None:
    dn = "User:CN=police.example,OU=MASH,O=Council"
    assert Principals(worker=WORKER, agencies={Agency.police: dn}).agencies[Agency.police] == dn


def test_roles_may_not_share_a_principal() -> None:
    with pytest.raises(ConfigurationError, match="principal of its own"):
        Principals(worker=WORKER, agencies={Agency.health: "User:nhs", Agency.camhs: "User:nhs"})
    with pytest.raises(ConfigurationError):
        Principals(worker=WORKER, web=WORKER)


@pytest.mark.parametrize("app_id", ["agency.police", "socialcare.strategy", "", "a b", "x*"])
def test_an_app_id_whose_prefix_could_reach_others_is_refused(app_id: str) -> None:
    # agency.* would be an agency's consumer group; "socialcare.strategy-" would cover
    # socialcare.strategy-meeting.v1 with the worker's prefixed rights.
    with pytest.raises(ConfigurationError):
        check_app_id(app_id)
    assert check_app_id("mash-broker-test") == "mash-broker-test"


def test_parse_agency_principal() -> None:
    assert parse_agency_principal("police=User:police") == (Agency.police, "User:police")
    for bad in ("polic=User:x", "police", "police=", "police=User:*"):
        with pytest.raises(ConfigurationError):
            parse_agency_principal(bad)


# -- kafka-acls.sh -------------------------------------------------------------------------------


def test_one_command_per_principal_and_resource_with_its_operations() -> None:
    commands = kafka_acls_commands(
        agency_bindings(Agency.police, "User:police"), "b1:9094,b2:9094", "admin.properties"
    )
    head = (
        "kafka-acls.sh --bootstrap-server b1:9094,b2:9094 --command-config admin.properties"
        " --add --allow-principal User:police"
    )
    read, write = "--operation Read --operation Describe", "--operation Write --operation Describe"
    literal = "--resource-pattern-type literal"
    assert commands == [
        f"{head} --operation Read --group agency.police. --resource-pattern-type prefixed",
        f"{head} {write} --topic agency.involvement.v1 {literal}",
        f"{head} {read} --topic agency.police.feedback.v1 {literal}",
        f"{head} {read} --topic agency.police.notification.v1 {literal}",
        f"{head} {write} --topic police.vist.v1 {literal}",
    ]


def test_commands_quote_what_the_shell_would_split() -> None:
    dn = "User:CN=Police Force,O=Council"
    binding = AclBinding(
        dn, ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, Operation.DESCRIBE
    )
    [command] = kafka_acls_commands([binding], "b1:9094", "my admin.properties")
    words = shlex.split(command)
    assert words[words.index("--allow-principal") + 1] == dn
    assert words[words.index("--command-config") + 1] == "my admin.properties"
    assert "--cluster" in words


def test_the_script_covers_every_binding() -> None:
    script = acls_script(EVERY, "b1:9094", "admin.properties")
    assert script.startswith("#!/bin/sh\n")
    ops = sum(line.count("--operation ") for line in script.splitlines())
    assert ops == len(BINDINGS)


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def restore_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restore_collector")
def test_the_command_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["kafka", "acls", "--worker", WORKER, "--web", WEB, "--agency", "police=User:police"]
    assert main([*argv, "--app-id", APP_ID, "--bootstrap-server", "b1:9094"]) == 0
    out = capsys.readouterr().out
    expected = Principals(WORKER, WEB, {Agency.police: "User:police"}, APP_ID)
    assert out == acls_script(expected, "b1:9094", "admin.properties")
    police = "--allow-principal User:police --operation Write --operation Describe"
    assert f"{police} --topic police.vist.v1" in out


@pytest.mark.usefixtures("restore_collector")
@pytest.mark.parametrize(
    "extra",
    [
        ["--agency", "police=User:police", "--agency", "police=User:police2"],
        ["--agency", "nobody=User:x"],
        ["--web", "User:*"],
    ],
)
def test_the_command_refuses_bad_principals(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kafka", "acls", "--worker", WORKER, *extra]) == 2
    assert "configuration error" in capsys.readouterr().err


def test_deploy_readme_shows_the_commands_as_the_tool_prints_them() -> None:
    readme = (PROJECT_ROOT / "deploy" / "README.md").read_text("utf-8")
    example = Principals(WORKER, WEB, {Agency.police: "User:police"}, APP_ID, AUDITOR)
    script = acls_script(example, "broker1:9094,broker2:9094,broker3:9094", "admin.properties")
    shown = [line for line in readme.splitlines() if line.startswith("kafka-acls.sh ")]
    assert shown, "deploy/README.md shows no kafka-acls.sh command"
    assert set(shown) <= set(script.splitlines())


# -- applying: what the command reports ------------------------------------------------------


def test_the_report_names_missing_and_extra_rights() -> None:
    from broker.kafka.secure import AclReport

    wanted = frozenset(agency_bindings(Agency.police, "User:police"))
    extra = AclBinding(
        "User:police", ResourceType.TOPIC, "mash.alert.v1", PatternType.LITERAL, Operation.READ
    )
    missing = sorted(wanted)[0]
    report = AclReport("b1:9094", wanted, frozenset(wanted - {missing} | {extra}))
    assert not report.complete
    assert report.missing == [missing]
    assert "1 MISSING" in report.summary()
    assert report.extra_lines() == [
        "beyond mash-broker's ACLs (review): User:police READ TOPIC mash.alert.v1"
    ]
    assert AclReport("b1:9094", wanted, wanted).summary().endswith("applied, all present")


def test_kafka_refusals_say_what_to_do() -> None:
    from broker.errors import InfrastructureError
    from broker.kafka.secure import _refusal

    assert isinstance(_refusal(54, None), ConfigurationError)  # SECURITY_DISABLED
    assert "may not change ACLs" in str(_refusal(31, None))  # CLUSTER_AUTHORIZATION_FAILED
    assert isinstance(_refusal(7, "timed out"), InfrastructureError)
