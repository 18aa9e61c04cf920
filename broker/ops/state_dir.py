"""The worker's state directory: can it be written? If not, the worker stops.

The worker keeps its tables (seen-events, identity, the children's pictures, timers) in
RocksDB under `MASH_STATE_DIR`. A full disk, a filesystem remounted read-only or a
directory the worker may no longer write breaks every table write. Going on would be
wrong twice over: a write that raises inside a step would make an event a "fault of the
broker" and put it on the rejected topic (an event lost to a disk), and a worker that
cannot store what it has done holds its partitions without processing them.

So the worker stops, with exit status 75 (`EXIT_STATE_UNWRITABLE`, EX_TEMPFAIL: try
again later), and one log line that says what is wrong (the directory and the errno
name, never a child's data). Stopping is a crash in all but name: offsets are
committed only after outputs are acknowledged, so nothing is lost, and the events
re-read on restart are recognised by `seen-events` (at-least-once with deterministic
output ids). Its supervisor (Kubernetes, systemd, compose) starts it again; a worker
that starts on a directory it cannot write stops again *before* it joins its consumer
group (`problem`, in broker.compose.run_worker), so after the session timeout the group
gives its partitions to the healthy workers, and once the directory can be written the
next start takes its share back. docs/operations.md, "The state directory cannot be
written".

Three ways to notice: before starting; every few seconds while running (`StateWatch`,
a file created, written, synced and removed, because RocksDB writes through files it
already holds open and may not fail until its next flush); and a table write that
raises (`is_storage_fault`, which the agents ask before keeping a message as a fault).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final, NoReturn

from broker.errors import StateUnwritable

log = logging.getLogger(__name__)

EXIT_STATE_UNWRITABLE: Final = 75
"""EX_TEMPFAIL (sysexits.h): a temporary failure; start me again later."""

PROBE_NAME: Final = ".mash-write-check"
PROBE_BYTES: Final = 4096
"""Enough that a full disk refuses it (an empty file needs only an inode)."""

_STORAGE_ERRNOS: Final = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EIO}
)
# RocksDB's status text, as rocksdict raises it (a bare Exception): "IO error: No space
# left on device: While appending to file: …", "Corruption: …"; and Rust's io::Error on
# opening a store: "No space left on device (os error 28)".
_ROCKSDB_STORAGE: Final = re.compile(r"^(IO error|Corruption)\b|\(os error \d+\)$")


def problem(path: Path) -> str | None:
    """None when a file can be created, written, synced and removed in `path` (made if
    missing); otherwise what is wrong, as an errno name (ENOSPC, EROFS, EACCES, …)."""
    probe = path / PROBE_NAME
    try:
        if path.exists() and not path.is_dir():
            return "ENOTDIR"
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return None


def is_storage_fault(exc: BaseException) -> bool:
    """Whether `exc` is the disk's fault, not the message's: never keep the message as a
    broker fault for it (it would be acknowledged, so lost); stop the worker instead."""
    if isinstance(exc, StateUnwritable):
        return True
    if isinstance(exc, OSError):
        return exc.errno in _STORAGE_ERRNOS
    return type(exc) is Exception and bool(_ROCKSDB_STORAGE.search(str(exc)))


def _exit(status: int) -> NoReturn:
    os._exit(status)  # at once: nothing more may be acknowledged or committed


class StateWatch:
    """Looks at the state directory every few seconds; stops the worker when it cannot
    be written, or when told of a storage fault (`fault`)."""

    def __init__(self, path: Path, *, stop: Callable[[int], object] = _exit) -> None:
        self.path = path
        self._stop = stop
        self.writable = True
        """False from the moment a problem is found (readiness reads it)."""

    def check(self) -> bool:
        """Look now; stop the worker if the directory cannot be written."""
        found = problem(self.path)
        if found is not None:
            self.stop_worker(found)
        return found is None

    async def look(self) -> None:
        """`check` off the event loop (a struggling disk may take its time to sync)."""
        found = await asyncio.to_thread(problem, self.path)
        if found is not None:
            self.stop_worker(found)

    def fault(self, exc: BaseException) -> bool:
        """A table write raised: stop the worker when it is the disk's fault. False when
        it is not (the caller handles it as it would have)."""
        if not is_storage_fault(exc):
            return False
        self.stop_worker(problem(self.path) or type(exc).__name__)
        return True

    def stop_worker(self, what: str) -> None:
        self.writable = False
        unwritable(self.path, what)
        self._stop(EXIT_STATE_UNWRITABLE)


def unwritable(path: Path, what: str) -> None:
    """The one log line an operator needs: which directory, what is wrong, what next."""
    log.critical(
        "state directory cannot be written: the worker stops (exit 75) and its "
        "partitions go to the other workers; start it again once the directory is "
        "writable (free space, remount read-write, fix its owner)",
        extra={"state_dir": str(path), "error": what},
    )


def fault_error(exc: BaseException) -> StateUnwritable:
    """The error a step's storage fault becomes: the agent must not go on."""
    return StateUnwritable(f"a table write failed ({type(exc).__name__}): the disk, not the input")
