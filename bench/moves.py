"""Moves as life makes them, and the children who must not be linked, for bench.linkage.

The index knows a child where the council last recorded it; each agency records the
child where it last heard. In between, families move: within the city, or in from
another council (where the index knew them) with no UPN yet at the new school; a child
stays a while at a temporary address (a relative's, a refuge); a postcode is mistyped;
and a new address reaches the index through one agency before the others know it (an
earlier record of the child, or of a brother or sister, linked on an identifier, taught
it). `Life` decides each household's move once, gives the index what it would have
learnt, and rewrites the postcode of each agency record accordingly, naming the kind of
difference in the record's `errors`.

The records that must *not* link are drawn here too: namesakes (the same given and
family name, born a keying error apart or a year or two apart), namesakes who moved
(the same, at an address new to the index), and strangers born the same day nearby.

Rates are per household or per record, in the spirit of bench/synthetic.py's: about one
family in seven has moved since the council last recorded it (roughly the share of
English households that move in two years), a few per cent of records carry a
temporary address or a mistyped postcode.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from bench.synthetic import Child, Generator, Labelled
from broker.identity import PersonRecord

MOVED_IN_CITY = 0.10  # of households: moved within the council since it recorded them
MOVED_IN = 0.04  # of households: came from another council, where the index knew them
SAME_DISTRICT = 0.4  # of moves within the city: most moves are short
NEW_ADDRESS_LEARNT = 0.45  # of moved households: one child's new address is already known
AGENCY_STALE = 0.25  # of records of a moved child: the agency still has the old address
TEMPORARY = 0.02  # a record made at a temporary address
POSTCODE_TYPO = 0.02  # one character of the postcode mistyped

NAMESAKES = 0.03  # of labelled records: a namesake not in the index
MOVED_NAMESAKES = 0.02  # ... a namesake not in the index, at an address new to it
SAME_DATE = 0.02  # ... a stranger born the same day in the same district

MOVE_KINDS = ("moved_same_city", "moved_from_council", "address_one_agency")
"""Tags of a record of a moved child at its new address (recall for moved children)."""
ADDRESS_KINDS = (*MOVE_KINDS, "temporary_address", "postcode_typo")
STRANGER_KINDS = ("namesake", "moved_namesake", "same_date_stranger")

_ELSEWHERE = [f"EX{i}" for i in range(1, 24)] + [f"TR{i}" for i in range(1, 21)]
_ELSEWHERE += [f"BS{i}" for i in range(1, 17)] + [f"TA{i}" for i in range(1, 12)]
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True, slots=True)
class Move:
    """A household's move since the council last recorded it."""

    kind: str  # "moved_same_city" | "moved_from_council"
    old: str  # the address the index knows
    new: str  # where the household lives now
    learnt_from: str | None  # the child whose record already taught the index `new`


class Life:
    """Moves of the households of a population, and what the index and agencies know of them."""

    def __init__(self, generator: Generator, seed: int) -> None:
        self.gen = generator
        self.rng = random.Random(seed * 7919 + 1)
        self.moves: dict[int, Move] = {}
        self._strangers = 0

    def settle(self, population: list[Child], known: set[str]) -> None:
        """Decide which households moved, and whose new address the index has learnt."""
        rng = self.rng
        households: dict[int, list[Child]] = {}
        for child in population:
            households.setdefault(child.household, []).append(child)
        for household, kids in households.items():
            roll = rng.random()
            here = kids[0].truth.postcode or ""
            if roll < MOVED_IN_CITY:
                near = [here.split()[0]] if rng.random() < SAME_DISTRICT else self.gen.districts
                kind, old, new = "moved_same_city", here, self._postcode(near)
            elif roll < MOVED_IN_CITY + MOVED_IN:
                kind, old, new = "moved_from_council", self._postcode(_ELSEWHERE), here
            else:
                continue
            indexed = [k.child_id for k in kids if k.child_id in known]
            learnt = rng.choice(indexed) if indexed and rng.random() < NEW_ADDRESS_LEARNT else None
            self.moves[household] = Move(kind, old, new, learnt)

    def known_records(self, child: Child) -> list[PersonRecord]:
        """What the index has learnt of a child: the council's record, and for the child
        that taught it a new address, that agency's record too (linked on an identifier)."""
        base = self.gen.known(child)
        move = self.moves.get(child.household)
        if move is None:
            return [base]
        records = [replace(base, postcode=move.old)]
        if move.learnt_from == child.child_id:
            records.append(replace(base, postcode=move.new))
        return records

    def record(self, child: Child) -> Labelled:
        """An agency's record of the child, at the address that agency has for it."""
        rng = self.rng
        labelled = self.gen.agency_record(child)
        record, errors = labelled.record, list(labelled.errors)
        if record.postcode is None:
            return labelled
        move = self.moves.get(child.household)
        postcode = move.old if move is not None else record.postcode
        if rng.random() < TEMPORARY:
            postcode = self._postcode(self.gen.districts)
            errors.append("temporary_address")
        elif move is not None and rng.random() >= AGENCY_STALE:
            postcode = move.new
            if move.learnt_from == child.child_id:
                errors.append("address_one_agency")
            else:
                errors.append(move.kind)
                if move.learnt_from is not None:
                    errors.append("sibling_known_there")
            if move.kind == "moved_from_council":
                record = replace(record, upn=None)  # the new school has no UPN yet
        if rng.random() < POSTCODE_TYPO:
            postcode = self._mistype(postcode)
            errors.append("postcode_typo")
        return Labelled(replace(record, postcode=postcode), labelled.child_id, tuple(errors))

    def stranger(self, kind: str, like: Child) -> Child:
        """A child not in the index who looks like `like`: see STRANGER_KINDS."""
        rng = self.rng
        truth = like.truth
        self._strangers += 1
        dob = truth.date_of_birth
        given, family = truth.given_name, truth.family_name
        postcode = self._postcode(self.gen.districts)
        if kind == "same_date_stranger":
            stranger = self.gen.children(1)[0].truth
            given, family = stranger.given_name, stranger.family_name
            postcode = self._postcode([(truth.postcode or "PL1 1AA").split()[0]])
        elif rng.random() < 0.6:
            dob = self.gen.one_digit(dob)  # born a keying error apart
        else:
            dob = dob.replace(year=dob.year - rng.choice((1, 2)), day=min(dob.day, 28))
        if kind == "moved_namesake":
            postcode = self._postcode(_ELSEWHERE if rng.random() < 0.5 else self.gen.districts)
        fresh = self.gen.children(1)[0].truth  # identifiers of its own
        record = replace(
            fresh,
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            postcode=postcode,
            sex=truth.sex,
        )
        return Child(f"{kind}-{self._strangers}", -self._strangers, record)

    def _postcode(self, districts: list[str]) -> str:
        rng = self.rng
        letters = "".join(rng.choice(_LETTERS) for _ in range(2))
        return f"{rng.choice(districts)} {rng.randrange(1, 10)}{letters}"

    def _mistype(self, postcode: str) -> str:
        """One character keyed wrong (a letter for a letter, a digit for a digit), or the
        last two letters swapped."""
        rng = self.rng
        if rng.random() < 0.25 and postcode[-1] != postcode[-2]:
            return postcode[:-2] + postcode[-1] + postcode[-2]
        spots = [i for i, c in enumerate(postcode) if c != " " and i > 0]
        i = rng.choice(spots)
        pool = "0123456789" if postcode[i].isdigit() else _LETTERS
        other = rng.choice([c for c in pool if c != postcode[i]])
        return postcode[:i] + other + postcode[i + 1 :]
