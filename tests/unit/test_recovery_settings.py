"""The settings that bring a killed worker back within seconds (docs/operations.md,
"Recovery after a crash"), as the faust app receives them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from broker.app import create_app, group_instance_id
from broker.settings import Settings


def test_the_app_is_a_static_member_with_a_ten_second_session(tmp_path: Path) -> None:
    conf = create_app(Settings(state_dir=tmp_path)).conf
    assert conf.consumer_group_instance_id == group_instance_id(Settings(state_dir=tmp_path))
    assert (conf.broker_session_timeout, conf.broker_heartbeat_interval) == (10.0, 1.0)


def test_the_derived_instance_id_follows_the_state_directory(tmp_path: Path) -> None:
    one, other = Settings(state_dir=tmp_path / "a"), Settings(state_dir=tmp_path / "b")
    assert group_instance_id(one) == group_instance_id(Settings(state_dir=tmp_path / "a"))
    assert group_instance_id(one) != group_instance_id(other)
    named = Settings(
        worker_instance_id="worker-1",
        worker_web_port=6066,
        link_stage="faust",
        ingest_stage="faust",
        child_stage="faust",
    )
    assert group_instance_id(named) == "worker-1@127.0.0.1:6066"


def test_a_worker_switched_between_link_stages_is_another_member(tmp_path: Path) -> None:
    """faust's consumer subscribes to broker.accepted.v1 only with the faust link agent; a
    static member rejoining with another subscription would get its old assignment back
    (an unsubscribed topic: aiokafka's assertion, never ready)."""
    faust, loop = (Settings(state_dir=tmp_path, link_stage=s) for s in ("faust", "loop"))
    assert group_instance_id(faust) != group_instance_id(loop)
    named = Settings(
        worker_instance_id="worker-1",
        worker_web_port=6066,
        link_stage="loop",
        ingest_stage="faust",
        child_stage="faust",
    )
    assert group_instance_id(named) == "worker-1-loop@127.0.0.1:6066"


def test_a_worker_switched_between_ingest_stages_is_another_member(tmp_path: Path) -> None:
    """The same for the inbound topics, which faust's consumer reads only with the faust
    ingest agent (tests/integration/test_ingest_loop.py: the switched worker never got
    ready before)."""
    agent, loop = (Settings(state_dir=tmp_path, ingest_stage=s) for s in ("faust", "loop"))
    assert group_instance_id(agent) != group_instance_id(loop)
    named = Settings(
        worker_instance_id="w", worker_web_port=6066, ingest_stage="loop", child_stage="faust"
    )
    assert group_instance_id(named) == "w-loop-ingest-loop@127.0.0.1:6066"


def test_a_worker_switched_between_child_stages_is_another_member(tmp_path: Path) -> None:
    """And for broker.linked.v1, which faust's consumer reads only with the faust child
    agent (tests/integration/test_child_loop.py switches a worker)."""
    agent, loop = (Settings(state_dir=tmp_path, child_stage=s) for s in ("faust", "loop"))
    assert group_instance_id(agent) != group_instance_id(loop)
    named = Settings(worker_instance_id="w", worker_web_port=6066)  # every default: loops
    assert group_instance_id(named) == "w-loop-ingest-loop-child-loop@127.0.0.1:6066"


def test_a_worker_on_another_web_port_is_another_member(tmp_path: Path) -> None:
    """faust's assignor insists an assignment names the worker's own URL: a static member
    given its old assignment on a new port would never become ready."""
    one = Settings(state_dir=tmp_path, worker_web_port=6066)
    assert group_instance_id(one) != group_instance_id(
        Settings(state_dir=tmp_path, worker_web_port=6067)
    )


def test_heartbeats_must_be_at_most_a_third_of_the_session() -> None:
    with pytest.raises(ValidationError):
        Settings(session_timeout_seconds=6, heartbeat_seconds=3)
