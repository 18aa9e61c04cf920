"""Every topic the broker reads or writes, declared once.

Names follow events.md. `compacted` topics keep the latest record per key (the current
social care record, the current involvement); the rest keep a retention window. Both
`mash-broker kafka up` and the worker create topics from this table, so local and
production clusters agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from broker.errors import InvalidInput, Problem


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    internal: bool = False
    description: str = ""
    partitions: int | None = None
    """Fixed partition count (else the cluster's setting, MASH_TOPIC_PARTITIONS)."""


# Inbound: what agencies publish. event_type -> topic.
INBOUND: Final[dict[str, TopicSpec]] = {
    "police.vist": TopicSpec("police.vist.v1", description="police VIST notices"),
    "yot.referral": TopicSpec("yot.referral.v1", description="YOT referrals to the MASH"),
    "school.transition": TopicSpec("school.transition.v1", description="school moves"),
    "health.update": TopicSpec("health.update.v1", description="health updates"),
    "agency.involvement": TopicSpec(
        "agency.involvement.v1", compacted=True, description="agency work opened/closed"
    ),
    "socialcare.record": TopicSpec(
        "socialcare.record.v1", compacted=True, description="social care record (CDC)"
    ),
    "mash.info_request": TopicSpec("mash.info-request.v1", description="MASH info requests"),
    "mash.decision": TopicSpec("mash.decision.v1", description="MASH decisions"),
    "mash.screening": TopicSpec("mash.screening.v1", description="exploitation screenings"),
    "socialcare.strategy_meeting": TopicSpec(
        "socialcare.strategy-meeting.v1", description="strategy meetings held"
    ),
    "mash.identity_decision": TopicSpec(
        "mash.identity-decision.v1", description="a person's decision on an identity review"
    ),
}

INBOUND_TOPICS: Final[tuple[str, ...]] = tuple(t.name for t in INBOUND.values())
EVENT_TYPE_BY_TOPIC: Final[dict[str, str]] = {t.name: et for et, t in INBOUND.items()}

# Outbound: what the broker publishes.
ALERTS: Final = TopicSpec("mash.alert.v1", description="alerts for the MASH, keyed by child")
REJECTED: Final = TopicSpec("broker.rejected.v1", description="events that were not accepted")
AUDIT_DISCLOSURE: Final = TopicSpec("audit.disclosure.v1", description="one per disclosure")
AUDIT_ACCESS: Final = TopicSpec(
    "audit.access.v1", description="every view of a child's record on the MASH page"
)

# Internal: between the broker's own agents.
ACCEPTED: Final = TopicSpec(
    "broker.accepted.v1",
    internal=True,
    description="valid events, keyed by event_id; one partition: linking is one writer",
    partitions=1,
)
LINKED: Final = TopicSpec(
    "broker.linked.v1",
    internal=True,
    description="messages for a child (events, ticks, merges), keyed by child id (repartition)",
)

AGENCIES: Final[tuple[str, ...]] = (
    "police",
    "yot",
    "school",
    "health",
    "camhs",
    "substance_misuse",
    "socialcare",
    "early_help",
    "mash",
    "other",
)


def notification_topic(agency: str) -> str:
    """`agency.<agency>.notification.v1`: what an agency is told about a child."""
    return f"agency.{_known(agency)}.notification.v1"


def feedback_topic(agency: str) -> str:
    """`agency.<agency>.feedback.v1`: rejections, incomplete referrals, language review."""
    return f"agency.{_known(agency)}.feedback.v1"


def _known(agency: str) -> str:
    if agency not in AGENCIES:
        raise InvalidInput([Problem("agency", "is not an agency of the contract")])
    return agency


def all_topics() -> list[TopicSpec]:
    """Every topic a cluster needs, inbound, outbound and internal."""
    per_agency = [
        TopicSpec(notification_topic(a), description=f"notifications to {a}") for a in AGENCIES
    ] + [TopicSpec(feedback_topic(a), description=f"feedback to {a}") for a in AGENCIES]
    return [
        *INBOUND.values(),
        ALERTS,
        REJECTED,
        AUDIT_DISCLOSURE,
        AUDIT_ACCESS,
        ACCEPTED,
        LINKED,
        *per_agency,
    ]


def link_state_topic(app_id: str) -> TopicSpec:
    """`<app id>-link-state`: the link stage's state when it runs as the transactional
    loop (MASH_LINK_STAGE=loop; broker.pipeline.link_state): compacted, one partition as
    broker.accepted.v1 has, under the worker's own prefix (its ACLs: broker.kafka.acls)."""
    return TopicSpec(
        f"{app_id}-link-state",
        compacted=True,
        internal=True,
        description="the link stage's identities, seen and held events, event clock",
        partitions=ACCEPTED.partitions,
    )


INTERNAL_TOPICS = frozenset(t.name for t in all_topics() if t.internal)
"""The broker's own topics between its stages (replay prints them only with --internal)."""


def topic_for_event_type(event_type: str) -> str | None:
    spec = INBOUND.get(event_type)
    return spec.name if spec else None


DAY_MS: Final = 86_400_000
KEEP_FOREVER: Final = -1

_RETENTION_DAYS: Final[dict[str, int]] = {
    ALERTS.name: 90,
    # The original bytes (personal data), kept only as long as a sender needs to correct.
    REJECTED.name: 90,
    ACCEPTED.name: 7,  # derived: rebuilt from the inbound topics
    LINKED.name: 7,
}
_KEPT_FOREVER: Final = frozenset({AUDIT_DISCLOSURE.name, AUDIT_ACCESS.name})
INBOUND_RETENTION_DAYS: Final = 400
"""The rules look back 365 days; rebuilding their state replays the inbound topics
(deploy/README.md, "Why 400 days and not 30")."""
AGENCY_RETENTION_DAYS: Final = 30


def retention_ms(topic: TopicSpec) -> int | None:
    """`retention.ms` in production: None for a compacted topic (latest per key, kept),
    -1 for the audit (the legal record of every disclosure and every view), else days.
    The Strimzi KafkaTopics and the AsyncAPI document are generated from this."""
    if topic.compacted:
        return None
    if topic.name in _KEPT_FOREVER:
        return KEEP_FOREVER
    if topic.name in _RETENTION_DAYS:
        return _RETENTION_DAYS[topic.name] * DAY_MS
    if topic.name in INBOUND_TOPICS:
        return INBOUND_RETENTION_DAYS * DAY_MS
    if topic.name.startswith("agency.") and topic.name.endswith(
        (".notification.v1", ".feedback.v1")
    ):
        return AGENCY_RETENTION_DAYS * DAY_MS
    raise InvalidInput([Problem("topic", "has no declared retention")])
