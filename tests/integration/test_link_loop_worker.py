"""The worker with the link stage as a transactional loop (MASH_LINK_STAGE=loop) on the
real Kafka publishes exactly what replay publishes.

The same scenarios and the same council's stream as test_live_equals_replay.py (whose
worker runs the faust link agent), through `mash-broker worker` with the loop: its own
consumer on broker.accepted.v1, one Kafka transaction per batch holding the outputs,
the state records and the offsets (broker/kafka/link_loop.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.kafka.local import LocalKafka
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _council,
    check_scenario,
    check_stream,
)

CHOSEN = (
    "identity_decision_merges",
    "identity_contradicting_nhs_number_review",
    "decision_one_minute_late_fires",
    "duplicate_event_is_processed_once",
)


def loop_worker(bootstrap: str, tmp_path: Path) -> LiveWorker:
    worker = LiveWorker(bootstrap, tmp_path)
    worker.process.env["MASH_LINK_STAGE"] = "loop"
    return worker


@pytest.mark.parametrize("name", CHOSEN)
def test_the_loop_worker_publishes_what_replay_publishes(
    name: str, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    check_scenario(own_kafka.bootstrap, tmp_path, name, MASH_LINK_STAGE="loop")


def test_a_councils_stream_through_the_loop_worker_is_what_replay_publishes(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    events = _council(300)
    until = _a_fortnight_after(events)
    check_stream(own_kafka.bootstrap, tmp_path, events, until, MASH_LINK_STAGE="loop")
