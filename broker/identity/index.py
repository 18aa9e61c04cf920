"""The identity index: known children, blocked so that linking cost does not grow with them.

Linking compares a record only with *candidates* found by blocking, never with every
child. Blocking is complete for what may link: rules.md forbids linking two records
whose dates of birth differ by more than a keying error, so every child that may link
was born on the record's date, on the date with day and month swapped, or on a date one
digit away. The first two are looked up whole (some 15 children a day in a population
of 100,000); the one-digit variants (up to ~40 dates) only under the record's name
sounds (the given name's canonical form, each family-name part), which keeps the
candidate set to a few dozen whatever the population.

Identifiers (NHS number, UPN, social care id, police person id) have their own exact
dictionaries: an equal identifier links outright unless the rest of the record
contradicts it (rules.md, "Identity").

Without an identifier, a candidate that scores enough to link is still held back for
IDENTITY_REVIEW when its given name is only UNSURE (scoring.py: "Tia" for "Mia", a
typing error or a twin?), or when its given name is another form of the child's that
children are each first known by, where twins would live (Harrison for a known Harry:
given_names.py): merging two children is the worst error the index can make, and the
other twin is often not known yet. The index's own counts of given names (by sex, and
by the name each child was first known by) are that evidence, and tell a typing error
no child's name explains (Level.TYPO), which links, from a name.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from broker.identity.blocking import Ids, add_ids, ids_of, put_id, remove_id
from broker.identity.child import ChildIdentity, Interner, JsonState, Query, make_query
from broker.identity.compare import (
    SIBLING,
    FamilyMoved,
    Scored,
    conflicts,
    dominates,
    held_back,
    levels_of,
    score,
)
from broker.identity.decision import LinkDecision, Outcome, Reason
from broker.identity.given_names import GivenNameEvidence
from broker.identity.records import IDENTIFIER_KINDS, PersonRecord, one_digit_variants, swapped
from broker.identity.scoring import WEIGHTS, Level, frequency_weight, total

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match-weight thresholds, in bits (see docs/identity.md for how they were chosen).

    `link`: a candidate at or above it links (if it is the only one). `review`: between
    it and `link`, IDENTITY_REVIEW. `margin`: a second candidate above `link` makes the
    decision ambiguous unless the best beats it by this many bits (2^margin times likelier),
    or a person has kept the two apart (then only an exact tie is ambiguous: the record
    fits both children equally and no rule can choose). `names_from`: children the
    index must hold before a given-name spelling none of them bears counts as a typing
    error rather than, perhaps, a twin's name (given_names.py).
    """

    link: float = 22.0
    review: float = 16.0
    margin: float = 6.0
    names_from: int = 10_000

    def __post_init__(self) -> None:
        if not self.review <= self.link or self.margin < 0 or self.names_from < 0:
            raise ValueError("identity thresholds: need review <= link and margin >= 0")


