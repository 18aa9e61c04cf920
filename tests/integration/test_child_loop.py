"""The child stage as a transactional loop (MASH_CHILD_STAGE=loop) on the real Kafka.

The council's stream through a worker whose child stage is the loop publishes exactly
what replay does, and the MASH page's source, the child-pictures changelog, holds the
pictures replay ends with. A worker switched from the faust agent to the loop (stopped,
switched, started: deploy/README.md) carries on from the agent's tables, which are the
loop's too (broker/kafka/child_state.py): the outputs are replay's, each once.
"""

from __future__ import annotations

from pathlib import Path

from broker.kafka.local import LocalKafka
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _council,
    check_stream,
)

LOOP = {"MASH_CHILD_STAGE": "loop"}


def test_the_councils_stream_through_the_child_loop_is_what_replay_publishes(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    events = _council(200)
    check_stream(
        own_kafka.bootstrap, tmp_path, events, _a_fortnight_after(events), LOOP, _ran_the_loop
    )


def _ran_the_loop(worker: LiveWorker) -> None:
    log = worker.process.log.read_text(errors="replace")
    assert "child loop took its partitions" in log
    assert "child transaction failed" not in log
