"""The plain record the matcher works on, and the normalisation every comparison shares.

The matcher never sees the pipeline's event models: the pipeline converts a `Subject`
into a `PersonRecord`, so this package stays a pure library over plain data that can be
tested, benchmarked and reasoned about without Kafka or pydantic.

Normalisation is deliberately forgiving about *form* (case, accents, spaces, hyphens,
apostrophes) so that only differences of *content* reach the scoring: "O'Brien-Smith"
and "obrien smith" are the same family name, "pl1 8uu" and "PL18UU" the same postcode.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jellyfish

from broker.identity.names import NICKNAME_CANONICAL

IDENTIFIER_KINDS: tuple[str, ...] = ("nhs_number", "upn", "socialcare_id", "police_person_id")
"""The identifiers that link outright when equal, in the order they are tried."""

_NOT_LETTER = re.compile(r"[^a-z]+")
_APOSTROPHES = re.compile(r"['’`]")
_UNKNOWN_SEX = frozenset({"", "u", "unknown", "not known", "not_known", "x", "9", "0"})


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """Who an event says the child is: the identifying part of a `Subject`.

    Only the names and date of birth are required, as in the `Subject` itself; every
    other field may be missing, and a missing field is evidence of nothing.
    """

    given_name: str
    family_name: str
    date_of_birth: date
    nhs_number: str | None = None
    upn: str | None = None
    socialcare_id: str | None = None
    police_person_id: str | None = None
    postcode: str | None = None
    sex: str | None = None

    def identifiers(self) -> tuple[tuple[str, str], ...]:
        """The (kind, normalised value) of each identifier present, in `IDENTIFIER_KINDS` order."""
        found: list[tuple[str, str]] = []
        for kind in IDENTIFIER_KINDS:
            value = normalise_identifier(getattr(self, kind))
            if value:
                found.append((kind, value))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class NameInfo:
    """A normalised name with everything the comparisons need, computed once.

    Instances are shared (interned) across every child with the same name, so a
    population of children costs one `NameInfo` per distinct spelling, not per child.
    """

    norm: str  # words joined by single spaces: "smith jones"
    first: str  # first word: "mary" of "mary ann"
    parts: tuple[str, ...]
    code: str  # phonetic code (metaphone) of the whole name without spaces
    part_codes: tuple[str, ...]
    canonical: str  # the nickname group's canonical form of `first`, or `first`
    canonical_code: str  # phonetic code of `canonical`: the given-name blocking key


def fold(text: str) -> str:
    """Lower-case ASCII letters and single spaces: accents, apostrophes and hyphens go."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    no_apostrophe = _APOSTROPHES.sub("", ascii_only.casefold())
    return _NOT_LETTER.sub(" ", no_apostrophe).strip()


@lru_cache(maxsize=65536)
def name_info(raw: str) -> NameInfo:
    """Normalise a name once; cached because the same names recur across children."""
    norm = fold(raw)
    parts = tuple(norm.split()) or ("",)
    first = parts[0]
    canonical = NICKNAME_CANONICAL.get(first, first)
    code = jellyfish.metaphone(norm.replace(" ", "")) if norm else ""
    part_codes = tuple(jellyfish.metaphone(p) for p in parts) if len(parts) > 1 else (code,)
    return NameInfo(
        norm=norm,
        first=first,
        parts=parts,
        code=code,
        part_codes=part_codes,
        canonical=canonical,
        canonical_code=jellyfish.metaphone(canonical) if canonical else "",
    )


def normalise_postcode(raw: str | None) -> str | None:
    """Upper-case without spaces ("PL18UU"); None when missing or clearly not a postcode."""
    if raw is None:
        return None
    cleaned = "".join(c for c in raw.upper() if c.isalnum())
    return cleaned if 5 <= len(cleaned) <= 7 else None


def normalise_identifier(raw: str | None) -> str | None:
    """Upper-case without spaces or dashes: "943 476 5919" and "9434765919" are equal."""
    if raw is None:
        return None
    cleaned = "".join(c for c in raw.upper() if c.isalnum())
    return cleaned or None


def normalise_sex(raw: str | None) -> str | None:
    """ "m" or "f" for the usual spellings, the folded text otherwise, None when unknown."""
    if raw is None:
        return None
    folded = raw.strip().casefold()
    if folded in _UNKNOWN_SEX:
        return None
    if folded in {"m", "male", "1", "boy"}:
        return "m"
    if folded in {"f", "female", "2", "girl"}:
        return "f"
    return folded


# Dates of birth are held as integers YYYYMMDD: compact, hashable, and a keying error is
# a question about their decimal digits.


def dob_key(value: date) -> int:
    """The date as an integer YYYYMMDD."""
    return value.year * 10000 + value.month * 100 + value.day


def dob_from_key(key: int) -> date:
    """The date of an integer YYYYMMDD."""
    return date(key // 10000, key // 100 % 100, key % 100)


def swapped(key: int) -> int | None:
    """The date with day and month swapped, when that is another valid date."""
    day, month = key % 100, key // 100 % 100
    if day == month or day > 12:
        return None
    candidate = key - day - month * 100 + month + day * 100
    return candidate if _valid(candidate) else None


def one_digit_apart(a: int, b: int) -> bool:
    """True when the two YYYYMMDD dates differ in exactly one decimal digit."""
    diff = 0
    while a or b:
        if a % 10 != b % 10:
            diff += 1
            if diff > 1:
                return False
        a //= 10
        b //= 10
    return diff == 1


@lru_cache(maxsize=8192)
def one_digit_variants(key: int) -> tuple[int, ...]:
    """Every valid date one wrong digit away: the dates a keying error could have typed.

    Cached: children's dates of birth span only some 6,600 days, so the cache holds
    them all after warm-up and blocking costs a dictionary look-up per variant.
    """
    variants: list[int] = []
    for position in range(8):
        weight = 10**position
        digit = key // weight % 10
        base = key - digit * weight
        for other in range(10):
            if other != digit:
                candidate = base + other * weight
                if _valid(candidate):
                    variants.append(candidate)
    return tuple(variants)


def keying_error_apart(a: int, b: int) -> bool:
    """Equal, or apart by one keying error (a swapped day and month, or one digit)."""
    return a == b or swapped(a) == b or one_digit_apart(a, b)


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid(key: int) -> bool:
    year, month, day = key // 10000, key // 100 % 100, key % 100
    if not (1900 <= year <= 2199 and 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1]):
        return False
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True
