"""One known child's merged identity: every name, date, postcode and identifier seen.

Records of one child differ (a typo, a new surname, a move), so a child is held as the
*set* of what has been seen, its aliases, and a record is compared with the best of
them. Memory matters at a population of hundreds of thousands: the class uses slots,
aliases are tuples (the empty tuple is shared), and names, postcodes and dates are
interned, so a child costs a few pointers more than its identifiers.

State is a plain JSON-able dict (lists of strings) because the index lives in a faust
table changelog: the normalised forms are stored, and normalising them again on load
gives the same forms back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from broker.identity.records import (
    IDENTIFIER_KINDS,
    NameInfo,
    PersonRecord,
    dob_from_key,
    dob_key,
    name_info,
    normalise_identifier,
    normalise_postcode,
    normalise_sex,
)

STATE_VERSION = 1
MAX_NAME_ALIASES = 6
MAX_DOB_ALIASES = 3
MAX_POSTCODE_ALIASES = 6

JsonState = dict[str, object]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Query:
    """A record normalised for comparison, with its blocking keys."""

    given: NameInfo
    family: NameInfo
    dob: int
    postcode: str | None
    sex: str | None
    identifiers: tuple[tuple[str, str], ...]
    name_keys: tuple[str, ...]  # "g"/"f" + phonetic code: narrows one-digit DOB variants


def name_keys(given: tuple[NameInfo, ...], family: tuple[NameInfo, ...]) -> tuple[str, ...]:
    """Blocking keys of names: the given name's canonical sound and each family part's."""
    keys: dict[str, None] = {}
    for g in given:
        if g.canonical_code:
            keys[sys.intern("g" + g.canonical_code)] = None
    for f in family:
        for code in (f.code, *f.part_codes):
            if code:
                keys[sys.intern("f" + code)] = None
    return tuple(keys)


class Interner:
    """Shares equal names, postcodes and dates between children (and with queries)."""

    __slots__ = ("_dobs", "_names", "_postcodes")

    def __init__(self) -> None:
        self._names: dict[str, NameInfo] = {}
        self._postcodes: dict[str, str] = {}
        self._dobs: dict[int, int] = {}

    def name(self, raw: str) -> NameInfo:
        info = name_info(raw)
        return self._names.setdefault(info.norm, info)

    def postcode(self, value: str) -> str:
        return self._postcodes.setdefault(value, value)

    def dob(self, value: int) -> int:
        return self._dobs.setdefault(value, value)


def make_query(record: PersonRecord) -> Query:
    """Normalise a record once for every comparison it will take part in."""
    given = name_info(record.given_name)
    family = name_info(record.family_name)
    return Query(
        given=given,
        family=family,
        dob=dob_key(record.date_of_birth),
        postcode=normalise_postcode(record.postcode),
        sex=normalise_sex(record.sex),
        identifiers=record.identifiers(),
        name_keys=name_keys((given,), (family,)),
    )


def _with(aliases: tuple[T, ...], value: T, limit: int) -> tuple[T, ...]:
    if value in aliases or len(aliases) >= limit:
        return aliases
    return (*aliases, value)


def _newest(aliases: tuple[T, ...], value: T, limit: int) -> tuple[T, ...]:
    """An address history, oldest first: a new address is always kept, the oldest goes."""
    if value in aliases:
        return aliases
    kept = aliases[len(aliases) - limit + 1 :] if len(aliases) >= limit else aliases
    return (*kept, value)


class ChildIdentity:
    """Everything seen of one child. Mutated only by `IdentityIndex`, which re-indexes it."""

    __slots__ = (
        "absorbed",
        "apart",
        "child_id",
        "dobs",
        "family",
        "given",
        "nhs_number",
        "police_person_id",
        "postcodes",
        "sexes",
        "socialcare_id",
        "upn",
    )

    def __init__(self, child_id: str) -> None:
        self.child_id = child_id
        self.given: tuple[NameInfo, ...] = ()
        self.family: tuple[NameInfo, ...] = ()
        self.dobs: tuple[int, ...] = ()
        self.postcodes: tuple[str, ...] = ()
        self.sexes: tuple[str, ...] = ()
        self.nhs_number: tuple[str, ...] = ()
        self.upn: tuple[str, ...] = ()
        self.socialcare_id: tuple[str, ...] = ()
        self.police_person_id: tuple[str, ...] = ()
        self.apart: tuple[str, ...] = ()  # children a person decided are not this one
        self.absorbed: tuple[str, ...] = ()  # ids merged into this one

    def identifiers(self, kind: str) -> tuple[str, ...]:
        """The values of one kind of identifier known for this child."""
        values: tuple[str, ...] = getattr(self, kind)
        return values

    def all_identifiers(self) -> Iterator[tuple[str, str]]:
        for kind in IDENTIFIER_KINDS:
            for value in self.identifiers(kind):
                yield kind, value

    def block_keys(self) -> Iterator[tuple[int, str]]:
        """(date of birth, key) pairs: "" for every child born that day, then name keys."""
        keys = name_keys(self.given, self.family)
        for dob in self.dobs:
            yield dob, ""
            for key in keys:
                yield dob, key

    def copy(self) -> ChildIdentity:
        """A copy of what is known now (the aliases are tuples: shared, not copied)."""
        other = ChildIdentity(self.child_id)
        for attr in self.__slots__:
            setattr(other, attr, getattr(self, attr))
        return other

    def indexed_as(self, other: ChildIdentity) -> bool:
        """Whether the index files this child under the same keys and name counts as
        `other` (names, dates of birth, identifiers, addresses and sexes alike: given
        names are counted by sex, for given_names.py)."""
        return all(getattr(self, a) == getattr(other, a) for a in _INDEXED)

    def learn(self, query: Query, interner: Interner, limit: bool = True) -> None:
        """Add what a record of this child shows: new aliases (capped) and identifiers."""
        names = MAX_NAME_ALIASES if limit else sys.maxsize
        self.given = _with(self.given, interner.name(query.given.norm), names)
        self.family = _with(self.family, interner.name(query.family.norm), names)
        dobs = MAX_DOB_ALIASES if limit else sys.maxsize
        self.dobs = _with(self.dobs, interner.dob(query.dob), dobs)
        if query.postcode:
            postcodes = MAX_POSTCODE_ALIASES if limit else sys.maxsize
            pc = interner.postcode(query.postcode)
            self.postcodes = _newest(self.postcodes, pc, postcodes)
        if query.sex:
            self.sexes = _with(self.sexes, sys.intern(query.sex), 3)
        for kind, value in query.identifiers:
            setattr(self, kind, _with(self.identifiers(kind), value, sys.maxsize))

    def absorb(self, other: ChildIdentity) -> None:
        """Take over everything of a child merged into this one."""
        for attr in ("given", "family", "dobs", "postcodes", "sexes", *IDENTIFIER_KINDS):
            mine: tuple[object, ...] = getattr(self, attr)
            theirs: tuple[object, ...] = getattr(other, attr)
            setattr(self, attr, mine + tuple(v for v in theirs if v not in mine))
        drop = {self.child_id, other.child_id}
        self.apart = tuple(dict.fromkeys(a for a in self.apart + other.apart if a not in drop))
        self.absorbed = tuple(dict.fromkeys((*self.absorbed, other.child_id, *other.absorbed)))

    def to_state(self) -> JsonState:
        """A JSON-able dict of normalised values, for a faust table changelog."""
        state: JsonState = {
            "v": STATE_VERSION,
            "child_id": self.child_id,
            "given_names": [n.norm for n in self.given],
            "family_names": [n.norm for n in self.family],
            "dates_of_birth": [dob_from_key(d).isoformat() for d in self.dobs],
            "postcodes": list(self.postcodes),
            "sexes": list(self.sexes),
        }
        for kind in IDENTIFIER_KINDS:
            state[kind] = list(self.identifiers(kind))
        state["kept_apart"] = list(self.apart)
        state["absorbed"] = list(self.absorbed)
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, object], interner: Interner) -> ChildIdentity:
        """Rebuild a child from `to_state()` output; raises ValueError naming a bad field."""
        child = cls(_text(state, "child_id"))
        child.given = tuple(interner.name(v) for v in _texts(state, "given_names"))
        child.family = tuple(interner.name(v) for v in _texts(state, "family_names"))
        try:
            dobs = [dob_key(date.fromisoformat(v)) for v in _texts(state, "dates_of_birth")]
        except ValueError:
            raise ValueError("identity state: dates_of_birth is not a list of ISO dates") from None
        child.dobs = tuple(interner.dob(d) for d in dobs)
        postcodes = (normalise_postcode(v) for v in _texts(state, "postcodes"))
        child.postcodes = tuple(interner.postcode(v) for v in postcodes if v)
        child.sexes = tuple(
            sys.intern(s) for v in _texts(state, "sexes") if (s := normalise_sex(v))
        )
        for kind in IDENTIFIER_KINDS:
            values = (normalise_identifier(v) for v in _texts(state, kind))
            setattr(child, kind, tuple(v for v in values if v))
        child.apart = tuple(_texts(state, "kept_apart"))
        child.absorbed = tuple(_texts(state, "absorbed"))
        if not child.given or not child.family or not child.dobs:
            raise ValueError("identity state: names and date of birth are required")
        return child


_INDEXED = ("child_id", "given", "family", "dobs", "postcodes", "sexes", *IDENTIFIER_KINDS)
"""What `IdentityIndex._index` files a child under (and counts its names by)."""


def _text(state: Mapping[str, object], key: str) -> str:
    value = state.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"identity state: {key} must be a non-empty string")
    return value


def _texts(state: Mapping[str, object], key: str) -> list[str]:
    value = state.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"identity state: {key} must be a list of strings")
    return value
