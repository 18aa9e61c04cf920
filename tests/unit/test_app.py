"""The faust app is built from the settings alone, and connects to nothing when built."""

from __future__ import annotations

from pathlib import Path

from broker.app import create_app
from broker.settings import Settings


def test_the_producer_gathers_records_as_the_settings_say(tmp_path: Path) -> None:
    app = create_app(
        Settings(state_dir=tmp_path, producer_linger_seconds=0.01, producer_batch_bytes=65_536)
    )
    assert app.conf.producer_linger == 0.01
    assert app.conf.producer_max_batch_size == 65_536
    assert app.conf.producer_acks == -1  # every replica has it before a batch counts as sent


def test_by_default_a_request_leaves_at_once_with_room_for_a_whole_batch(tmp_path: Path) -> None:
    """Every stage hands a batch's records to the producer before it yields, so they
    share requests without lingering (tests/unit/test_producer_batching.py); a linger
    only delayed each hop (docs/notes/faust-kafka.md, "No linger")."""
    conf = create_app(Settings(state_dir=tmp_path)).conf
    assert conf.producer_linger == 0
    assert conf.producer_max_batch_size > 16_384  # faust's default: some fifteen alerts


def test_a_topic_missed_at_assignment_is_found_within_seconds(tmp_path: Path) -> None:
    """The leader assigns only the topics its metadata knows; a refresh showing a new one
    starts the rebalance that assigns it (Kafka's default waits 5 minutes)."""
    conf = create_app(Settings(state_dir=tmp_path)).conf
    assert conf.consumer_metadata_max_age_ms <= 10_000
