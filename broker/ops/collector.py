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


def tune_collector() -> None:
    """Set the thresholds for a long-running broker process (replay, worker, page)."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, oldest)
