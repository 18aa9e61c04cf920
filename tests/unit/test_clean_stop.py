"""A worker that did not stop cleanly discards its local tables (faust restores them from
the changelogs); one that did keeps them. Why: broker/kafka/clean_stop.py."""

from __future__ import annotations

from pathlib import Path

from broker.kafka.clean_stop import discard_unless_stopped_cleanly, mark_stopped_cleanly


def tables(state: Path) -> Path:
    tabledir = state / "v1" / "tables"
    (tabledir / "identity-0.db").mkdir(parents=True)
    (tabledir / "identity-0.db" / "000001.log").write_bytes(b"a write Kafka never got")
    return tabledir


def test_tables_left_by_a_killed_worker_are_discarded(tmp_path: Path) -> None:
    tabledir = tables(tmp_path)
    assert discard_unless_stopped_cleanly(tmp_path, tabledir)
    assert not tabledir.exists()


def test_tables_of_a_clean_stop_are_kept_once(tmp_path: Path) -> None:
    tabledir = tables(tmp_path)
    mark_stopped_cleanly(tmp_path)
    assert not discard_unless_stopped_cleanly(tmp_path, tabledir)
    assert tabledir.exists()
    # the mark is used up: killed in this run, the next start discards
    assert discard_unless_stopped_cleanly(tmp_path, tabledir)


def test_a_first_start_has_nothing_to_discard(tmp_path: Path) -> None:
    assert not discard_unless_stopped_cleanly(tmp_path, tmp_path / "v1" / "tables")
