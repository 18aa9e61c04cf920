"""The tables' co-partitioning check: a changelog not in the metadata yet is not a
mismatch (faust crashed the child agent on it), a real mismatch still is."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import faust
import pytest
from faust.exceptions import PartitionsMismatch
from faust.streams import _current_event

from broker.app import create_app
from broker.kafka.tables import CopartitionedTable, declare_tables
from broker.settings import Settings
from broker.topics import LINKED


class LeaderSnapshot:
    """The consumer's partition counts as aiokafka's group leader last saw them (the
    port faust's check reads): a topic missing from the metadata at the time counts 0."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def topic_partitions(self, topic: str) -> int | None:
        return self.counts.get(topic)


def timers_table(tmp_path: Path, counts: dict[str, int]) -> faust.Table:
    app = create_app(Settings(state_dir=tmp_path, store="memory"))
    app.consumer = LeaderSnapshot(counts)
    return declare_tables(app).timers


def write_from_linked(table: faust.Table) -> int | None:
    """Where a write from a message of broker.linked.v1, partition 3, would go."""
    event = SimpleNamespace(message=SimpleNamespace(topic=LINKED.name, partition=3))
    token = _current_event.set(lambda: event)
    try:
        return table.partition_for_key("child-1")  # type: ignore[no-any-return]
    finally:
        _current_event.reset(token)


def test_the_worker_declares_its_tables_with_the_check_that_knows_unknown(tmp_path: Path) -> None:
    assert isinstance(timers_table(tmp_path, {}), CopartitionedTable)


def test_a_changelog_missing_from_the_leaders_snapshot_is_not_a_mismatch(tmp_path: Path) -> None:
    table = timers_table(tmp_path, {})
    table.app.consumer.counts = {LINKED.name: 12, table.changelog_topic_name: 0}
    assert write_from_linked(table) == 3
    # faust's own table raised here on every write, for minutes (the bug this guards)
    plain = faust.Table(table.app, name="child-timers", key_type=str)
    with pytest.raises(PartitionsMismatch):
        write_from_linked(plain)


def test_once_known_the_counts_are_checked_as_faust_checks_them(tmp_path: Path) -> None:
    table = timers_table(tmp_path, {})
    table.app.consumer.counts = {LINKED.name: 12, table.changelog_topic_name: 0}
    write_from_linked(table)  # not known yet: skipped, not remembered as verified
    table.app.consumer.counts[table.changelog_topic_name] = 4  # a real mismatch
    with pytest.raises(PartitionsMismatch):
        write_from_linked(table)
    table.app.consumer.counts[table.changelog_topic_name] = 12
    assert write_from_linked(table) == 3
