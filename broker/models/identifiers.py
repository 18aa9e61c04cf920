"""Check digits of the identifiers that link a child's records across agencies.

An NHS number or a UPN with a wrong check digit is almost always a keying error, and a
keying error in an identifier is worse than no identifier: it would link one child's
record to another child, or split one child into two. So an invalid identifier is a
reason to reject the event (events.md), and these checks must be exact. They are pure
functions of the text, without I/O, so every module (models, identity matching,
tests) can share them.
"""

from __future__ import annotations

from typing import Final

# NHS number: 10 digits; the 10th is a modulus 11 check digit over the first nine with
# weights 10 down to 2 (NHS Data Dictionary, "NHS Number").
_NHS_WEIGHTS: Final = (10, 9, 8, 7, 6, 5, 4, 3, 2)

# UPN (DfE Common Basic Data Set, "Unique Pupil Number"): a check letter, then 12
# characters: 11 digits and either a digit (a permanent UPN) or a letter (a temporary
# one). The check letter is the modulus 23 sum of each character's value times its
# position (2 to 13), as a letter of this alphabet, which leaves out I, O and S.
UPN_ALPHABET: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit of nine digits, or None when no check digit exists (remainder 10).

    Numbers whose computed check digit would be 10 are never issued.
    """
    if len(first_nine) != 9 or not _ascii_digits(first_nine):
        raise ValueError("an NHS number check digit needs exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_problem(s: str) -> str | None:
    """Why `s` is not a valid NHS number, in words for the sender; None when it is valid."""
    if len(s) != 10 or not _ascii_digits(s):
        return "is not a valid NHS number: it must be exactly 10 digits"
    check = nhs_check_digit(s[:9])
    if check is None:
        return "is not a valid NHS number: no number with these first nine digits is issued"
    if check != int(s[9]):
        return "is not a valid NHS number: the check digit does not match"
    return None


def nhs_number_is_valid(s: str) -> bool:
    """True when `s` is 10 digits with a correct modulus 11 check digit."""
    return nhs_number_problem(s) is None


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters of a UPN after the check letter."""
    if len(body) != 12 or not _ascii_digits(body[:11]) or not _upn_last(body[11]):
        raise ValueError("a UPN check letter needs 11 digits and a digit or letter")
    total = 0
    for position, char in enumerate(body, start=2):
        value = int(char) if char.isdigit() else UPN_ALPHABET.index(char)
        total += value * position
    return UPN_ALPHABET[total % 23]


def upn_problem(s: str) -> str | None:
    """Why `s` is not a valid UPN, in words for the sender; None when it is valid."""
    if len(s) != 13:
        return "is not a valid UPN: it must be exactly 13 characters"
    if s[0] not in UPN_ALPHABET or not _ascii_digits(s[1:12]) or not _upn_last(s[12]):
        return (
            "is not a valid UPN: it must be a check letter, 11 digits, and a digit "
            "(or a letter for a temporary UPN)"
        )
    if upn_check_letter(s[1:]) != s[0]:
        return "is not a valid UPN: the check letter does not match"
    return None


def upn_is_valid(s: str) -> bool:
    """True when `s` is a 13-character UPN whose first character is its check letter."""
    return upn_problem(s) is None


def _ascii_digits(s: str) -> bool:
    # str.isdigit() accepts other scripts' digits and superscripts; identifiers are ASCII.
    return s.isascii() and s.isdigit()


def _upn_last(char: str) -> bool:
    return _ascii_digits(char) or char in UPN_ALPHABET
