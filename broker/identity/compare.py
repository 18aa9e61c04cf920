"""Comparing a record with one known child: the agreement level of each field, the
match weight, and the rules that forbid or hold back a link whatever the weight.

Pure functions over a `Query` (the record, normalised once) and a `ChildIdentity`
(everything recorded of a child); the index (broker.identity.index) finds the
candidates, calls these, and decides among the scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from broker.identity.child import ChildIdentity, Query
from broker.identity.decision import Reason
from broker.identity.given_names import GivenNameEvidence
from broker.identity.scoring import (
    WEIGHTS,
    Level,
    best_dob,
    best_family,
    best_given,
    best_postcode,
    best_sex,
    compare_family,
    total,
)

SIBLING: str = "sibling"
SIBLING_FAMILY = frozenset({Level.EXACT, Level.PART, Level.FUZZY, Level.PHONETIC})
BELOW_HOUSEHOLD = frozenset({Level.FUZZY, Level.SECTOR, Level.DISTRICT, Level.DISAGREE})
"""Postcode levels that the family's move (Level.HOUSEHOLD) outweighs."""
TWINS_POSTCODE = frozenset({Level.EXACT, Level.HOUSEHOLD})
"""Postcode levels at which a record and a child live where twins would (held_back)."""

FamilyMoved = Callable[[str, ChildIdentity], bool]
"""Whether another child of this child's family, who lived at one of its addresses, has
since been recorded at the record's postcode (the index answers it for one record)."""


@dataclass(frozen=True, slots=True)
class Scored:
    """One candidate's match weight, field levels, and whether an identifier differs."""

    score: float
    child_id: str
    levels: tuple[tuple[str, Level], ...]
    conflict: bool  # an identifier of the same kind differs
    # the given names are two forms of one name that are each a child's name (Harrison,
    # Harry), and family name, date of birth and postcode agree as twins' do
    twin_names: bool = False


def score(
    query: Query,
    child_id: str,
    child: ChildIdentity,
    frequency_adjustment: Callable[[str, str], float],
    *,
    family_moved: FamilyMoved | None = None,
    names: GivenNameEvidence | None = None,
) -> Scored | str | None:
    """Score one candidate; None or SIBLING when the rules forbid linking it at all.

    `frequency_adjustment(field, norm)` is how much more (or less) exact agreement on
    that name weighs than on an average one, from the index's name counts.
    `family_moved`: see `FamilyMoved`; None when nobody has moved to the record's postcode.
    `names`: what the index's children tell of given names (given_names.py): an UNSURE
    spelling no child bears is a typing error (Level.TYPO), and two forms of one name
    that are each a child's name are held back where twins would be.
    """
    dob = best_dob(query.dob, child.dobs)
    if dob is Level.DISAGREE:
        return None  # beyond a keying error: never the same child
    both = sexes(query, child)
    given = best_given(query.given, child.given, both)
    family = best_family(query.family, child.family)
    if given is Level.DISAGREE and family in SIBLING_FAMILY:
        return SIBLING  # a sibling or twin: a different child, and no review
    if (
        given is Level.UNSURE
        and names is not None
        and names.typing_error(query.given, child.given, both, query.sex)
    ):
        given = Level.TYPO
    postcode = postcode_level(query, child_id, child, family_moved)
    levels = (
        ("given_name", given),
        ("family_name", family),
        ("date_of_birth", dob),
        ("postcode", postcode),
        ("sex", best_sex(query.sex, child.sexes)),
    )
    twin_names = (
        given is Level.VARIANT
        and family in SIBLING_FAMILY
        and dob is Level.EXACT
        and postcode in TWINS_POSTCODE
        and names is not None
        and names.two_names(query.given, child.given, both)
    )
    total_score = total(levels)
    if given is Level.EXACT:
        total_score += frequency_adjustment("given_name", query.given.norm)

    if family is Level.EXACT:
        total_score += frequency_adjustment("family_name", query.family.norm)
    elif family is Level.FUZZY:
        total_score += min(
            frequency_adjustment("family_name", alias.norm)
            for alias in child.family
            if compare_family(query.family, alias) is Level.FUZZY
        )
    return Scored(total_score, child_id, levels, conflicts(query, child), twin_names)


def levels_of(
    query: Query, child: ChildIdentity, family_moved: FamilyMoved | None = None
) -> tuple[tuple[str, Level], ...]:
    """How well each field of the record agrees with what is known of the child."""
    return (
        ("given_name", best_given(query.given, child.given, sexes(query, child))),
        ("family_name", best_family(query.family, child.family)),
        ("date_of_birth", best_dob(query.dob, child.dobs)),
        ("postcode", postcode_level(query, child.child_id, child, family_moved)),
        ("sex", best_sex(query.sex, child.sexes)),
    )


def postcode_level(
    query: Query, child_id: str, child: ChildIdentity, family_moved: FamilyMoved | None
) -> Level:
    """The record's postcode against every address the child has had (its own address
    history), or HOUSEHOLD when it is not one of them but the family has moved there."""
    level = best_postcode(query.postcode, child.postcodes)
    if level in BELOW_HOUSEHOLD and family_moved is not None and family_moved(child_id, child):
        return Level.HOUSEHOLD
    return level


def conflicts(query: Query, child: ChildIdentity) -> bool:
    """An identifier of a kind both have, whose values differ."""
    for kind, value in query.identifiers:
        known = child.identifiers(kind)
        if known and value not in known:
            return True
    return False


def dominates(best: tuple[tuple[str, Level], ...], other: tuple[tuple[str, Level], ...]) -> bool:
    """Whether one candidate fits the record at least as well on every field, and better on one.

    Then the other is no real rival: "Millie" fits a known Millie exactly and her twin
    Mollie only as a typing error, and a typo that happens to spell the sister's name
    exactly is far rarer than the level weights alone (which price *any* typo) suggest.
    So too when the family has moved and only Mollie's new address is known yet: Millie
    at that address fits Millie (HOUSEHOLD) as well as it fits Mollie (EXACT).
    """
    better = False
    for (field, level_a), (_, level_b) in zip(best, other, strict=True):
        weights = WEIGHTS[field]
        mine, theirs = weights[_as_family(level_a)], weights[_as_family(level_b)]
        if mine < theirs:
            return False
        better = better or mine > theirs
    return better


def _as_family(level: Level) -> Level:
    """A postcode where the family has moved tells one child of it from another no
    better than the postcode they all share: for dominance, HOUSEHOLD counts as EXACT."""
    return Level.EXACT if level is Level.HOUSEHOLD else level


def held_back(best: Scored) -> Reason | None:
    """Why a candidate that scores enough to link must still go to a person, if it must.

    An identifier of the same kind that differs contradicts the match. A given name
    one letter from the child's where a typing error and a sibling's name look alike
    (Level.UNSURE: Tia for Mia, Jax for Max) is no proof either way: linking would merge
    twins if it is the other child, and the other twin is often not yet known. Nor are
    two forms of one name that are each a child's name, with family name, date of birth
    and postcode agreeing as twins' do (Scored.twin_names: Harrison for a known Harry).
    """
    if best.conflict:
        return Reason.IDENTIFIER_CONTRADICTS
    if dict(best.levels)["given_name"] is Level.UNSURE:
        return Reason.GIVEN_NAME_UNSURE
    if best.twin_names:
        return Reason.TWIN_NAMES
    return None


def sexes(query: Query, child: ChildIdentity) -> tuple[str, ...]:
    """Every sex recorded for the pair: the record's and the child's."""
    if query.sex is None:
        return child.sexes
    return child.sexes if query.sex in child.sexes else (*child.sexes, query.sex)
