"""The Kafka adapter's pure part: which view record each topic's record becomes, and
the wake-up of the live stream."""

from __future__ import annotations

import asyncio
import re

import pytest

from broker.picture.model import ChildPicture
from broker.web.feed import (
    Changes,
    UnreadableRecord,
    pictures_changelog,
    topics_pattern,
    view_record,
    view_topics,
)
from broker.web.views import (
    AccessSeen,
    AlertSeen,
    DecisionSeen,
    DisclosureSeen,
    IdentityDecisionSeen,
    PictureSeen,
)
from tests.unit.web.test_views import decision, identity
from tests.unit.web.world import CODEC, World, access_record

CHANGELOG = pictures_changelog("mash-broker")


def test_the_topics_read_include_the_worker_s_picture_changelog() -> None:
    assert CHANGELOG == "mash-broker-child-pictures-changelog"
    assert view_topics("mash-broker") == [
        "mash.alert.v1",
        "mash.decision.v1",
        "mash.identity-decision.v1",
        "audit.disclosure.v1",
        "audit.access.v1",
        CHANGELOG,
    ]


def test_each_topic_s_avro_record_becomes_its_view_record(world: World) -> None:
    alert = world.alerts[0]
    disclosure = world.disclosures[0]
    made = decision("d1", "ev1")
    said = identity("i1", events=["e1"], children=["c1"])
    seen = access_record()
    cases = [
        ("mash.alert.v1", alert, AlertSeen(alert)),
        ("mash.decision.v1", made, DecisionSeen(made)),
        ("mash.identity-decision.v1", said, IdentityDecisionSeen(said)),
        ("audit.disclosure.v1", disclosure, DisclosureSeen(disclosure)),
        ("audit.access.v1", seen, AccessSeen(seen)),
    ]
    for topic, model, expected in cases:
        assert view_record(topic, b"k", CODEC.encode(model), CODEC, CHANGELOG) == expected


def test_a_record_on_the_wrong_topic_or_a_null_is_ignored(world: World) -> None:
    raw = CODEC.encode(world.alerts[0])
    assert view_record("mash.decision.v1", b"k", raw, CODEC, CHANGELOG) is None
    assert view_record("mash.alert.v1", b"k", None, CODEC, CHANGELOG) is None


def test_the_changelog_carries_pictures_as_json_and_tombstones(world: World) -> None:
    child_id, picture = next(iter(world.pictures.items()))
    raw = picture.model_dump_json().encode()
    record = view_record(CHANGELOG, child_id.encode(), raw, CODEC, CHANGELOG)
    assert record == PictureSeen(child_id, ChildPicture.model_validate_json(raw))
    assert view_record(CHANGELOG, child_id.encode(), None, CODEC, CHANGELOG) == PictureSeen(
        child_id, None
    )
    quoted = f'"{child_id}"'.encode()  # a JSON-encoded key is read too
    assert view_record(CHANGELOG, quoted, None, CODEC, CHANGELOG) == PictureSeen(child_id, None)


@pytest.mark.parametrize(
    ("topic", "key", "value"),
    [
        ("mash.alert.v1", b"k", b"not avro"),
        ("mash.alert.v1", b"k", b"\xc3\x01" + b"\x00" * 8),
        (CHANGELOG, b"c1", b"{not json"),
        (CHANGELOG, None, b"{}"),
        (CHANGELOG, b"\xff\xfe", None),
    ],
)
def test_an_unreadable_record_is_refused_without_its_content(
    topic: str, key: bytes | None, value: bytes | None
) -> None:
    with pytest.raises(UnreadableRecord) as caught:
        view_record(topic, key, value, CODEC, CHANGELOG)
    assert "not avro" not in str(caught.value)
    assert "json" not in str(caught.value).lower()


@pytest.mark.asyncio
async def test_changes_wake_every_waiter_once() -> None:
    changes = Changes()
    waiters = [asyncio.create_task(changes.wait(5)) for _ in range(3)]
    await asyncio.sleep(0)
    changes.notify()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert await changes.wait(0.01) is False


def test_the_pattern_matches_exactly_the_topics() -> None:
    pattern = re.compile(topics_pattern(view_topics("mash-broker")))
    assert pattern.match("mash.alert.v1")
    assert pattern.match(CHANGELOG)
    assert not pattern.match("mashXalert.v1")
    assert not pattern.match("mash.alert.v1.old")
    assert not pattern.match("other-child-pictures-changelog")


def test_a_bad_record_is_skipped_and_the_feed_goes_on(world: World) -> None:
    from aiokafka import TopicPartition

    from broker.settings import Settings
    from broker.web.feed import ViewFeed
    from broker.web.views import MashViews

    views = MashViews()
    feed = ViewFeed(Settings(), CODEC, views, Changes())  # nothing connects until start()
    alerts = TopicPartition("mash.alert.v1", 0)
    assert not feed._fold(alerts, 7, b"k", b"garbage")
    assert feed.skipped == 1
    assert feed._fold(alerts, 8, b"k", CODEC.encode(world.alerts[0]))
    assert views.alert(world.alerts[0].alert_id) == world.alerts[0]
    assert not feed._fold(alerts, 8, b"k", CODEC.encode(world.alerts[0]))  # seen: no change
