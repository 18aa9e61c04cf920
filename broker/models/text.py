"""What the contract's strings, lists and dates may hold: sizes, characters, strict types.

Everything an agency sends is untrusted until ingest accepts it, and everything accepted
travels on: into alerts, notifications, the MASH page, Kafka records with a size limit.
So each field has a ceiling (docs/contract.md, "Limits", gives the table and why), and
strings may not carry what would change how the next reader sees them:

- no control characters (a NUL, an escape sequence for a terminal, a backspace), and no
  line breaks in a one-line field;
- no bidirectional *embeddings, overrides or isolates* (U+202A-U+202E, U+2066-U+2069):
  they make text display in another order than it is stored ("Trojan Source"), so a name
  could read as another child's on the page. Right-to-left scripts need none of them;
- a child's name holds letters (any script), combining marks, digits (a newborn is
  "Twin 1" or "Baby 2" until named), spaces, hyphens, apostrophes and full stops:
  nothing a page or a log could read as markup or code.

Types are strict where the contract is typed: a boolean is `true` or `false` (never
`"yes"`, `1` or `"on"`), a date is `YYYY-MM-DD` text (or a date from Avro), never a
number of seconds. The Avro path was already that strict; the JSON path now is too.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StringConstraints

MAX_EVENT_BYTES: Final = 256 * 1024
"""An event as received (a JSON line or an Avro record). Kafka's default record limit is
1 MiB (`message.max.bytes`, `max.request.size`): the rejected record that keeps a refused
event whole must fit under it with its reasons."""

KEPT_ORIGINAL_BYTES: Final = 4096
"""How much of an input over MAX_EVENT_BYTES the rejected record keeps (with its size and
SHA-256): enough to see what it was, never enough to make the record unsendable."""

MAX_NAME: Final = 100
"""A child's given or family name, in characters."""
MAX_IDENTIFIER: Final = 128
"""An id (event_id, vist_id, socialcare_id, ...), in characters."""
MAX_SHORT_TEXT: Final = 200
"""A one-line field (system, team, setting, a worker's name, a school's name)."""
MAX_LONG_TEXT: Final = 16_000
"""A narrative, rationale or summary: about 2,500 words, several pages."""
MAX_LIST: Final = 32
"""Concerns and agencies (the contract has 16 concerns and 10 agencies)."""
MAX_ID_LIST: Final = 50
"""The ids an identity decision names."""
MAX_DATES: Final = 200
"""A social care record's previous referrals."""
MAX_REASONS: Final = 50
"""Problems listed in one refusal; more are counted in a last one."""

_CONTROLS: Final = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI: Final = "\u202a-\u202e\u2066-\u2069"
_LINE_BREAKS: Final = "\t\n\r\u2028\u2029"
_UNSAFE_IN_TEXT: Final = re.compile(f"[{_CONTROLS}{_BIDI}]")
_UNSAFE_IN_LINE: Final = re.compile(f"[{_CONTROLS}{_BIDI}{_LINE_BREAKS}]")
_NAME_PUNCTUATION: Final = frozenset(" -'.\u2019\u02bc\u2010\u2011")
_NAME_CATEGORIES: Final = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd"})
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

_DATE_MESSAGE: Final = "must be a date written YYYY-MM-DD"
_TIME_MESSAGE: Final = (
    "must be a date and time in ISO 8601 with its UTC offset, e.g. 2026-03-02T17:40:00+00:00"
)


def unsafe_character_problem(value: str, *, one_line: bool) -> str | None:
    """Why `value` may not be accepted as text, or None. Never quotes the value."""
    found = (_UNSAFE_IN_LINE if one_line else _UNSAFE_IN_TEXT).search(value)
    if found is None:
        return None
    char = found.group()
    if char in _BIDI:
        return (
            "must not contain bidirectional override, embedding or isolate characters "
            f"(U+{ord(char):04X} at position {found.start()})"
        )
    kind = "a line break" if char in _LINE_BREAKS else "a control character"
    return f"must not contain {kind} (U+{ord(char):04X} at position {found.start()})"


def name_problem(value: str) -> str | None:
    """Why `value` is not a name, or None: letters, marks, digits, spaces, - ' . only."""
    for position, char in enumerate(value):
        if char in _NAME_PUNCTUATION or unicodedata.category(char) in _NAME_CATEGORIES:
            continue
        return (
            "may contain only letters, digits, spaces, hyphens, apostrophes and full stops "
            f"(U+{ord(char):04X} at position {position} is not one)"
        )
    return None


def _one_line(value: str) -> str:
    if (problem := unsafe_character_problem(value, one_line=True)) is not None:
        raise ValueError(problem)
    return value


def _text(value: str) -> str:
    if (problem := unsafe_character_problem(value, one_line=False)) is not None:
        raise ValueError(problem)
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _name(value: str) -> str:
    if (problem := name_problem(value)) is not None:
        raise ValueError(problem)
    return value


def _strict_date(value: Any) -> Any:
    if isinstance(value, datetime) or not isinstance(value, str | date):
        raise ValueError(_DATE_MESSAGE)
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError(_DATE_MESSAGE)
    return value


def strict_instant(value: Any) -> Any:
    """An instant arrives as ISO text (JSON) or a datetime (Avro), never a number."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_INSTANT.match(value):
        raise ValueError(_TIME_MESSAGE)
    return value


def _line(limit: int) -> Any:
    return StringConstraints(max_length=limit)


Name = Annotated[str, _line(MAX_NAME), AfterValidator(not_blank), AfterValidator(_name)]
"""A child's given or family name."""

Identifier = Annotated[
    str, _line(MAX_IDENTIFIER), AfterValidator(_one_line), AfterValidator(not_blank)
]
"""An id that must say something (event_id, vist_id, ...)."""

MaybeBlankId = Annotated[str, _line(MAX_IDENTIFIER), AfterValidator(_one_line)]
"""An optional id, where a blank one is the rules' business rather than ingest's."""

Line = Annotated[str, _line(MAX_SHORT_TEXT), AfterValidator(_one_line)]
"""One line of text (a postcode, a contact, a template version); may be blank."""

Label = Annotated[Line, AfterValidator(not_blank)]
"""One line of text that must say something (system, team, a worker's name)."""

LongText = Annotated[str, _line(MAX_LONG_TEXT), AfterValidator(_text)]
"""A narrative, rationale or summary: line breaks and tabs allowed, no control characters."""

Statement = Annotated[LongText, AfterValidator(not_blank)]
"""Long text that must say something (an identity decision's rationale)."""

StrictDate = Annotated[date, BeforeValidator(_strict_date)]
"""A date: `YYYY-MM-DD` in JSON, a date in Avro; never a number or a date and time."""

Flag = StrictBool
"""true or false, never "yes", 1 or "on"."""


def bounded(limit: int) -> Any:
    """A list's ceiling (`Annotated[list[X], bounded(MAX_LIST)]`)."""
    return Field(max_length=limit)
