"""One worker's state directory made unwritable, in `python -m bench.chaos` and
tests/integration/test_state_dir_unwritable.py.

How: the directory is moved aside and a file put in its place, so that every file the
worker would create in it fails (ENOTDIR), as on a filesystem remounted read-only
(EROFS) or a full disk (ENOSPC). Not `chmod -R a-w`: these runs are often root, and root
writes whatever the mode bits say. Not a tiny tmpfs or loop device: mounting needs
privileges CI does not have. The difference to know: RocksDB keeps writing through the
files it already holds open (the moved directory's log), so here the worker finds out
from its own check (broker/ops/state_dir.py, every MASH_STATE_CHECK_SECONDS) rather
than from a failing table write; that path, with rocksdict's own error, is
tests/agents/test_storage_faults.py.

What the broker must do, and what is measured: the worker stops with exit status 75
and says why in its log; restarted while the directory is still unwritable (as its
supervisor would), it stops again at once, before joining its group; the other worker
takes its partitions (probes published during the fault all raise their alerts); once
the directory is back, a restart is ready and processing again. Whatever it had
processed is compared with replay at the end of the run, like everything else.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.chaos_group import AlertWatch, Group, Probes, Worker, recovery_after, wait

EXIT_STATE_UNWRITABLE = 75
RESTARTS_WHILE_BROKEN = 3


@dataclass
class DiskFault:
    """What one unwritable state directory did to the broker."""

    worker: int
    stopped_after: float | None
    """Seconds from the fault to the worker's exit (None: it never stopped)."""
    exit_status: int | None
    restart_statuses: list[int | None]
    """Exit status of each restart while the directory was still unwritable."""
    taken_over_after: float | None
    """Seconds from the fault until every probe published during it had its alert."""
    ready_after: float | None
    """Seconds from the directory's return to the restarted worker being ready."""
    log_lines: int
    """Log lines that say the state directory cannot be written, naming it."""

    @property
    def as_it_should(self) -> bool:
        return (
            self.exit_status == EXIT_STATE_UNWRITABLE
            and all(s == EXIT_STATE_UNWRITABLE for s in self.restart_statuses)
            and self.taken_over_after is not None
            and self.ready_after is not None
            and self.log_lines >= 1 + len(self.restart_statuses)
        )

    def line(self) -> str:
        def secs(value: float | None) -> str:
            return "never" if value is None else f"{value:.1f} s"

        restarts = ", ".join(str(s) for s in self.restart_statuses)
        return (
            f"state directory unwritable (worker {self.worker}, the directory replaced by a "
            f"file): stopped after {secs(self.stopped_after)} with exit {self.exit_status}; "
            f"restarted while unwritable: exit {restarts}; the other worker had its "
            f"partitions after {secs(self.taken_over_after)}; ready "
            f"{secs(self.ready_after)} after the directory came back; "
            f"{self.log_lines} log line(s) saying so"
            + ("" if self.as_it_should else "  ** NOT AS IT SHOULD BE **")
        )


class Unwritable:
    """A worker's state directory, moved aside with a file in its place, and back."""

    def __init__(self, worker: Worker) -> None:
        self.path = Path(worker.env["MASH_STATE_DIR"])
        self.aside = self.path.with_name(self.path.name + ".aside")

    def __enter__(self) -> Unwritable:
        os.rename(self.path, self.aside)
        self.path.write_text("not a directory: bench/chaos_disk.py\n")
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.unlink()
        os.rename(self.aside, self.path)


def unwritable_state(
    group: Group, index: int, probes: Probes, watch: AlertWatch, at: datetime
) -> DiskFault:
    """The fault on worker `index`, measured (see the module docstring)."""
    worker = group.workers[index]
    proc = worker.proc
    assert proc is not None
    started = time.monotonic()
    with Unwritable(worker) as state:
        stopped = wait(lambda: proc.poll() is not None, 60, every=0.1)
        stopped_after = time.monotonic() - started if stopped else None
        status = proc.poll()
        restarts = []
        for _ in range(RESTARTS_WHILE_BROKEN):  # a supervisor's restarts, at once
            worker.start()
            assert worker.proc is not None
            wait(lambda: worker.proc is not None and worker.proc.poll() is not None, 60)
            restarts.append(worker.proc.poll())
        recovered = recovery_after(group, probes, watch, started, at=at)
        if worker.alive():  # it never stopped: stop it before the directory comes back
            worker.kill()
    back = time.monotonic()
    worker.start()
    ready = wait(worker.ready, 120)
    ready_after = time.monotonic() - back if ready else None
    return DiskFault(
        index,
        stopped_after,
        status,
        restarts,
        recovered,
        ready_after,
        _said_so(worker, state.path),
    )


def _said_so(worker: Worker, path: Path) -> int:
    """The worker's log lines naming the directory as unwritable."""
    found = 0
    for line in worker.log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        found += entry.get("state_dir") == str(path) and "cannot be written" in entry.get("msg", "")
    return found
