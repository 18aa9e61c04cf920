"""The thin adapter between Kafka and the page's views.

One aiokafka consumer, without a consumer group (nothing is committed: every start
reads each topic from the beginning and then follows it), reads the alerts, the
decisions, the identity decisions, the disclosure and access audits and the worker's child-pictures
changelog, turns each record into a view record (`view_record`, pure) and folds it into
`MashViews`. Whoever waits for a change (the queue's live stream) is woken once per
batch. A record that cannot be read is logged by topic and offset (never its content)
and skipped: one bad record must not blank the MASH's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from broker.codec import AvroCodec
from broker.errors import BrokerError
from broker.kafka.admin import client_options
from broker.models import AccessAudit, Alert, AuditDisclosure, IdentityDecision, MashDecision
from broker.picture.model import ChildPicture
from broker.settings import Settings
from broker.topics import ALERTS, AUDIT_ACCESS, AUDIT_DISCLOSURE, INBOUND, TopicSpec
from broker.web.views import (
    AccessSeen,
    AlertSeen,
    DecisionSeen,
    DisclosureSeen,
    IdentityDecisionSeen,
    MashViews,
    PictureSeen,
    ViewRecord,
)

log = logging.getLogger("broker.web.feed")

DECISIONS: Final = INBOUND["mash.decision"].name
IDENTITY_DECISIONS: Final = INBOUND["mash.identity_decision"].name


def pictures_changelog(app_id: str) -> str:
    """The changelog topic of the worker's `child-pictures` table (faust's naming, as
    broker.kafka.tables.changelog_topic; not imported from there, which would load faust into
    the page's process)."""
    return f"{app_id}-child-pictures-changelog"


VIEWED: Final = (
    ALERTS,
    INBOUND["mash.decision"],
    INBOUND["mash.identity_decision"],
    AUDIT_DISCLOSURE,
    AUDIT_ACCESS,
)
"""The declared topics the page's views are built from (with the worker's child-pictures
changelog, which is not declared: faust names and creates it)."""


def page_topics() -> list[TopicSpec]:
    """The declared topics the page reads or writes: those it makes sure exist at start,
    and the only ones its principal may see (broker.kafka.acls). The child-pictures changelog
    is the worker's (faust creates it); the feed waits for it by pattern."""
    return list(VIEWED)


def view_topics(app_id: str) -> list[str]:
    return [*(t.name for t in VIEWED), pictures_changelog(app_id)]


_WRAPPERS: Final[dict[str, tuple[type[BaseModel], Callable[[Any], ViewRecord]]]] = {
    ALERTS.name: (Alert, AlertSeen),
    DECISIONS: (MashDecision, DecisionSeen),
    IDENTITY_DECISIONS: (IdentityDecision, IdentityDecisionSeen),
    AUDIT_DISCLOSURE.name: (AuditDisclosure, DisclosureSeen),
    AUDIT_ACCESS.name: (AccessAudit, AccessSeen),
}
"""Topic -> the model it carries and the view record made of it."""


def topics_pattern(topics: list[str]) -> str:
    """A regular expression matching exactly these topic names."""
    return "^(" + "|".join(re.escape(t) for t in topics) + ")$"


class UnreadableRecord(ValueError):
    """A record the page cannot read (the reason names no content)."""


def _child_key(key: bytes | None) -> str:
    if not key:
        raise UnreadableRecord("a child picture without a key")
    text = key.decode("utf-8", errors="strict")
    if text.startswith('"'):  # tolerate a JSON-encoded key
        decoded = json.loads(text)
        if not isinstance(decoded, str):
            raise UnreadableRecord("a child picture key that is not a string")
        return decoded
    return text


def view_record(
    topic: str, key: bytes | None, value: bytes | None, codec: AvroCodec, changelog: str
) -> ViewRecord | None:
    """The view record of one Kafka record; None for a record the page does not use.
    `UnreadableRecord` for one it cannot read."""
    try:
        if topic == changelog:
            child_id = _child_key(key)
            picture = None if value is None else ChildPicture.model_validate_json(value)
            return PictureSeen(child_id, picture)
        model = None if value is None else codec.decode(value)
    except (BrokerError, ValueError) as exc:
        raise UnreadableRecord(type(exc).__name__) from None
    wrap = _WRAPPERS.get(topic)
    if wrap is None or not isinstance(model, wrap[0]):
        return None
    return wrap[1](model)


class Changes:
    """Wakes everyone waiting when the views change (the queue's live stream)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> bool:
        """True when a change came within `timeout` seconds."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class ViewFeed:
    """Reads the view topics into `views` until stopped; `ready` once caught up with
    what the topics held at start."""

    def __init__(
        self, settings: Settings, codec: AvroCodec, views: MashViews, changes: Changes
    ) -> None:
        self.settings = settings
        self.codec = codec
        self.views = views
        self.changes = changes
        self.changelog = pictures_changelog(settings.app_id)
        self.ready = False
        self.skipped = 0
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # What the link and child loops wrote in a transaction they aborted is never
            # shown: their records, and the child loop's pictures (broker/kafka/child_loop.py).
            isolation_level="read_committed",
            metadata_max_age_ms=5_000,  # a topic created later (the changelog) is found soon
            **client_options(self.settings),
        )
        # A pattern, not a list: the worker creates the changelog when it first starts,
        # which may be after the page; a listed topic that does not exist fails the start.
        self._consumer.subscribe(pattern=topics_pattern(view_topics(self.settings.app_id)))
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="mash-page-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        ends: dict[TopicPartition, int] | None = None
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=500, max_records=2000)
                if ends is None and consumer.assignment():
                    ends = await consumer.end_offsets(list(consumer.assignment()))
            except (KafkaError, OSError) as exc:  # Kafka away: the page keeps what it has
                log.warning("view feed: kafka error, retrying", extra={"error": type(exc).__name__})
                await asyncio.sleep(1)
                continue
            changed = False
            for partition, messages in batch.items():
                for message in messages:
                    changed |= self._fold(partition, message.offset, message.key, message.value)
            if changed:
                self.changes.notify()
            if not self.ready and ends is not None and await self._caught_up(consumer, ends):
                self.ready = True
                log.info("view feed caught up", extra={"count": self.views.version})
                self.changes.notify()

    @staticmethod
    async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
        assigned = consumer.assignment()
        for tp, end in ends.items():
            if tp in assigned and await consumer.position(tp) < end:
                return False
        return True

    def _fold(
        self, partition: TopicPartition, offset: int, key: bytes | None, value: bytes | None
    ) -> bool:
        try:
            record = view_record(partition.topic, key, value, self.codec, self.changelog)
            return record is not None and self.views.apply(record)
        except Exception as exc:  # one record must never stop the page's views
            self.skipped += 1
            reason = str(exc) if isinstance(exc, UnreadableRecord) else type(exc).__name__
            log.warning(
                "view feed: record skipped",
                extra={
                    "topic": partition.topic,
                    "partition": partition.partition,
                    "offset": offset,
                    "error": reason,
                },
            )
            return False
