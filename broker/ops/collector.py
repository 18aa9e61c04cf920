"""How this process's cyclic garbage collector is tuned, and why.

Every step that changes a child's picture works on a copy and keeps it
(`broker.picture.clone`), so each event leaves new objects behind (since the working
copy, a dozen containers rather than a picture's worth; before it, every part)
and frees the old ones by reference counting. With CPython's default young generation
(700 allocations) those copies live long enough to be promoted to the oldest
generation, whose pending count then triggers full collections that walk the whole
state: the identity index, every picture, every event id seen. In the replay benchmark
(`python -m bench.replay`) that made the collector a third of the time on 150,000
events (29 full collections), growing with the state.

A young generation of 20,000 allocations lets a replaced picture die young: on the same
run one full collection, the collector's time down from 31 s to 8 s, and 30 % more
events a second, with the same peak memory (the threshold bounds what may wait
uncollected to some thousands of small objects). The live worker keeps its state in
tables, but holds the identity index in memory and copies pictures the same way, so
it is tuned alike.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_GENERATION: Final = 20_000
"""Allocations (less deallocations) between two collections of the youngest generation."""

BATCH_GENERATIONS: Final = (100_000, 20)
"""The young and middle thresholds of a batch run (`broker.cli.main.BATCH_COMMANDS`):
no one waits on its records, so a young collection may walk five times as many objects,
and fewer of what is still alive then is promoted to be walked again. `python -m bench.replay`'s
loads, alternating (2026-12-05): on the council's 40,000 events the collector's time
0.8-1.0 s -> 0.4-0.5 s (no full collection left); on 200,000 dense events 5.8-7.4 s ->
4.5-4.8 s.
The live worker keeps 20,000 and the default middle: a young collection is a pause in
every stage of the process, and a larger one would sit in the latency's tail."""


def tune_collector(*, batch: bool = False) -> None:
    """Set the thresholds for a long-running broker process (worker, page) or, `batch`,
    for one that runs the pipeline over a file (replay)."""
    _, middle, oldest = gc.get_threshold()
    if batch:
        gc.set_threshold(*BATCH_GENERATIONS, oldest)
    else:
        gc.set_threshold(YOUNG_GENERATION, middle, oldest)
