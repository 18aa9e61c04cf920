"""The state directory check: what counts as "cannot be written", what the worker says,
and that a worker started on such a directory stops before it connects to anything."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.errors import InvalidInput, Problem, StateUnwritable
from broker.ops.health import Readiness
from broker.ops.logs import JsonFormatter
from broker.ops.state_dir import (
    EXIT_STATE_UNWRITABLE,
    PROBE_NAME,
    StateWatch,
    is_storage_fault,
    problem,
)
from broker.settings import PROJECT_ROOT


def test_a_writable_directory_has_no_problem_and_keeps_no_probe(tmp_path: Path) -> None:
    assert problem(tmp_path / "new" / "state") is None  # made if missing
    assert list((tmp_path / "new" / "state").iterdir()) == []
    assert not (tmp_path / PROBE_NAME).exists()


def test_a_file_where_the_directory_should_be_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")
    assert problem(tmp_path / "state") == "ENOTDIR"
    assert problem(tmp_path / "state" / "below") == "ENOTDIR"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the mode bits say")
def test_a_read_only_directory_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state").chmod(0o500)
    try:
        assert problem(tmp_path / "state") == "EACCES"
    finally:
        (tmp_path / "state").chmod(0o700)


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EROFS, "Read-only file system"),
        PermissionError(errno.EACCES, "Permission denied"),
        Exception("IO error: No space left on device: While appending to file: 000004.log"),
        Exception("IO error: Read-only file system: While open a file for appending: LOG"),
        Exception("Corruption: block checksum mismatch"),
        Exception("No space left on device (os error 28)"),
        StateUnwritable("a table write failed"),
    ],
)
def test_the_disks_faults_are_storage_faults(exc: BaseException) -> None:
    assert is_storage_fault(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("IO error: a message that quotes the disk"),  # not RocksDB's bare Exception
        Exception("something else went wrong"),
        KeyError("child-1"),
        ConnectionError(errno.ECONNREFUSED, "Kafka is away"),
        InvalidInput([Problem("subject.nhs_number", "invalid")]),
    ],
)
def test_other_faults_are_not(exc: BaseException) -> None:
    assert not is_storage_fault(exc)


def test_the_watch_stops_the_worker_with_75_and_one_line_that_says_why(tmp_path: Path) -> None:
    stopped: list[int] = []
    (tmp_path / "state").write_text("")
    watch = StateWatch(tmp_path / "state", stop=stopped.append)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("broker.ops.state_dir")
    logger.addHandler(handler)
    try:
        assert not watch.check()
    finally:
        logger.removeHandler(handler)
    assert stopped == [EXIT_STATE_UNWRITABLE] == [75]
    assert not watch.writable
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["level"] == "critical"
    assert line["state_dir"] == str(tmp_path / "state")
    assert line["error"] == "ENOTDIR"
    assert "state directory cannot be written" in line["msg"]


def test_the_watch_leaves_a_writable_directory_and_other_faults_alone(tmp_path: Path) -> None:
    stopped: list[int] = []
    watch = StateWatch(tmp_path, stop=stopped.append)
    assert watch.check()
    assert not watch.fault(ValueError("a bug"))
    assert watch.fault(Exception("IO error: No space left on device"))
    assert stopped == [75]


def test_a_worker_that_cannot_write_its_state_is_not_ready() -> None:
    assert not Readiness(True, True, True, state_writable=False).ready
    assert Readiness(True, True, True).to_json()["state_writable"] is True


def test_a_worker_started_on_an_unwritable_directory_exits_75_before_connecting(
    tmp_path: Path,
) -> None:
    (tmp_path / "state").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env |= {
        "MASH_STATE_DIR": str(tmp_path / "state"),
        "MASH_KAFKA_BOOTSTRAP": "127.0.0.1:9",  # nothing there: it must not get that far
    }
    done = subprocess.run(
        [sys.executable, "-m", "broker.cli", "worker"],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 75, done.stderr
    lines = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    assert [(x["error"], x["state_dir"]) for x in lines] == [("ENOTDIR", str(tmp_path / "state"))]
