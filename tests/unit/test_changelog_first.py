"""A table's local store is never ahead of its changelog (broker.kafka.changelog_first).

faust wrote RocksDB before Kafka had the changelog record: a worker killed between the
two kept writes Kafka never got, and a redelivered event was then a no-op on its disk
and missing everywhere else (bench.chaos seed 2). Here the changelog is a port: a fake
that keeps what was sent and acknowledges only when the test says so, which is how a
kill "between the two" is made exact. The store is faust's own, RocksDB on disk (a
restarted worker is a new app opening the same directory) or memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.streams import _current_event
from faust.types import TP
from faust.types.tuples import RecordMetadata

from broker.app import create_app
from broker.kafka.changelog_first import ChangelogFirstTable
from broker.kafka.tables import declare_tables
from broker.settings import Settings
from broker.topics import LINKED

PARTITION = 3


class Changelog:
    """The changelog topic's port: records sent, acknowledged when the test says."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[Any, Any, Callable[[Any], None], Any]] = []
        self.offset = 0

    def get_topic_name(self) -> str:
        return self.name

    def send_soon(self, *, key: Any, value: Any, partition: int, callback: Any, **_: Any) -> Any:
        fut = SimpleNamespace(message=SimpleNamespace(partition=partition))
        self.sent.append((key, value, callback, fut))
        return fut

    def acknowledge(self, count: int | None = None) -> None:
        """Kafka has the first `count` records not yet acknowledged (all by default)."""
        due, self.sent = self.sent[:count], self.sent[len(self.sent[:count]) :]
        for _, _, callback, fut in due:
            tp = TP(self.name, fut.message.partition)
            metadata = RecordMetadata(tp.topic, tp.partition, tp, self.offset)
            self.offset += 1
            fut.result = lambda metadata=metadata: metadata
            callback(fut)


class LeaderSnapshot:
    def topic_partitions(self, topic: str) -> int:
        return 12


@contextmanager
def in_a_message() -> Iterator[None]:
    """faust writes a table from within a message's context: one of broker.linked.v1."""
    event = SimpleNamespace(message=SimpleNamespace(topic=LINKED.name, partition=PARTITION))
    token = _current_event.set(lambda: event)
    try:
        yield
    finally:
        _current_event.reset(token)


def worker_timers(tmp_path: Path, store: str) -> tuple[faust.Table, Changelog]:
    """The child stage's timers table of a worker whose state is in `tmp_path`."""
    app = create_app(Settings(state_dir=tmp_path, store=store))  # type: ignore[arg-type]
    app.consumer = LeaderSnapshot()
    table = declare_tables(app).timers
    changelog = Changelog(table.changelog_topic_name)
    table.changelog_topic = changelog
    return table, changelog


def close(table: faust.Table) -> None:
    """Let go of the table's RocksDB files, as a killed process does (it opens them
    again at its next write, as faust does)."""
    for db in table.data._dbs.values():
        db.close()
    table.data._dbs.clear()


def on_disk(tmp_path: Path, key: str, *, writer: faust.Table) -> Any:
    """What a worker restarted on the same state directory finds in its store."""
    close(writer)
    table, _ = worker_timers(tmp_path, "rocksdb")
    try:
        with in_a_message():
            return table.data.get(key)
    finally:
        close(table)


def test_the_worker_declares_its_tables_changelog_first(tmp_path: Path) -> None:
    table, _ = worker_timers(tmp_path, "memory")
    assert isinstance(table, ChangelogFirstTable)


def test_a_write_kafka_never_acknowledged_is_not_on_disk_after_a_kill(tmp_path: Path) -> None:
    table, changelog = worker_timers(tmp_path, "rocksdb")
    with in_a_message():
        table["child-1"] = {"due": "2026-12-04T09:00:00"}
        assert table["child-1"] == {"due": "2026-12-04T09:00:00"}  # the worker reads it
        assert "child-1" in table
        assert [k for k, _ in table.items()] == ["child-1"]
    assert len(changelog.sent) == 1
    # killed here: the record never acknowledged, so the disk must not have it
    assert on_disk(tmp_path, "child-1", writer=table) is None


