"""A worker that is ready, has messages waiting and handles none is stuck: say so, and
let the orchestrator restart it.

One run of bench.live in 28 (docs/notes/faust-kafka.md) had the whole worker stop: its
web views answered, it was ready, the consumer lag stood at 24,716, and for 600 s no
stage handled a message and nothing was logged. Readiness cannot see that (Kafka,
partitions and tables were all fine) and liveness only asked whether the event loop
answered. For the MASH it is the worst failure there is: no alert, and nothing to say
so.

`ProgressWatch` is the rule, over plain numbers: while the worker is ready and has
messages waiting (lag), the count of messages its stages have handled must move within
`patience` seconds. When it does not, the worker is stuck: once, an error is logged
with where every task and thread is waiting (code locations only, never data:
broker.ops.tasks), `mash_worker_stuck` is set, and `/health/live` answers 503, so that
Kubernetes' liveness probe restarts the worker (deploy/k8s). A restart is safe at any
moment: it is the SIGKILL the integration tests already make (nothing lost, nothing
twice). A rebalance or a recovery is not a stall (not ready), nor an idle worker (no
lag).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from broker.ops.tasks import task_stacks, thread_stacks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stuck:
    seconds: float
    """How long no message was handled while some waited."""
    waiting: int
    """Messages waiting (consumer lag) at the last look."""


class ProgressWatch:
    """Looks at the handled count and the lag; says when progress stopped for too long."""

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self._handled: float | None = None
        self._since: float | None = None
        self.stuck: Stuck | None = None
        """Set once stuck, and kept: a stuck worker is restarted, not trusted again."""

    def look(self, handled: float, waiting: int, ready: bool, now: float) -> Stuck | None:
        """A new verdict of stuck (only the first time), else None."""
        if self.stuck is not None:
            return None
        moved = handled != self._handled
        self._handled = handled
        if moved or not ready or waiting <= 0 or self._since is None:
            self._since = now
            return None
        if now - self._since < self.patience:
            return None
        self.stuck = Stuck(seconds=now - self._since, waiting=waiting)
        return self.stuck


def watch_progress(
    watch: ProgressWatch,
    *,
    handled: Callable[[], float],
    waiting: Callable[[], int],
    ready: Callable[[], Awaitable[bool]],
    clock: Callable[[], float],
    on_stuck: Callable[[Stuck], None] = lambda stuck: None,
) -> Callable[[], Awaitable[None]]:
    """The look a timer runs: reads the worker, and on a new stall logs where it waits.
    `ready` is the worker's readiness (Kafka reachable among it: a worker waiting for
    Kafka is not stuck, and must not be restarted)."""

    async def look() -> None:
        try:
            is_ready = await ready()
            found = watch.look(handled(), waiting(), is_ready, clock())
        except Exception as exc:  # a read of faust's state mid-rebalance: look again later
            log.debug("progress look failed", extra={"error": type(exc).__name__})
            return
        if found is None:
            return
        log.error(
            "worker stuck: messages are waiting and no stage has handled one; "
            "liveness now fails so that the worker is restarted",
            extra={
                "seconds": round(found.seconds),
                "count": found.waiting,
                "tasks": task_stacks(),
                "threads": thread_stacks(),
            },
        )
        on_stuck(found)

    return look
