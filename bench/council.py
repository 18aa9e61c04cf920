"""A seeded synthetic year (or more) of one council's safeguarding events, as JSON lines.

    python -m bench.council [--events N] [--seed S] [--years Y] > year.jsonl

Why a simulation rather than random events: the broker's cost lies in what events have
in common. Cumulative rules count a child's earlier events, deadlines wait for MASH
decisions, screenings, meetings and file transfers that arrive (or do not), sharing
depends on who already works with the child, and linkage depends on how noisy the
records are. So the generator keeps a population of children (bench/synthetic.py:
households, siblings, twins, noisy agency records) and lets a year happen to them:

- base events arrive each day (police VISTs at any hour, most in the evening; health at
  any hour; schools, social care and the MASH in office hours on weekdays), each about
  a child picked with a heavy-tailed weight, so most children appear once or twice and a
  few dozens of times, as at a real front door;
- a domestic incident gives a VIST for each child of the household;
- risk events beget risk events (a child who went missing often goes missing again),
  and they call for follow-ups: MASH decisions (mostly in time, some late, some never),
  exploitation screenings, strategy meetings after strategy decisions, social care
  records after assessments, CP files transferred after school moves;
- identifiers are present on most records, as each agency holds them (health the NHS
  number, schools the UPN, police their own person id), and missing on the rest, so the
  probabilistic matcher has work;
- a small share of lines is deliberately wrong (not JSON, a bad NHS check digit, a
  notice without its rating) or a re-send of an earlier event, as real feeds are.

Everything is drawn from one seeded `random.Random`, and events are produced lazily in
`recorded_at` order (a heap of pending follow-ups, one day of arrivals at a time), so a
million events never sit in memory at once.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from bisect import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, Final

from bench.council_events import EventMaker
from bench.council_mix import BASE_KINDS, HOURS_24, LONDON, NIGHT_KINDS, START, THEMES
from bench.council_state import Kid, Pending
from bench.synthetic import Generator

EVENTS_PER_CHILD_YEAR: Final = 4.0
"""Sets the population: 40,000 events a year come from about 10,000 children."""
BASE_SHARE: Final = 0.48
"""The share of events that are base arrivals; the rest are follow-ups (calibrated)."""
INVALID_RATE: Final = 0.002
DUPLICATE_RATE: Final = 0.003


class Council:
    """A council's children and the events about them; the same seed, the same stream.

    A subclass may change the shape of the load (bench/dense.py): `base_kinds` (what
    arrives), `base_share` (how much of the stream arrivals are) and `_weight` (how the
    events spread over the children)."""

    base_kinds: dict[str, tuple[int, int]] = BASE_KINDS
    base_share: float = BASE_SHARE

    def __init__(
        self,
        seed: int = 0,
        events: int = 40_000,
        years: float = 1.0,
        children: int | None = None,
    ) -> None:
        self.seed = seed
        self.total = events
        self.years = years
        self.rng = random.Random(f"council-{seed}")
        self.people = Generator(seed)
        count = children or max(50, round(events / years / EVENTS_PER_CHILD_YEAR))
        self.kids = self._population(count)
        self.households: dict[int, list[int]] = {}
        for kid in self.kids:
            self.households.setdefault(kid.child.household, []).append(kid.index)
        weights = [self._weight(k) for k in self.kids]
        self._cum = list(accumulate(weights))
        self.maker = EventMaker(self.rng, self.people, seed)
        self._heap: list[Pending] = []
        self._seq = 0
        self._per_day = events / (365.0 * years) * self.base_share

    # -- the population ---------------------------------------------------------------

    def _population(self, count: int) -> list[Kid]:
        """Children with a theme per household; over several years, later-born too."""
        rng = self.rng
        kids: list[Kid] = []
        theme = "general"
        shift = timedelta(0)
        last_household = -1
        for born in self.people.children(count):
            child = born
            if child.household != last_household:
                last_household = child.household
                theme = rng.choices(list(THEMES), weights=list(THEMES.values()))[0]
                shift = timedelta(days=rng.randrange(0, max(1, round((self.years - 1) * 365))))
            if shift:
                truth = child.truth
                child = replace(
                    child, truth=replace(truth, date_of_birth=truth.date_of_birth + shift)
                )
            truth = child.truth
            ids = {
                k: v
                for k in ("nhs_number", "upn", "socialcare_id", "police_person_id")
                if (v := getattr(truth, k))
            }
            kids.append(Kid(len(kids), child, theme, ids))
        return kids

    def _weight(self, kid: Kid) -> float:
        """Heavy-tailed: most children appear once or twice, a few very often."""
        base = min(self.rng.paretovariate(1.6), 25.0)
        return base * (1.6 if kid.theme in ("exploitation", "missing") else 1.0)

    def pick(self, when: datetime, low: float = 0.0, high: float = 18.0) -> Kid | None:
        """A child aged `low` to `high` on the day, by weight (None after a few tries)."""
        day = when.date()
        for _ in range(8):
            i = bisect(self._cum, self.rng.random() * self._cum[-1])
            kid = self.kids[min(i, len(self.kids) - 1)]
            if low <= kid.age(day) < high:
                return kid
        return None

    # -- time -------------------------------------------------------------------------

    def push(self, when: datetime, kind: str, kid: Kid, **data: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Pending(when, self._seq, kind, kid.index, data))

    def _arrivals(self, day: date) -> None:
        """Schedule one day of base arrivals, at the hours each kind keeps."""
        rng = self.rng
        weekend = day.weekday() >= 5
        mean = self._per_day * (0.55 if weekend else 1.18)
        if day.month == 9:
            mean *= 1.1  # schools back: transitions and referrals
        count = max(0, round(rng.gauss(mean, mean**0.5)))
        kinds = list(self.base_kinds)
        weights = [w[1 if weekend else 0] for w in self.base_kinds.values()]
        for kind in rng.choices(kinds, weights=weights, k=count):
            if kind in NIGHT_KINDS:
                hour = rng.choices(range(24), weights=HOURS_24)[0]
                at = time(hour, rng.randrange(60), rng.randrange(60))
            else:
                minutes = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
                at = time(minutes // 60, minutes % 60, rng.randrange(60))
            when = datetime.combine(day, at, LONDON)
            kid = self.pick(when, *self.maker.ages(kind))
            if kid is not None:
                self.push(when, kind, kid)

    # -- the stream -------------------------------------------------------------------

    def events(self) -> Iterator[dict[str, Any] | bytes]:
        """Events in `recorded_at` order: dicts, or raw bytes for a deliberately bad line."""
        rng = self.rng
        emitted = 0
        recent: deque[dict[str, Any]] = deque(maxlen=500)
        self.maker.snapshot(self)
        day = START
        while emitted < self.total:
            self._arrivals(day)
            midnight = datetime.combine(day + timedelta(days=1), time(0), LONDON)
            while self._heap and self._heap[0].when < midnight:
                event = self.maker.make(self, heapq.heappop(self._heap))
                if event is None:
                    continue
                if rng.random() < INVALID_RATE:
                    yield self.maker.spoil(event)
                elif recent and rng.random() < DUPLICATE_RATE:
                    yield rng.choice(recent)  # a publisher re-sends an earlier event
                else:
                    recent.append(event)
                    yield event
                emitted += 1
                if emitted >= self.total:
                    return
            day += timedelta(days=1)

    def lines(self) -> Iterator[bytes]:
        """The stream as JSON lines (no newline), as `mash-broker replay` reads them."""
        for event in self.events():
            if isinstance(event, bytes):
                yield event
            else:
                yield json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--children", type=int, default=None)
    args = parser.parse_args(argv)
    return print_lines(Council(args.seed, args.events, args.years, args.children))


def print_lines(council: Council) -> int:
    """The stream on standard output, one event a line; 1 if the reader went away."""
    out = sys.stdout.buffer
    try:
        for line in council.lines():
            out.write(line + b"\n")
        out.flush()
    except BrokenPipeError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
