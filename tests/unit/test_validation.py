"""NHS number and UPN check digits: known numbers, and the algorithms' properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.models.identifiers import (
    UPN_ALPHABET,
    nhs_check_digit,
    nhs_number_is_valid,
    nhs_number_problem,
    upn_check_letter,
    upn_is_valid,
    upn_problem,
)
from tests.unit.strategies import nhs_numbers, upns


@pytest.mark.parametrize(
    "number",
    [
        "9434765919",  # the NHS's own example
        "4010232137",
        "9999999999",  # 9 * (10+...+2) = 486; 486 % 11 = 2; 11 - 2 = 9
        "0000000000",  # remainder 0 gives check digit 0
    ],
)
def test_known_valid_nhs_numbers(number: str) -> None:
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("9434765910", "check digit"),  # bad_input.json: the check digit should be 9
        ("9434765918", "check digit"),
        ("943476591", "10 digits"),
        ("94347659190", "10 digits"),
        ("943 476 5919", "10 digits"),  # spaces are the model's to drop, not the check's
        ("94347659l9", "10 digits"),
        ("", "10 digits"),
        ("９４３４７６５９１９", "10 digits"),  # full-width digits are not ASCII digits
        ("1000000010", "no number"),  # 1*10 = 10; 11 - 10 = 10: never issued
    ],
)
def test_known_invalid_nhs_numbers(number: str, why: str) -> None:
    assert not nhs_number_is_valid(number)
    problem = nhs_number_problem(number)
    assert problem is not None
    assert why in problem
    assert number.strip() == "" or number not in problem  # names the rule, not the value


def test_the_bad_input_example_fails_on_its_check_digit() -> None:
    # 9,4,3,4,7,6,5,9,1 weighted 10..2 sum to 299; 299 % 11 = 2; 11 - 2 = 9, not 0
    assert nhs_check_digit("943476591") == 9
    assert nhs_number_problem("9434765910") == (
        "is not a valid NHS number: the check digit does not match"
    )


@given(st.text("0123456789", min_size=9, max_size=9))
def test_nine_digits_and_their_check_digit_are_valid(first_nine: str) -> None:
    check = nhs_check_digit(first_nine)
    if check is None:
        assert not any(nhs_number_is_valid(first_nine + d) for d in "0123456789")
    else:
        assert nhs_number_is_valid(first_nine + str(check))


@given(nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_changing_one_digit_makes_an_nhs_number_invalid(
    number: str, position: int, delta: int
) -> None:
    changed = str((int(number[position]) + delta) % 10)
    mutated = number[:position] + changed + number[position + 1 :]
    assert not nhs_number_is_valid(mutated)


@pytest.mark.parametrize(
    "upn",
    [
        "B801200005001",  # worked example of the DfE algorithm (python-stdnum's too)
        "P207000016049",  # 2*2 + 7*4 + 1*9 + 6*10 + 4*12 + 9*13 = 266; 266 % 23 = 13: P
        "A000000000000",
    ],
)
def test_known_valid_upns(upn: str) -> None:
    assert upn_is_valid(upn)


def test_a_temporary_upn_ends_in_a_letter_that_counts_by_its_alphabet_value() -> None:
    body = "80120000500A"  # A = 0: the same sum as ...5000 followed by 0
    assert upn_check_letter(body) == upn_check_letter("801200005000")
    assert upn_is_valid(upn_check_letter(body) + body)
    assert upn_check_letter("80120000500B") != upn_check_letter(body)


@pytest.mark.parametrize(
    ("upn", "why"),
    [
        ("A801200005001", "check letter does not match"),
        ("Q207000016049", "check letter does not match"),
        ("B80120000500", "13 characters"),
        ("B8012000050011", "13 characters"),
        ("I801200005001", "check letter, 11 digits"),  # I, O and S are never used
        ("B80120000A001", "check letter, 11 digits"),  # letters only last
        ("B80120000500I", "check letter, 11 digits"),
        ("b801200005001", "check letter, 11 digits"),  # upper case is the model's job
        ("1801200005001", "check letter, 11 digits"),
    ],
)
def test_known_invalid_upns(upn: str, why: str) -> None:
    assert not upn_is_valid(upn)
    problem = upn_problem(upn)
    assert problem is not None
    assert why in problem
    assert upn not in problem


def test_the_upn_alphabet_leaves_out_i_o_and_s() -> None:
    assert len(UPN_ALPHABET) == 23
    assert not set("IOS") & set(UPN_ALPHABET)


@given(upns())
def test_a_body_and_its_check_letter_are_a_valid_upn(upn: str) -> None:
    assert upn_is_valid(upn)


@given(upns(), st.integers(1, 11), st.integers(1, 9))
def test_changing_one_digit_makes_a_upn_invalid(upn: str, position: int, delta: int) -> None:
    changed = str((int(upn[position]) + delta) % 10)
    assert not upn_is_valid(upn[:position] + changed + upn[position + 1 :])


@given(upns(), st.sampled_from(UPN_ALPHABET))
def test_any_other_check_letter_makes_a_upn_invalid(upn: str, letter: str) -> None:
    if letter != upn[0]:
        assert not upn_is_valid(letter + upn[1:])


def test_check_digit_helpers_refuse_malformed_input() -> None:
    with pytest.raises(ValueError, match="nine digits"):
        nhs_check_digit("12345678")
    with pytest.raises(ValueError, match="11 digits"):
        upn_check_letter("8012000050")