def test_faust_s_own_table_wrote_the_disk_first(tmp_path: Path) -> None:
    """The fault this guards: faust's Table puts the value on disk before Kafka has it."""
    table, changelog = worker_timers(tmp_path, "rocksdb")
    plain = faust.Table(table.app, name="plain", key_type=str)
    plain.changelog_topic = changelog
    with in_a_message():
        plain["child-1"] = {"due": "x"}
        assert plain.data["child-1"] == {"due": "x"}
    assert changelog.sent  # sent, not acknowledged: already on disk


def test_an_acknowledged_write_is_on_disk_with_its_offset(tmp_path: Path) -> None:
    table, changelog = worker_timers(tmp_path, "rocksdb")
    with in_a_message():
        table["child-1"] = {"due": "a"}
        table["child-2"] = {"due": "b"}
    changelog.acknowledge(1)
    assert on_disk(tmp_path, "child-1", writer=table) == {"due": "a"}
    assert on_disk(tmp_path, "child-2", writer=table) is None
    close(table)
    restarted, _ = worker_timers(tmp_path, "rocksdb")
    tp = TP(changelog.name, PARTITION)
    assert restarted.data.persisted_offset(tp) == 0  # recovery reads from offset 1 on
    close(restarted)


def test_writes_to_one_key_reach_the_disk_in_order_and_reads_see_the_latest(
    tmp_path: Path,
) -> None:
    table, changelog = worker_timers(tmp_path, "memory")
    with in_a_message():
        table["child-1"] = {"due": "first"}
        table["child-1"] = {"due": "second"}
        changelog.acknowledge(1)
        assert table.data["child-1"] == {"due": "first"}
        assert table["child-1"] == {"due": "second"}  # still the worker's latest
        changelog.acknowledge()
        assert table.data["child-1"] == {"due": "second"}
        assert table["child-1"] == {"due": "second"}
        assert len(table) == 1


def test_a_deletion_hides_the_value_at_once_and_leaves_the_disk_when_acknowledged(
    tmp_path: Path,
) -> None:
    table, changelog = worker_timers(tmp_path, "rocksdb")
    with in_a_message():
        table["child-1"] = {"due": "a"}
        changelog.acknowledge()
        assert table.pop("child-1") == {"due": "a"}
        assert "child-1" not in table
        assert table.get("child-1") is None
        assert list(table) == []
        with pytest.raises(KeyError):
            del table["child-1"]
    # killed before the tombstone was acknowledged: the value is still on disk
    assert on_disk(tmp_path, "child-1", writer=table) == {"due": "a"}
    changelog.acknowledge()
    assert on_disk(tmp_path, "child-1", writer=table) is None


def test_a_rebalance_drops_the_pending_writes_of_partitions_taken_away(tmp_path: Path) -> None:
    table, changelog = worker_timers(tmp_path, "memory")
    with in_a_message():
        table["child-1"] = {"due": "a"}
    revoked = {TP(changelog.name, PARTITION)}
    asyncio.run(table.on_rebalance(set(), revoked, set()))
    assert "child-1" not in table  # its new owner restores it from the changelog
    changelog.acknowledge()  # a late acknowledgement still lands where Kafka has it
    assert table.data["child-1"] == {"due": "a"}


def test_the_persisted_offset_does_not_jump_past_another_writer_s_records(
    tmp_path: Path,
) -> None:
    """A worker that lost its partition without knowing it yet writes after the new
    owner: faust moved the persisted offset to that write, past the owner's records,
    which no recovery then read (bench.chaos seed 2: the paused worker's identity store
    lacked 2 children and had 12 stale). The offset stays where the worker's reading
    stopped, and the next recovery reads on from there."""
    table, changelog = worker_timers(tmp_path, "rocksdb")
    tp = TP(changelog.name, PARTITION)
    with in_a_message():
        table["child-1"] = {"due": "a"}
        changelog.acknowledge()
        assert table.data.persisted_offset(tp) == 0
        table["child-2"] = {"due": "b"}
        changelog.acknowledge()
        assert table.data.persisted_offset(tp) == 1  # its own records, one after another
        changelog.offset = 5  # offsets 2-4: the partition's new owner wrote them
        table["child-1"] = {"due": "late"}
        changelog.acknowledge()
        assert table.data.persisted_offset(tp) == 1  # recovery reads 2-4, and 5 again
        assert table.data["child-1"] == {"due": "late"}  # what Kafka has, on disk
    close(table)
