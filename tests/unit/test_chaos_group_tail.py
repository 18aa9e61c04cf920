"""What a failing group test shows of its workers (bench.chaos_group)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.chaos_group import Worker


def test_the_tail_leaves_out_heartbeat_repeats_and_a_stopped_worker_has_no_tasks(
    tmp_path: Path,
) -> None:
    log = tmp_path / "w.log"
    lines = [{"msg": "Executing _on_partitions_revoked"}] + [
        {"msg": "Heartbeat failed for group %s because it is rebalancing"}
    ] * 50
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    worker = Worker({"MASH_WORKER_WEB_PORT": "1"}, log)
    assert worker.tail() == json.dumps(lines[0])  # what the worker did before it stuck
    assert worker.tasks() == "(not running)"
