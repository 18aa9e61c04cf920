"""Field comparisons, keying errors, weights and explanations of the identity matcher."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.identity import Level, LinkDecision, Outcome, Reason
from broker.identity.records import (
    dob_from_key,
    dob_key,
    fold,
    keying_error_apart,
    name_info,
    normalise_identifier,
    normalise_postcode,
    normalise_sex,
    one_digit_apart,
    one_digit_variants,
    swapped,
)
from broker.identity.scoring import (
    WEIGHTS,
    compare_dob,
    compare_family,
    compare_given,
    compare_postcode,
    frequency_weight,
)


def given_level(a: str, b: str, sexes: tuple[str, ...] = ()) -> Level:
    return compare_given(name_info(a), name_info(b), sexes)


def family_level(a: str, b: str) -> Level:
    return compare_family(name_info(a), name_info(b))


def dob(text: str) -> int:
    return dob_key(date.fromisoformat(text))


# -- normalisation --------------------------------------------------------------------


def test_form_is_not_content() -> None:
    assert fold("  O'Brien-SMITH ") == "obrien smith"
    assert fold("Zoë") == "zoe"
    assert normalise_postcode("pl1 8uu") == normalise_postcode("PL18UU") == "PL18UU"
    assert normalise_postcode("n/a") is None
    assert normalise_identifier("943 476 5919") == "9434765919"
    assert normalise_sex("Female") == normalise_sex("F") == "f"
    assert normalise_sex("unknown") is None


# -- dates of birth: keying errors ------------------------------------------------------


def test_day_and_month_swapped() -> None:
    assert swapped(dob("2012-03-04")) == dob("2012-04-03")
    assert swapped(dob("2012-03-13")) is None  # no 13th month
    assert swapped(dob("2012-05-05")) is None  # swapping changes nothing
    assert compare_dob(dob("2012-03-04"), dob("2012-04-03")) is Level.SWAPPED


def test_one_wrong_digit_is_a_keying_error_two_are_not() -> None:
    assert one_digit_apart(dob("2012-03-04"), dob("2012-03-07"))
    assert one_digit_apart(dob("2012-03-04"), dob("2015-03-04"))
    assert compare_dob(dob("2012-03-04"), dob("2012-08-04")) is Level.ONE_DIGIT
    assert not one_digit_apart(dob("2012-03-04"), dob("2013-03-05"))
    assert compare_dob(dob("2012-03-04"), dob("2014-11-20")) is Level.DISAGREE
    assert not keying_error_apart(dob("2012-03-04"), dob("2013-03-05"))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_one_digit_variants_are_exactly_the_valid_dates_one_digit_away(day: date) -> None:
    key = dob_key(day)
    variants = one_digit_variants(key)
    assert key not in variants
    for other in variants:
        assert one_digit_apart(key, other)
        assert key in one_digit_variants(other)
        dob_from_key(other)  # a valid date
    assert dob_from_key(key) == day


# -- names --------------------------------------------------------------------------------


def test_given_name_levels() -> None:
    assert given_level("Oliver", "OLIVER") is Level.EXACT
    assert given_level("Will", "William") is Level.VARIANT
    assert given_level("Mary Ann", "Mary") is Level.VARIANT
    assert given_level("Olivre", "Oliver") is Level.FUZZY  # a transposition
    assert given_level("Jaxn", "Jaxon") is Level.FUZZY


def test_two_recognised_names_are_different_however_alike() -> None:
    """Twins are called Olivia and Oliver, Ava and Eva: not typing errors."""
    assert given_level("Olivia", "Oliver") is Level.DISAGREE
    assert given_level("Ava", "Eva") is Level.DISAGREE
    assert given_level("Jack", "Jackson") is Level.DISAGREE


def test_a_typo_nearer_another_recognised_name_is_that_name() -> None:
    assert given_level("Jacj", "Jack") is Level.FUZZY
    assert given_level("Jacj", "Jake") is Level.DISAGREE
    assert given_level("Jke", "Jack") is Level.DISAGREE


def test_a_typing_error_that_could_as_well_be_another_childs_name_is_unsure() -> None:
    """Twins are called Tia and Mia: one letter, where a typo and a name look alike."""
    # the first letter differs
    assert given_level("Tia", "Mia") is Level.UNSURE
    assert given_level("Jax", "Max") is Level.UNSURE
    assert given_level("Jason", "Mason") is Level.UNSURE
    assert given_level("Barry", "Harry") is Level.UNSURE
    # a name of three letters or fewer
    assert given_level("Mya", "Mia") is Level.UNSURE
    assert given_level("Nia", "Lia") is Level.UNSURE  # neither is a recognised name
    assert given_level("Jke", "Jake") is Level.UNSURE
    # as near to another recognised name: a typo of Leo or of Leon (twins, perhaps)?
    assert given_level("Leom", "Leo") is Level.UNSURE
    assert given_level("Leom", "Leon") is Level.UNSURE
    assert given_level("Harvry", "Harry") is given_level("Harvry", "Harvey") is Level.UNSURE


def test_a_typing_error_further_into_a_longer_name_is_still_a_typing_error() -> None:
    for typed, name in [
        ("Oliviaa", "Olivia"),
        ("Jsck", "Jack"),
        ("Isal", "Isla"),
        ("Olivre", "Oliver"),
        ("Fraya", "Freya"),
    ]:
        assert given_level(typed, name) is Level.FUZZY, typed
    # a first letter that sounds the same: one name spelt two ways
    assert given_level("Catie", "Katie") is Level.FUZZY


def test_a_unisex_short_form_is_a_variant_only_of_the_name_that_fits_the_sex() -> None:
    assert given_level("Charlotte", "Charlie") is Level.VARIANT
    assert given_level("Charlotte", "Charlie", ("f",)) is Level.VARIANT
    assert given_level("Charlotte", "Charlie", ("m",)) is Level.DISAGREE


def test_family_name_levels() -> None:
    assert family_level("O'Brien", "OBRIEN") is Level.EXACT
    assert family_level("Smith-Jones", "Smith") is Level.PART
    assert family_level("Jones", "Smith Jones") is Level.PART
    assert family_level("Thompsn", "Thompson") is Level.FUZZY
    assert family_level("Smyth", "Smith") is Level.FUZZY
    assert family_level("Patel", "Wood") is Level.DISAGREE


def test_postcode_levels() -> None:
    assert compare_postcode("PL18UU", "PL18UU") is Level.EXACT
    assert compare_postcode("PL18UU", "PL18AB") is Level.SECTOR
    assert compare_postcode("PL18UU", "PL12AB") is Level.DISTRICT
    assert compare_postcode("PL18UU", "TQ12AB") is Level.DISAGREE
    assert compare_postcode(None, "TQ12AB") is Level.MISSING


# -- weights ----------------------------------------------------------------------------


def test_agreement_weighs_for_a_match_and_disagreement_against() -> None:
    for field, levels in WEIGHTS.items():
        assert levels[Level.EXACT] > 0, field
        assert levels[Level.DISAGREE] < 0, field
        for level, weight in levels.items():
            assert weight <= levels[Level.EXACT], (field, level)
    assert WEIGHTS["date_of_birth"][Level.SWAPPED] > WEIGHTS["date_of_birth"][Level.ONE_DIGIT]


def test_agreeing_on_a_rare_name_weighs_more_than_on_a_common_one() -> None:
    rare = frequency_weight("family_name", 1, 100_000)
    common = frequency_weight("family_name", 1_500, 100_000)
    assert rare > WEIGHTS["family_name"][Level.EXACT] > common
    assert rare <= frequency_weight("family_name", 0, 10**9)  # floored, bounded
    # a small index behaves like the table
    assert frequency_weight("family_name", 1, 2) == pytest.approx(
        WEIGHTS["family_name"][Level.EXACT], abs=0.5
    )


# -- explanations -------------------------------------------------------------------------


def test_explain_names_the_rule_and_the_fields() -> None:
    decision = LinkDecision(
        Outcome.LINKED,
        Reason.IDENTIFIER,
        rule="identifier:nhs_number",
        child_id="c1",
        levels=(
            ("given_name", Level.EXACT),
            ("family_name", Level.EXACT),
            ("date_of_birth", Level.EXACT),
            ("postcode", Level.DISAGREE),
        ),
        candidates=("c1",),
    )
    assert decision.explain() == (
        "Linked on NHS number; given name, family name and date of birth agree; postcode differs."
    )
    assert decision.agreed == ("given_name", "family_name", "date_of_birth")
    assert decision.disagreed == ("postcode",)


def test_an_unsure_given_name_explains_without_values() -> None:
    decision = LinkDecision(
        Outcome.REVIEW,
        Reason.GIVEN_NAME_UNSURE,
        rule="probabilistic",
        score=35.9,
        levels=(
            ("given_name", Level.UNSURE),
            ("family_name", Level.EXACT),
            ("date_of_birth", Level.EXACT),
        ),
        candidates=("c1",),
    )
    text = decision.explain()
    assert text.startswith("Needs identity review")
    assert "one letter" in text
    assert "given name is one letter from the other" in text
    assert decision.agreed == ("family_name", "date_of_birth")
    assert decision.disagreed == ()


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_explains(reason: Reason) -> None:
    text = LinkDecision(Outcome.REVIEW, reason, rule="probabilistic", score=12.5).explain()
    assert text.endswith(".")
    assert "None" not in text
