"""Fellegi–Sunter comparison of a record with a known child: levels, m/u and weights.

Each field is compared at a *level* (exact, a known variant, a typing error, sounds
alike, missing, different...). For each level, m is the probability of seeing it when
record and child are the same child, u when they are two different children; the
level's match weight is log2(m / u), and a candidate's score is the sum over fields.
A score is therefore "how many times likelier, in bits, that this is the same child".

Where m and u come from: m is the error rate of real records at that level, taken from
the synthetic generator (`bench/synthetic.py`), whose error rates were set from what is
reported of agency records (a few per cent typing errors in names, 1–3 % of dates of
birth keyed wrongly, 10–20 % of postcodes missing or out of date). u is the chance that
two different children agree at that level, estimated from name and date frequencies
(e.g. 1 in some 6,600 days for a child's date of birth, about 1 in 150 for a given name
given the spread of children's names). Both are deliberately round: with real linked
data, Splink (expectation maximisation over unlabelled pairs) can estimate them offline,
and only the table below would change.

One level is more than a weight. Two given names a typing error apart, one of them not
a recognised name, are UNSURE rather than FUZZY when the error could as well be another
child's name: at the first letter (Tia/Mia), in a name of three letters or fewer, or as
near to another recognised name (Leom: Leo or Leon?). Twins are named like that, and
the index never links on an UNSURE given name: it asks a person (IDENTITY_REVIEW).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import jellyfish
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from broker.identity.names import GROUP_SEX, KNOWN_GIVEN_NAMES, NAME_GROUP_IDS
from broker.identity.records import NameInfo, one_digit_apart, swapped


class Level(StrEnum):
    """How well one field of a record agrees with a known child."""

    EXACT = "exact"
    VARIANT = "variant"  # a known short form or spelling variant, or a middle name dropped
    PART = "part"  # one part of a hyphenated or double-barrelled family name
    FUZZY = "fuzzy"  # a typing error: Jaro–Winkler ≥ 0.92 or one or two edits
    # given names a typing error apart that could as well be two children's names: they
    # differ at the first letter (Tia/Mia), one is three letters or fewer, or the typo
    # is as near to another recognised name (Leom: Leo or Leon?). Never links alone.
    UNSURE = "unsure"
    # an UNSURE given name that no child of a large index bears, and no nearer to any
    # name a child does bear: a typing error of this child's name (given_names.py)
    TYPO = "typo"
    PHONETIC = "phonetic"  # sounds alike (metaphone)
    SWAPPED = "swapped"  # date of birth with day and month swapped
    ONE_DIGIT = "one_digit"  # date of birth with one wrong digit
    # postcode: where another child of the family, who lived with this one, has been
    # recorded since: the family moved, and the record is of its new address
    HOUSEHOLD = "household"
    SECTOR = "sector"  # same postcode sector (PL1 8..)
    DISTRICT = "district"  # same postcode district (PL1)
    MISSING = "missing"  # absent on one side: evidence of nothing
    DISAGREE = "disagree"


AGREEING: frozenset[Level] = frozenset(
    {Level.EXACT, Level.VARIANT, Level.PART, Level.FUZZY, Level.TYPO, Level.PHONETIC}
    | {Level.SWAPPED, Level.ONE_DIGIT, Level.HOUSEHOLD, Level.SECTOR, Level.DISTRICT}
)

JARO_WINKLER_MIN = 0.92
SHORT_NAME = 3  # a given name this short is one letter from many other names

# field -> level -> (m, u). See the module docstring for where the numbers come from.
M_U: dict[str, dict[Level, tuple[float, float]]] = {
    "given_name": {
        Level.EXACT: (0.86, 0.0067),
        Level.VARIANT: (0.05, 0.001),
        Level.FUZZY: (0.045, 0.0015),
        Level.UNSURE: (0.015, 0.005),
        Level.TYPO: (0.012, 0.0006),
        Level.PHONETIC: (0.015, 0.002),
        Level.DISAGREE: (0.015, 0.99),
    },
    "family_name": {
        Level.EXACT: (0.86, 0.004),
        Level.PART: (0.035, 0.0002),
        Level.FUZZY: (0.045, 0.0015),
        Level.PHONETIC: (0.01, 0.002),
        Level.DISAGREE: (0.05, 0.99),
    },
    "date_of_birth": {
        Level.EXACT: (0.955, 0.00015),
        Level.SWAPPED: (0.02, 0.0001),
        Level.ONE_DIGIT: (0.02, 0.004),
        Level.DISAGREE: (0.005, 0.996),
    },
    "postcode": {
        Level.EXACT: (0.78, 0.0005),
        Level.HOUSEHOLD: (0.05, 0.0005),
        Level.FUZZY: (0.02, 0.003),
        Level.SECTOR: (0.03, 0.01),
        Level.DISTRICT: (0.03, 0.06),
        Level.DISAGREE: (0.16, 0.93),
        Level.MISSING: (1.0, 1.0),
    },
    "sex": {
        Level.EXACT: (0.99, 0.5),
        Level.DISAGREE: (0.01, 0.5),
        Level.MISSING: (1.0, 1.0),
    },
}

WEIGHTS: dict[str, dict[Level, float]] = {
    name: {level: math.log2(m / u) for level, (m, u) in levels.items()}
    for name, levels in M_U.items()
}

FIELDS: tuple[str, ...] = tuple(M_U)

# Term-frequency adjustment of exact name agreement (as Splink does): agreeing on a rare
# family name is stronger evidence than agreeing on "Smith". u becomes the share of
# known children with that name, smoothed towards the table's u by TF_PSEUDO imaginary
# children (so a small index behaves like the table), and floored so that one name
# can never outweigh the date of birth.
TF_PSEUDO = 1000
TF_U_FLOOR = 0.0002

# The ordering used to pick the best of several aliases: by weight, highest first.
_GIVEN_RANK = WEIGHTS["given_name"]
_FAMILY_RANK = WEIGHTS["family_name"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """The levels of one record against one known child, and the score they add up to."""

    levels: tuple[tuple[str, Level], ...]  # (field, level) in FIELDS order
    score: float

    def level(self, field: str) -> Level:
        """The level of one field."""
        for name, level in self.levels:
            if name == field:
                return level
        raise KeyError(field)


def _max_edits(length: int) -> int:
    """Edits a typing error may make: one in a short name, two from eight letters on."""
    return 2 if length >= 8 else 1


def _typo(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if JaroWinkler.similarity(a, b) >= JARO_WINKLER_MIN:
        return True
    limit = _max_edits(min(len(a), len(b)))
    return OSA.distance(a, b, score_cutoff=limit) <= limit


def compare_given(a: NameInfo, b: NameInfo, sexes: tuple[str, ...] = ()) -> Level:
    """Given names: two different *recognised* names are different, however alike.

    That is the twins rule at the level of one field: "Olivia" and "Oliver" are one
    edit from a typo but are two children's names, so they disagree. When one name is
    not recognised, a typing error is FUZZY, or UNSURE where it could as well be another
    child's name ("Tia" and "Mia": `_could_be_two_names`). `sexes` are the sexes
    recorded on either side: a short form shared by a boy's and a girl's name
    ("Charlie") is a variant only of the one that fits.
    """
    if a.norm == b.norm:
        return Level.EXACT
    if a.first == b.first or variants(a.first, b.first, sexes):
        return Level.VARIANT
    known_a, known_b = a.first in KNOWN_GIVEN_NAMES, b.first in KNOWN_GIVEN_NAMES
    if known_a and known_b:
        return Level.DISAGREE
    as_near = False
    if known_a != known_b:
        unknown, known = (b.first, a.first) if known_a else (a.first, b.first)
        other = _other_name(unknown, known, sexes)
        if other is _NEARER:
            return Level.DISAGREE
        as_near = other is _AS_NEAR
    return _unrecognised_given(a, b, as_near)


def variants(a: str, b: str, sexes: tuple[str, ...] = ()) -> bool:
    """Whether two given names are forms of one name in `names.py` (a short form, a
    spelling variant), for the sexes recorded."""
    groups_a = NAME_GROUP_IDS.get(a)
    groups_b = NAME_GROUP_IDS.get(b) if groups_a is not None else None
    if groups_a is None or groups_b is None:
        return False
    shared = groups_a & groups_b
    if not sexes:
        return bool(shared)
    return any(all(s == GROUP_SEX.get(g, s) for s in sexes) for g in shared)


@lru_cache(maxsize=16384)
def _nearest_known(name: str) -> tuple[int, tuple[str, ...]]:
    """The recognised names closest to an unrecognised one (OSA distance ≤ 2)."""
    found = process.extract(
        name, KNOWN_GIVEN_NAMES, scorer=OSA.distance, score_cutoff=2, limit=None
    )
    if not found:
        return 3, ()
    best = min(score for _, score, _ in found)
    return int(best), tuple(sorted(n for n, score, _ in found if score == best))


_NEARER = "nearer"
_AS_NEAR = "as near"


def _other_name(unknown: str, known: str, sexes: tuple[str, ...]) -> str | None:
    """Whether another recognised name is nearer to an unrecognised one than `known` is.

    `_NEARER`: "Jke" is one edit from Jake and two from Jack: it is Jake mistyped, and
    a Jack (perhaps Jake's twin) is someone else. A mistyped name is always one edit from
    its original, so this never parts a record from the child whose name was mistyped.
    `_AS_NEAR`: "Leom" is one edit from Leo and from Leon, who may be twins: it is
    either mistyped, and which one no rule can tell. None: `known` is the nearest (or
    the others as near are its variants).
    """
    distance, nearest = _nearest_known(unknown)
    others = [n for n in nearest if n != known and not variants(n, known, sexes)]
    if not others:
        return None
    if known in nearest:
        return _AS_NEAR
    if len(others) < len(nearest):  # a variant of `known` is among the nearest
        return None
    if OSA.distance(unknown, known, score_cutoff=distance) <= distance:
        return None
    return _NEARER


def _unrecognised_given(a: NameInfo, b: NameInfo, as_near: bool = False) -> Level:
    """At least one name is not a recognised name: most likely a typing error.

    Unless the error could as well be another child's name (`_could_be_two_names`),
    or the misspelt name is as near to another recognised name (`as_near`): then the
    level is UNSURE, which never links without a person (IdentityIndex).
    """
    if _typo(a.first, b.first):
        if as_near or _could_be_two_names(a.first, b.first):
            return Level.UNSURE
        return Level.FUZZY
    shorter, longer = sorted((a.first, b.first), key=len)
    # "Jax" for "Jaxon"; but a recognised name is a name, not a short form: "Jack" and
    # "Jackson" are two boys (twins, perhaps).
    if len(shorter) >= 3 and longer.startswith(shorter) and shorter not in KNOWN_GIVEN_NAMES:
        return Level.VARIANT
    if a.code and a.code == b.code:
        return Level.PHONETIC
    return Level.DISAGREE


def _could_be_two_names(a: str, b: str) -> bool:
    """Whether two given names a typing error apart may just as well be two children's.

    The list of recognised names cannot hold every name, and twins are given names one
    letter apart. Where that letter is, and how long the names are, tell a typing error
    from another name:

    - at the *first* letter (Tia/Mia, Jax/Max, Jason/Mason): typing errors are rarer
      there (the premise of Winkler's prefix bonus), and rhyming twins' names differ
      exactly there. Unless the two sound the same (Katie/Catie, Kayla/Cayla): one
      name spelt two ways.
    - in a name of three letters or fewer (Tia/Tina, Eva/Eve, Max/Mac): almost every
      one-letter change of such a name spells another name.

    A typing error further into a longer name (Oliviaa, Jsck for Jack, Isal for Isla)
    is none of these and still links.
    """
    if min(len(a), len(b)) <= SHORT_NAME:
        return True
    return a[0] != b[0] and sound(a) != sound(b)


@lru_cache(maxsize=16384)
def sound(name: str) -> str:
    """The name's metaphone code: two spellings with one code are one name spelt two ways."""
    return jellyfish.metaphone(name)


def compare_family(a: NameInfo, b: NameInfo) -> Level:
    """Family names: a hyphenated or double-barrelled name agrees with one of its parts."""
    if a.norm == b.norm:
        return Level.EXACT
    if (len(a.parts) > 1 or len(b.parts) > 1) and not set(a.parts).isdisjoint(b.parts):
        return Level.PART
    if _typo(a.norm.replace(" ", ""), b.norm.replace(" ", "")):
        return Level.FUZZY
    if len(a.parts) > 1 or len(b.parts) > 1:
        for pa in a.parts:
            for pb in b.parts:
                if len(pa) > 2 and len(pb) > 2 and _typo(pa, pb):
                    return Level.FUZZY
    if a.code and (a.code == b.code or not set(a.part_codes).isdisjoint(b.part_codes)):
        return Level.PHONETIC
    return Level.DISAGREE


def compare_dob(a: int, b: int) -> Level:
    """Date of birth: exact, or one keying error (day/month swapped, one digit), or not."""
    if a == b:
        return Level.EXACT
    if swapped(a) == b:
        return Level.SWAPPED
    if one_digit_apart(a, b):
        return Level.ONE_DIGIT
    return Level.DISAGREE


def compare_postcode(a: str | None, b: str | None) -> Level:
    """Postcode: exact, one character keyed wrong, same sector, same district, or
    different; missing is neutral."""
    if a is None or b is None:
        return Level.MISSING
    if a == b:
        return Level.EXACT
    if len(a) == len(b) and OSA.distance(a, b, score_cutoff=1) <= 1:
        return Level.FUZZY  # PL1 8UU as PL1 8UY, PL7 8UU or PL1 8YU
    if a[:-2] == b[:-2]:
        return Level.SECTOR
    if a[:-3] == b[:-3]:
        return Level.DISTRICT
    return Level.DISAGREE


def compare_sex(a: str | None, b: str | None) -> Level:
    """Sex: agree, disagree, or missing (neutral)."""
    if a is None or b is None:
        return Level.MISSING
    return Level.EXACT if a == b else Level.DISAGREE


def best_given(
    record: NameInfo, aliases: tuple[NameInfo, ...], sexes: tuple[str, ...] = ()
) -> Level:
    """The best level of the record's given name against any of a child's given names.

    A later alias that is a typing error of the child's first name ("Hacper", learnt
    from a record of Kacper linked on his NHS number) matches only exactly: a spelling
    one letter from *it* is a typo of a typo, or a sister's name ("Harper")."""
    best = Level.DISAGREE
    for i, alias in enumerate(aliases):
        if i and learnt_typo(alias, aliases[0]):
            if record.norm == alias.norm:
                return Level.EXACT
            continue
        level = compare_given(record, alias, sexes)
        if level is Level.EXACT:
            return level
        if _GIVEN_RANK[level] > _GIVEN_RANK[best]:
            best = level
    return best


def learnt_typo(alias: NameInfo, first: NameInfo) -> bool:
    """Whether a child's later given name is an unrecognised misspelling of its first."""
    return alias.first not in KNOWN_GIVEN_NAMES and _typo(alias.first, first.first)


def best_family(record: NameInfo, aliases: tuple[NameInfo, ...]) -> Level:
    """The best level of the record's family name against any of a child's family names."""
    best = Level.DISAGREE
    for alias in aliases:
        level = compare_family(record, alias)
        if level is Level.EXACT:
            return level
        if _FAMILY_RANK[level] > _FAMILY_RANK[best]:
            best = level
    return best


def best_dob(record: int, dobs: tuple[int, ...]) -> Level:
    """The best level of the record's date of birth against any known for the child."""
    best = Level.DISAGREE
    for dob in dobs:
        level = compare_dob(record, dob)
        if level is Level.EXACT:
            return level
        if best is Level.DISAGREE or (level is Level.SWAPPED and best is Level.ONE_DIGIT):
            best = level
    return best


def best_postcode(record: str | None, postcodes: tuple[str, ...]) -> Level:
    """The best level of the record's postcode against any the child has lived at."""
    if record is None or not postcodes:
        return Level.MISSING
    weights = WEIGHTS["postcode"]
    best = Level.DISAGREE
    for postcode in postcodes:
        level = compare_postcode(record, postcode)
        if level is Level.EXACT:
            return level
        if weights[level] > weights[best]:
            best = level
    return best


def best_sex(record: str | None, sexes: tuple[str, ...]) -> Level:
    """Sex against any recorded for the child; missing when either side has none."""
    if record is None or not sexes:
        return Level.MISSING
    return Level.EXACT if record in sexes else Level.DISAGREE


def frequency_weight(field: str, count: int, population: int) -> float:
    """The weight of exact agreement on a name that `count` of `population` children have."""
    m, u_table = M_U[field][Level.EXACT]
    u = (count + TF_PSEUDO * u_table) / (population + TF_PSEUDO)
    return math.log2(m / max(u, TF_U_FLOOR))


def total(levels: tuple[tuple[str, Level], ...]) -> float:
    """The match weight: the sum of each field's log2(m / u)."""
    return sum(WEIGHTS[field][level] for field, level in levels)
