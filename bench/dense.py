"""A dense synthetic year: many children, each seen about ten times, as JSON lines.

    python -m bench.dense [--events N] [--seed S] [--years Y] [--children C] > dense.jsonl

The shape of issue 12's independent year (200,000 events about 20,000 children, about
ten events each: a third police notices, a quarter health updates, the rest social
care, MASH decisions, referrals, involvements, information requests and school moves),
which `mash-broker replay` ran at a third of the speed bench/council.py's year gave.
What differs from the council's year is what makes the broker work: every child has a
long-lived picture (about ten events over the year, so the chronology, the alerts and
the timers of each grow) and many risk events, so many alerts fire, each with an
explanation built from the picture.

It is bench/council.py's simulation with another shape (the same event builders, the
same follow-ups, the same bad lines and re-sends): more health updates among the
arrivals, and children picked near-evenly (not heavy-tailed), so that few are seen
once and few very often. Seeded like the council: the same seed, the same stream.
"""

from __future__ import annotations

import argparse
import sys
from typing import Final

from bench.council import Council, Kid, print_lines

EVENTS: Final = 200_000
CHILDREN: Final = 20_000

DENSE_KINDS: Final = {
    "police.vist": (62, 106),
    "health.update": (68, 114),
    "yot.referral": (4, 0),
    "school.transition": (4, 0),
    "agency.involvement": (11, 1),
    "socialcare.record": (8, 1),
    "mash.info_request": (5, 0),
}
"""kind -> (weekday, weekend) weight of the arrivals. With their follow-ups (decisions,
screenings, meetings, repeats), on seed 0: 31% police notices, 25% health updates,
23% MASH decisions, 7% social care records, the rest involvements, meetings,
screenings, information requests, school moves and referrals; 10.2 events for each
child seen, 3/4 of them seen 5 to 20 times."""


class DenseCouncil(Council):
    """The council's simulation, every child seen about ten times a year."""

    base_kinds = DENSE_KINDS
    base_share = 0.48
    """The share of arrivals in the stream (calibrated: 200,000 events span a year)."""

    def _weight(self, kid: Kid) -> float:
        """Near-even: between half and one and a half times the mean."""
        return self.rng.uniform(0.5, 1.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--children", type=int, default=None, help="default: events / 10")
    args = parser.parse_args(argv)
    children = args.children or max(50, args.events // 10)
    return print_lines(DenseCouncil(args.seed, args.events, args.years, children))


if __name__ == "__main__":
    sys.exit(main())
