"""The council simulation's state, shared by the scheduler (bench/council.py) and the
event writers (bench/council_events.py, bench/council_services.py).

Defined apart so that the writers depend on this and on the `World` protocol, not on
the scheduler that calls them: no import circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from bench.synthetic import Child


@dataclass(slots=True)
class Kid:
    """A child's state in the simulation: what the agencies' systems currently hold."""

    index: int
    child: Child
    theme: str
    ids: dict[str, str]
    status: str | None = None
    since: date | None = None
    referrals: list[date] = field(default_factory=list)
    school: tuple[str, str, int] | None = None
    involved: set[str] = field(default_factory=set)

    def age(self, day: date) -> float:
        return (day - self.child.truth.date_of_birth).days / 365.25


@dataclass(order=True, slots=True)
class Pending:
    """Something due to happen: a base arrival or a follow-up of an earlier event."""

    when: datetime
    seq: int
    kind: str = field(compare=False)
    kid: int = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


class World(Protocol):
    """What an event writer may see and do: the children, their households, and
    scheduling something to happen later."""

    kids: list[Kid]
    households: dict[int, list[int]]

    def push(self, when: datetime, kind: str, kid: Kid, **data: Any) -> None: ...
