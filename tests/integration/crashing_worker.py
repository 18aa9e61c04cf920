"""The real worker, with a sink that dies half-way through sending a batch.

`python -m tests.integration.crashing_worker` runs exactly `mash-broker worker` (the
composition root's `run_worker`), except that its sink is wrapped (a fault at the port,
not a patch of internals): the first batch of at least `CRASH_AT_BATCH` records
that carries an alert is handed over half, acknowledged, and then the process SIGKILLs
itself: no clean shutdown, no flush, no offset commit, state not written. What a power
cut or the kernel's OOM killer would do at the worst moment.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime

from broker.compose import run_worker
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import Outgoing, Sink
from broker.settings import Settings
from broker.topics import ALERTS

MARKER = "killed half-way through a batch"
TOLD = (".notification.v1", "audit.disclosure.v1")


class HalfThenKill:
    def __init__(self, inner: Sink, at_least: int) -> None:
        self.inner = inner
        self.at_least = at_least

    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        await self.inner.send(record, recorded_at=recorded_at)

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        told = sum(r.topic == ALERTS.name or r.topic.endswith(TOLD) for r, _ in records)
        if told < self.at_least:
            await self.inner.send_all(records)
            return
        half = len(records) // 2
        await self.inner.send_all(records[:half])  # acknowledged by Kafka
        print(f"{MARKER}: {half} of {len(records)} records sent", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    at_least = int(os.environ.get("CRASH_AT_BATCH", "20"))
    return run_worker(Settings(), wrap_sink=lambda inner: HalfThenKill(inner, at_least))


if __name__ == "__main__":
    sys.exit(main())
