"""The child loop's tables in memory (broker/kafka/child_state.py): what a write becomes
on the changelog, and what a changelog record becomes in memory, in faust's format."""

from __future__ import annotations

import json

from broker.kafka.child_state import (
    INBOX,
    TIMERS,
    StateMap,
    child_changelogs,
    child_state_maps,
    decode_key,
    encode_key,
)
from broker.kafka.tables import PICTURES
from broker.pipeline import offsets


def test_a_write_is_noted_under_the_partition_being_handled_until_taken() -> None:
    timers = StateMap(TIMERS, partition=3)
    timers["child-1"] = {"due": "2026-01-01T00:00:00+00:00", "partition": 3}
    timers.partition = 5
    timers["child-2"] = {"due": "2026-01-02T00:00:00+00:00", "partition": 5}
    assert timers.taken(3) == [
        (b'"child-1"', json.dumps(timers["child-1"]).encode()),
    ]
    assert timers.taken(3) == []  # taken once
    assert [key for key, _ in timers.taken(5)] == [b'"child-2"']


def test_a_deleted_key_is_a_tombstone_on_the_partition_it_lives_on() -> None:
    inbox = StateMap(INBOX)
    inbox.load(2, b'"child-1"', b'{"awaiting": ["x"], "pending": []}')
    inbox.partition = 4  # handling another partition's message (it never would: keyed)
    assert inbox.pop("child-1") == {"awaiting": ["x"], "pending": []}
    assert inbox.taken(2) == [(b'"child-1"', None)]
    assert "child-1" not in inbox


def test_pictures_are_kept_and_written_as_the_bytes_they_are() -> None:
    pictures = StateMap(PICTURES, raw_values=True, partition=0)
    pictures["child-1"] = b'{"child_id": "child-1"}'
    assert pictures.taken(0) == [(b'"child-1"', b'{"child_id": "child-1"}')]
    pictures.load(1, b'"child-2"', b"{}")
    assert pictures["child-2"] == b"{}"


def test_a_changelog_read_in_order_keeps_each_keys_last_record() -> None:
    timers = StateMap(TIMERS)
    key = encode_key(offsets.next_offset_key(0))
    for record in (b'"10"', b'"12"', None, b'"15"'):
        timers.load(0, key, record)
    assert offsets.expected(timers, offsets.next_offset_key(0)) == 15
    timers.load(0, b"not json", b"1")  # a key no faust table writes: passed over
    assert len(timers) == 1


def test_reset_forgets_what_was_not_taken_too() -> None:
    maps = child_state_maps()
    maps[TIMERS].partition = 1
    maps[TIMERS]["child-1"] = {"due": "x", "partition": 1}
    maps[TIMERS].reset()
    assert (len(maps[TIMERS]), maps[TIMERS].taken(1)) == (0, [])


def test_keys_are_json_strings_as_faust_writes_them() -> None:
    assert encode_key("child-1") == b'"child-1"'
    assert decode_key(b'"child-1"') == "child-1"
    assert decode_key(b"7") is None


def test_the_changelogs_are_the_faust_tables_own() -> None:
    names = [t.name for t in child_changelogs("app", 6)]
    assert names == [
        "app-child-pictures-changelog",
        "app-child-inbox-changelog",
        "app-child-timers-changelog",
    ]
    assert all(t.compacted and t.partitions == 6 for t in child_changelogs("app", 6))


def test_a_partition_given_up_is_dropped_and_the_others_kept() -> None:
    """The child loop keeps the partitions it still holds across a rebalance: dropping
    one forgets its keys and its writes not yet taken, nothing of the others."""
    timers = StateMap(TIMERS)
    timers.load(1, b'"child-1"', b'{"due": "x", "partition": 1}')
    timers.load(2, b'"child-2"', b'{"due": "y", "partition": 2}')
    timers.partition = 1
    timers["child-3"] = {"due": "z", "partition": 1}
    timers.partition = 2
    timers["child-4"] = {"due": "w", "partition": 2}
    timers.drop([1])
    assert set(timers) == {"child-2", "child-4"}
    assert timers.taken(1) == []
    assert [key for key, _ in timers.taken(2)] == [b'"child-4"']


def test_reading_a_partition_taken_leaves_the_others_keys_alone() -> None:
    pictures = StateMap(PICTURES, raw_values=True)
    pictures.load(1, b'"child-1"', b"{}")
    pictures.load(2, b'"child-1"', None)  # not partition 2's key
    assert pictures["child-1"] == b"{}"
    pictures.load(1, b'"child-1"', None)
    assert "child-1" not in pictures
