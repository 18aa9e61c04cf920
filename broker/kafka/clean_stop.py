"""A worker that did not stop cleanly starts from its tables' changelogs, not its disk.

faust writes a table to RocksDB at once and sends the change to the table's changelog
afterwards (`Table.on_key_set`: `send_soon`, acknowledged later). A worker killed in
between (SIGKILL, the OOM killer, a power cut) restarts with values on its disk that
Kafka never got. The messages that wrote them were not committed, so they come again;
but a message already applied is a no-op (a duplicate event, a child's event already in
its picture) and writes nothing, so the changelog never gets those values, and when the
partition later moves to another worker (a rebalance, a restore on a new disk) they are
gone there: `bench.chaos --seed 2` lost a record of a child's identity index this way
(the link stage's worker killed within milliseconds of linking it, the link partition on
the other worker later), and the next links weighed names on a different index.

So a clean stop leaves a mark in the state directory, and a start without the mark
discards the local tables: faust then restores them whole from the changelogs, which
hold exactly what the messages Kafka will not deliver again had written. A crash costs a
full restore (seconds for a council's tables; `python -m bench.chaos` measures the
recovery with it); a clean restart keeps its disk.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

MARK: Final = "stopped-cleanly"


def discard_unless_stopped_cleanly(state_dir: Path, tabledir: Path) -> bool:
    """At start: consume the mark of a clean stop, or, without it, delete the local
    tables (`tabledir`) so that faust restores them from their changelogs. True when
    the tables were discarded."""
    mark = state_dir / MARK
    if mark.exists():
        mark.unlink()
        return False
    if not tabledir.exists():
        return False
    shutil.rmtree(tabledir)
    log.warning("the last run did not stop cleanly: tables restored from their changelogs")
    return True


def mark_stopped_cleanly(state_dir: Path) -> None:
    """After a clean stop (faust stopped, its producer flushed)."""
    (state_dir / MARK).touch()
