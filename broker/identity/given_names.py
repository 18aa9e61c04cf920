"""What the index's own children tell about a given name: is a spelling anyone's name?

`names.py` holds some 470 recognised names; the children the index knows bear many more.
Their names, counted by the index, are the evidence a fixed list lacks:

- **A typing error, not a name.** "Noha", "Mja" or "Xlivia" one letter from a known
  child's Noah, Mia or Olivia is UNSURE by the fixed rules (the first letter, a name of
  three letters, scoring._could_be_two_names), because a twin could be named one letter
  apart. But a twin's name is a name: other children bear it. A spelling that not one of
  the index's children bears, one letter from this child's name and no nearer to (nor as
  near as) any name that children of the record's sex bear, is a typing error of this
  child's name (Level.TYPO) and may link. The Bayes of it: a specific typing error of
  "Mia" comes with some 1 in 10,000 records of Mia; a twin of Mia named with a spelling
  no other child of 10,000 or more bears is far rarer than that. The index must be that
  large before its silence counts (`Thresholds.names_from`); a smaller one keeps the
  fixed rules.

- **Two forms of one name that are also two children's names.** `names.py` groups
  Harrison and Harry, Henry and Harry, Jacob and Jake as one name, which they are when
  an agency shortens a child's name. But parents name twins Harrison
  and Harry too. A form that many children are first known by (1 in 20,000 of them, and
  at least one) is a name in its own right; when both forms are, and the family name,
  date of birth and postcode agree as twins' do, the index asks a person
  (compare.held_back: Reason.TWIN_NAMES) rather than merge them. A short form that
  children are rarely first known by ("Will", "Alf") is an agency's shortening and links,
  and two spellings that sound alike (Lily, Lilly) are one name: nobody calls twins alike.

Pure over the index's counts (held by reference: they change as the index learns).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA

from broker.identity.names import KNOWN_GIVEN_NAMES
from broker.identity.records import NameInfo
from broker.identity.scoring import Level, compare_given, learnt_typo, sound, variants

OWN_NAME_SHARE = 1 / 20_000
"""A form at least this share of children are first known by is a name in its own right."""


class GivenNameEvidence:
    """The index's counts of given names, asked about one record's given name."""

    __slots__ = ("_borne", "_by_sex", "_first", "_names_from", "_population")

    def __init__(
        self,
        borne: Mapping[str, int],
        by_sex: Mapping[tuple[str, str], int],
        first: Mapping[str, int],
        population: Callable[[], int],
        names_from: int,
    ) -> None:
        self._borne = borne  # given name (any alias) -> children bearing it
        self._by_sex = by_sex  # (given name, sex or "") -> children of that sex bearing it
        self._first = first  # given name -> children first known by it
        self._population = population
        self._names_from = names_from

    def typing_error(
        self,
        record: NameInfo,
        aliases: tuple[NameInfo, ...],
        sexes: tuple[str, ...],
        record_sex: str | None = None,
    ) -> bool:
        """Whether an UNSURE given name is a typing error of one of the child's names:
        a spelling no child of a large enough index bears, nearer to that name than to
        any name a child of the record's sex (when it is recorded) does bear, the
        child's own name and its variants aside. "Noa" for a boy Noah is Noah mistyped:
        Nora and Nia, as near, are girls' names, and a twin brother is no Nora."""
        name = record.first
        if (
            self._population() < self._names_from
            or name in KNOWN_GIVEN_NAMES
            or self._borne.get(record.norm, 0) > 0
            or self._borne.get(name, 0) > 0
        ):
            return False
        for i, alias in enumerate(aliases):
            if i and learnt_typo(alias, aliases[0]):
                continue  # a typo of a typo is no evidence (scoring.best_given)
            if compare_given(record, alias, sexes) is not Level.UNSURE:
                continue
            if not self._nearer_or_as_near(name, alias.first, sexes, record_sex):
                return True
        return False

    def _nearer_or_as_near(
        self, name: str, alias: str, sexes: tuple[str, ...], record_sex: str | None
    ) -> bool:
        """Whether a name some child bears, other than `alias` and its variants, is at
        most as many edits from `name` as `alias` is ("Xia": Mia, or Tia, Lia, Ria?).
        With the record's sex known, only names borne by children of that sex (or of no
        recorded sex) count: the record's child, whoever it is, is of that sex."""
        distance = OSA.distance(name, alias)
        found = process.extract(
            name, self._borne.keys(), scorer=OSA.distance, score_cutoff=distance, limit=None
        )
        return any(
            other != alias
            and not variants(other.split()[0], alias, sexes)
            and self._borne_by(other, record_sex)
            for other, _, _ in found
        )

    def _borne_by(self, name: str, sex: str | None) -> bool:
        """Whether children of this sex (any, when None) bear the name."""
        if sex is None:
            return True
        return self._by_sex.get((name, sex), 0) > 0 or self._by_sex.get((name, ""), 0) > 0

    def two_names(
        self, record: NameInfo, aliases: tuple[NameInfo, ...], sexes: tuple[str, ...]
    ) -> bool:
        """Whether the record's given name and a child's name it agrees with as a variant
        are different forms that children are each first known by (Harrison, Harry).
        Two spellings that sound the same (Lily, Lilly; Mohammed, Muhammad) are one name
        written two ways: nobody calls twins alike."""
        if not self._own_name(record.first):
            return False
        return any(
            alias.first != record.first
            and variants(record.first, alias.first, sexes)
            and sound(record.first) != sound(alias.first)
            and self._own_name(alias.first)
            for alias in aliases
        )

    def _own_name(self, name: str) -> bool:
        needed = max(1.0, self._population() * OWN_NAME_SHARE)
        return self._first.get(name, 0) >= needed
