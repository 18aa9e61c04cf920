"""The linkage benchmark's generator of moves (bench/moves.py) and its report by kind.

The figures of bench.linkage are only as honest as the records it draws: these check
that every kind of difference the issue names is drawn, is what its tag says, and is
reported.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench.linkage import run
from bench.moves import ADDRESS_KINDS, STRANGER_KINDS, Life
from bench.synthetic import Child, Generator, Labelled


@pytest.fixture(scope="module")
def drawn() -> tuple[Life, list[Child], list[tuple[Child, Labelled]]]:
    generator = Generator(3, hard_names=True, life=True)
    population = generator.children(3000)
    known = {c.child_id for c in population} - {c.child_id for c in population[::10]}
    life = Life(generator, 3)
    life.settle(population, known)
    records = [(c, life.record(c)) for c in population * 3]
    return life, population, records


def test_every_kind_of_difference_is_drawn(
    drawn: tuple[Life, list[Child], list[tuple[Child, Labelled]]],
) -> None:
    _, _, records = drawn
    tags = Counter(tag for _, labelled in records for tag in labelled.errors)
    for kind in (*ADDRESS_KINDS, "sibling_known_there", "postcode_missing"):
        assert tags[kind] > 0, kind
    for position in ("given_typo_first", "given_typo_inner", "given_typo_last"):
        assert tags[position] > 0, position


def test_a_record_is_what_its_tag_says(
    drawn: tuple[Life, list[Child], list[tuple[Child, Labelled]]],
) -> None:
    life, _, records = drawn
    for child, labelled in records:
        record, tags = labelled.record, set(labelled.errors)
        move = life.moves.get(child.household)
        indexed_postcodes = [r.postcode for r in life.known_records(child)]
        if tags & {"moved_same_city", "moved_from_council"} and "postcode_typo" not in tags:
            assert move is not None
            assert record.postcode == move.new != move.old
            assert record.postcode not in indexed_postcodes
        if "moved_from_council" in tags:
            assert record.upn is None  # the new school has no UPN yet
            assert move is not None
            assert move.old.split()[0][:2] not in ("PL", "TQ")
        if "address_one_agency" in tags and "postcode_typo" not in tags:
            assert indexed_postcodes[-1] == record.postcode  # learnt through one agency
        if "given_typo_first" in tags and "given_short_form" not in tags:
            typed, true = record.given_name.casefold(), child.truth.given_name.casefold()
            assert typed[:2] != true[:2]  # mistyped at the first letter (or swapped with it)


def test_strangers_look_like_the_child_but_are_not_it(
    drawn: tuple[Life, list[Child], list[tuple[Child, Labelled]]],
) -> None:
    life, population, _ = drawn
    like = population[0]
    for kind in STRANGER_KINDS:
        stranger = life.stranger(kind, like)
        assert stranger.child_id.startswith(kind)
        assert stranger.truth.nhs_number != like.truth.nhs_number
        if kind == "same_date_stranger":
            assert stranger.truth.date_of_birth == like.truth.date_of_birth
        else:
            assert stranger.truth.given_name == like.truth.given_name
            assert stranger.truth.date_of_birth != like.truth.date_of_birth


def test_the_report_gives_recall_by_kind_and_precision_by_non_match(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(children=3000, pairs=1500, seed=7, verbose=False)
    out = capsys.readouterr().out
    for line in ("recall by kind of difference", "precision by kind of non-match"):
        assert line in out
    for kind in (*ADDRESS_KINDS, "moved: at the new address", *STRANGER_KINDS, "twin"):
        assert f"  {kind} " in out, kind
    assert "moved children: recall" in out
