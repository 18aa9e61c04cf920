"""Phases (a) and (a2): the ceiling loop and the bare faust agent, each in its own process.

Both are measured as the worker is (bench.live_worker): the consumer is started on
fresh, empty topics and waited for until its partitions are assigned; then the same
pre-encoded events are put on Kafka as fast as the producer can, and the phase's time
runs from the first send until the consumer says it has written its last output. So
every phase pays the same producer and none pays its own start-up. The consumer's
process is started from the project's root with `python -m`, so that it imports this
worktree's packages, and is always stopped at the end of the phase.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from bench.live_events import Wire
from bench.live_kafka import blast, fresh_topics
from broker.settings import PROJECT_ROOT


def clean_env() -> dict[str, str]:
    """The environment without any MASH_* setting of the caller's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}


def report(stream: IO[bytes], key: str, timeout: float) -> dict[str, Any]:
    """The next JSON line on `stream` that has `key` (other output is skipped)."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                continue
            line = stream.readline()
            if not line:
                raise RuntimeError(f"the consumer exited before reporting {key!r}")
            try:
                found = json.loads(line)
            except ValueError:
                continue
            if isinstance(found, dict) and key in found:
                return found
    raise TimeoutError(f"no {key!r} report within {timeout:.0f}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a phase's process, killing it if it does not stop within 30 s."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def module_process(args: list[str], log_path: Path) -> Iterator[IO[bytes]]:
    """`python -m ARGS` from the project's root without the caller's MASH_* settings,
    its stderr to `log_path`: its stdout, the process stopped on the way out."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=PROJECT_ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=log,
        )
        assert proc.stdout is not None
        try:
            yield proc.stdout
        finally:
            stop(proc)


def run_ceiling(
    kind: str, bootstrap: str, wires: list[Wire], root: Path, partitions: int, timeout: float
) -> dict[str, float]:
    """`kind` "raw" (bench.live_raw) or "faust" (bench.live_faust): its figures."""
    asyncio.run(fresh_topics(bootstrap, partitions))
    common = ["--bootstrap", bootstrap, "--expect", str(len(wires))]
    if kind == "raw":
        args = ["bench.live_raw", *common, "--group", f"bench-raw-{uuid.uuid4().hex[:6]}"]
        args += ["--timeout", str(timeout)]
    else:
        datadir = root / f"faust-{uuid.uuid4().hex[:6]}"
        args = ["bench.live_faust", *common, "--app-id", datadir.name]
        args += ["--datadir", str(datadir), "--partitions", str(partitions)]
    with module_process(args, root / f"{kind}.log") as stdout:
        ready = report(stdout, "ready", 120)
        started = time.time()
        sent = asyncio.run(blast(bootstrap, wires))
        done = report(stdout, "done", timeout)
    if done["records"] < len(wires):
        raise RuntimeError(f"{kind}: only {done['records']} of {len(wires)} in {timeout:.0f}s")
    seconds = done["done"] - started
    return {
        "events": len(wires),
        "send_seconds": sent,
        "seconds": seconds,
        "events_per_second": len(wires) / seconds,
        "cpu_seconds": done["cpu"] - ready.get("cpu", 0.0),
    }