class IdentityIndex:
    """Known children and the rules to link a record to one of them.

    Pure and synchronous: it reads nothing but its arguments and holds only plain data,
    so the pipeline can keep one in a worker, feed it from a table changelog
    (`from_state`) and persist each change (`to_state`).
    """

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._children: dict[str, ChildIdentity] = {}
        self._alias: dict[str, str] = {}  # merged-away id -> surviving id
        self._by_identifier: dict[str, dict[str, Ids]] = {k: {} for k in IDENTIFIER_KINDS}
        self._blocks: dict[int, dict[str, Ids]] = {}
        # postcode -> children recorded there who have more than one address: the only
        # ones who can show that a family moved (Level.HOUSEHOLD)
        self._movers_at: dict[str, Ids] = {}
        self._interner = Interner()
        self._name_counts: dict[str, dict[str, int]] = {"given_name": {}, "family_name": {}}
        self._first_given: dict[str, int] = {}  # first word of the name a child was first known by
        self._given_by_sex: dict[tuple[str, str], int] = {}  # (given name, sex or "") -> count
        self._given_names = GivenNameEvidence(
            self._name_counts["given_name"],
            self._given_by_sex,
            self._first_given,
            self.__len__,
            self.thresholds.names_from,
        )
        self._last_query: tuple[PersonRecord, Query] | None = None

    # -- looking up -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._children)

    def __contains__(self, child_id: object) -> bool:
        return isinstance(child_id, str) and self.resolve(child_id) in self._children

    def child_ids(self) -> Iterator[str]:
        """The ids of the children held (merged-away ids excluded)."""
        return iter(self._children)

    def resolve(self, child_id: str) -> str:
        """The surviving id of a child: itself, or the child it was merged into."""
        return self._alias.get(child_id, child_id)

    def kept_apart(self, child_a: str, child_b: str) -> bool:
        """Whether a person decided these are different children."""
        a, b = self.resolve(child_a), self.resolve(child_b)
        ia, ib = self._children.get(a), self._children.get(b)
        return (ia is not None and b in ia.apart) or (ib is not None and a in ib.apart)

    # -- linking --------------------------------------------------------------------

    def link(self, record: PersonRecord) -> LinkDecision:
        """Decide which known child a record is of, without changing the index."""
        query = self._query(record)
        decided = self._link_on_identifiers(query)
        return decided if decided is not None else self._link_probabilistic(query)

    def _link_on_identifiers(self, query: Query) -> LinkDecision | None:
        hits: dict[str, list[str]] = {}
        for kind, value in query.identifiers:
            for child_id in ids_of(self._by_identifier[kind].get(value)):
                hits.setdefault(self.resolve(child_id), []).append(kind)
        if not hits:
            return None
        if len(hits) > 1:
            return LinkDecision(
                Outcome.REVIEW,
                Reason.IDENTIFIERS_SPLIT,
                rule="identifier:" + next(iter(hits.values()))[0],
                candidates=tuple(sorted(hits)),
            )
        child_id, kinds = next(iter(hits.items()))
        child = self._children[child_id]
        levels = levels_of(query, child, self._family_moved(query))
        rule = "identifier:" + kinds[0]
        if dict(levels)["date_of_birth"] is Level.DISAGREE:
            reason = Reason.DOB_CONTRADICTS
        elif conflicts(query, child):
            reason = Reason.IDENTIFIER_CONTRADICTS
        else:
            return LinkDecision(
                Outcome.LINKED,
                Reason.IDENTIFIER,
                rule=rule,
                child_id=child_id,
                score=total(levels),
                levels=levels,
                candidates=(child_id,),
            )
        return LinkDecision(
            Outcome.REVIEW, reason, rule=rule, levels=levels, candidates=(child_id,)
        )

    def _link_probabilistic(self, query: Query) -> LinkDecision:
        limits = self.thresholds
        siblings: list[str] = []
        scored: list[Scored] = []
        family_moved = self._family_moved(query)
        for child_id in self._candidates(query):
            child = self._children[child_id]
            result = score(
                query,
                child_id,
                child,
                self._frequency_adjustment,
                family_moved=family_moved,
                names=self._given_names,
            )
            if isinstance(result, Scored):
                scored.append(result)
            elif result is SIBLING:
                siblings.append(child_id)
        if not scored:
            return LinkDecision(
                Outcome.NEW, Reason.NO_CANDIDATE, rule="none", siblings=tuple(sorted(siblings))
            )
        scored.sort(key=lambda s: (-s.score, s.child_id))
        best = scored[0]
        if best.score >= limits.link:
            rivals = [
                s
                for s in scored[1:]
                if s.score >= limits.link
                and best.score - s.score < limits.margin
                and (s.score == best.score or not self.kept_apart(best.child_id, s.child_id))
                and not dominates(best.levels, s.levels)
            ]
            if rivals:
                return LinkDecision(
                    Outcome.REVIEW,
                    Reason.AMBIGUOUS,
                    rule="probabilistic",
                    score=best.score,
                    levels=best.levels,
                    candidates=(best.child_id, *(s.child_id for s in rivals)),
                    threshold=limits.link,
                )
            held = held_back(best)
            return LinkDecision(
                Outcome.LINKED if held is None else Outcome.REVIEW,
                held or Reason.MATCH,
                rule="probabilistic",
                child_id=best.child_id if held is None else None,
                score=best.score,
                levels=best.levels,
                candidates=(best.child_id,),
                threshold=limits.link,
            )
        if best.score >= limits.review:
            return LinkDecision(
                Outcome.REVIEW,
                Reason.WEAK_MATCH,
                rule="probabilistic",
                score=best.score,
                levels=best.levels,
                candidates=tuple(s.child_id for s in scored if s.score >= limits.review),
                threshold=limits.review,
            )
        return LinkDecision(
            Outcome.NEW,
            Reason.NO_CANDIDATE,
            rule="probabilistic",
            score=best.score,
            levels=best.levels,
            threshold=limits.review,
            siblings=tuple(sorted(siblings)),
        )

    def _candidates(self, query: Query) -> set[str]:
        found: set[str] = set()
        blocks = self._blocks
        for dob in (query.dob, swapped(query.dob)):
            if dob is not None and (block := blocks.get(dob)) is not None:
                add_ids(found, block.get(""))
        for dob in one_digit_variants(query.dob):
            if (block := blocks.get(dob)) is not None:
                for key in query.name_keys:
                    add_ids(found, block.get(key))
        return found

    def _family_moved(self, query: Query) -> FamilyMoved | None:
        """For this record: has another child of a candidate's family, who lived at one of
        the candidate's addresses, since been recorded at the record's postcode? None when
        no child who has moved was ever recorded there (nearly always: nothing to ask)."""
        if query.postcode is None:
            return None
        ids = ids_of(self._movers_at.get(query.postcode))
        if not ids:
            return None
        movers = [self._children[i] for i in ids if i in self._children]

        def moved_with(child_id: str, child: ChildIdentity) -> bool:
            families = {f.norm for f in child.family}
            for mover in movers:
                if (
                    mover.child_id != child_id
                    and not families.isdisjoint(f.norm for f in mover.family)
                    and not set(child.postcodes).isdisjoint(mover.postcodes)
                ):
                    return True
            return False

        return moved_with

    def _frequency_adjustment(self, field: str, norm: str) -> float:
        """How much more (or less) exact agreement on this name weighs than on an average one."""
        count = self._name_counts[field].get(norm, 0)
        return frequency_weight(field, count, len(self._children)) - WEIGHTS[field][Level.EXACT]

    # -- changing -------------------------------------------------------------------

    def add(self, child_id: str, record: PersonRecord) -> str:
        """Record a child, or what a new record shows of a known one; returns its id.

        The caller chooses the id (derived from the event id, say), so ids are
        deterministic and every worker that replays the same events agrees on them.
        """
        survivor = self.resolve(child_id)
        child = self._children.get(survivor)
        if child is None:
            child = ChildIdentity(survivor)
            self._children[survivor] = child
            child.learn(self._query(record), self._interner)
            self._index(child)
            return survivor
        before = child.copy()
        child.learn(self._query(record), self._interner)
        if child.indexed_as(before):
            return survivor  # nothing new to file it under (most records of a known child)
        self._unindex(before)
        self._index(child)
        return survivor

    def _query(self, record: PersonRecord) -> Query:
        """`make_query(record)`, made once for the `link` and the `add` of one record
        (the link stage calls both with the same record; it is frozen)."""
        last = self._last_query
        if last is not None and last[0] is record:
            return last[1]
        query = make_query(record)
        self._last_query = (record, query)
        return query

    def merge(self, child_a: str, child_b: str) -> str:
        """A person decided these are the same child: `child_a` survives, `child_b` aliases it."""
        a, b = self.resolve(child_a), self.resolve(child_b)
        if a == b:
            return a
        survivor, merged = self._children[a], self._children[b]
        self._unindex(survivor)
        self._unindex(merged)
        survivor.absorb(merged)
        del self._children[b]
        for old in (b, *merged.absorbed):
            self._alias[old] = a
        for other_id in merged.apart:
            other = self._children.get(other_id)
            if other is not None:
                other.apart = tuple(dict.fromkeys(a if x == b else x for x in other.apart))
        if survivor.apart:
            for other_id in survivor.apart:
                other = self._children.get(other_id)
                if other is not None and a not in other.apart:
                    other.apart = (*other.apart, a)
        self._index(survivor)
        return a

    def keep_apart(self, child_a: str, child_b: str) -> None:
        """A person decided these are different children: never link or review them as one."""
        a, b = self.resolve(child_a), self.resolve(child_b)
        if a == b:
            raise ValueError("a child cannot be kept apart from itself")
        ia, ib = self._children[a], self._children[b]
        if b not in ia.apart:
            ia.apart = (*ia.apart, b)
        if a not in ib.apart:
            ib.apart = (*ib.apart, a)

    # -- state ----------------------------------------------------------------------

    def to_state(self, child_id: str) -> JsonState:
        """The JSON-able state of one child id (a merged-away id says where it went)."""
        if child_id in self._alias:
            return {"v": 1, "child_id": child_id, "merged_into": self._alias[child_id]}
        return self._children[child_id].to_state()

    def from_state(self, state: Mapping[str, object]) -> str:
        """Load (or replace) one child from `to_state()` output; returns its id."""
        merged_into = state.get("merged_into")
        if isinstance(merged_into, str):
            child_id = state.get("child_id")
            if not isinstance(child_id, str):
                raise ValueError("identity state: child_id must be a string")
            self._drop(child_id)
            self._alias[child_id] = merged_into
            return child_id
        child = ChildIdentity.from_state(state, self._interner)
        self._drop(child.child_id)
        self._alias.pop(child.child_id, None)
        self._children[child.child_id] = child
        for old in child.absorbed:
            self._drop(old)
            self._alias[old] = child.child_id
        self._index(child)
        return child.child_id

    def _drop(self, child_id: str) -> None:
        child = self._children.pop(child_id, None)
        if child is not None:
            self._unindex(child)

    # -- blocking structures ----------------------------------------------------------

    def _count_names(self, child: ChildIdentity, delta: int) -> None:
        if child.given:
            _count(self._first_given, child.given[0].first, delta)
        for name in child.given:
            for sex in child.sexes or ("",):
                _count(self._given_by_sex, (name.norm, sex), delta)
        for field, names in (("given_name", child.given), ("family_name", child.family)):
            counts = self._name_counts[field]
            for name in names:
                _count(counts, name.norm, delta)

    def _index(self, child: ChildIdentity) -> None:
        cid = child.child_id
        self._count_names(child, 1)
        for kind, value in child.all_identifiers():
            put_id(self._by_identifier[kind], value, cid)
        for dob, key in child.block_keys():
            block = self._blocks.get(dob)
            if block is None:
                block = self._blocks[dob] = {}
            put_id(block, key, cid)
        if len(child.postcodes) > 1:
            for postcode in child.postcodes:
                put_id(self._movers_at, postcode, cid)

    def _unindex(self, child: ChildIdentity) -> None:
        cid = child.child_id
        self._count_names(child, -1)
        for kind, value in child.all_identifiers():
            remove_id(self._by_identifier[kind], value, cid)
        for dob, key in child.block_keys():
            block = self._blocks.get(dob)
            if block is not None:
                remove_id(block, key, cid)
                if not block:
                    del self._blocks[dob]
        if len(child.postcodes) > 1:
            for postcode in child.postcodes:
                remove_id(self._movers_at, postcode, cid)


def _count(counts: dict[K, int], key: K, delta: int) -> None:
    """Add `delta` to a count, dropping it at zero (the index holds no empty counts)."""
    left = counts.get(key, 0) + delta
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)
