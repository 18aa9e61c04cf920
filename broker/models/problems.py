"""Pydantic's validation errors, said as problems a sender's engineer can act on.

A rejection goes back to the agency that published the event (feedback) and onto the
rejected topic. The engineer who reads it is fixing an integration, probably not in
Python: "Input should be a valid datetime" is less use to them than "must be a date and
time in ISO 8601 with its UTC offset". Each problem names the field as a dotted path
(`subject.nhs_number`, `concerns[1]`) and never quotes the value, which may be a child's
personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from broker.errors import InvalidInput, Problem

M = TypeVar("M", bound=BaseModel)

DOMAIN_ERROR = "mash_domain"
"""The error type of our own cross-field checks (see `domain_error`)."""

_TIME = "must be a date and time in ISO 8601 with its UTC offset, e.g. 2026-03-02T17:40:00+00:00"
_DATE = "must be a date written YYYY-MM-DD"

_MESSAGES: Mapping[str, str] = {
    "missing": "is required",
    "string_type": "must be text (a JSON string)",
    "string_too_short": "must not be empty",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (a JSON array)",
    "dict_type": "must be an object (a JSON object with named fields)",
    "model_type": "must be an object (a JSON object with named fields)",
    "model_attributes_type": "must be an object (a JSON object with named fields)",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "must be a date without a time of day, written YYYY-MM-DD",
    "datetime_type": _TIME,
    "datetime_parsing": _TIME,
    "datetime_from_date_parsing": _TIME,
    "datetime_object_invalid": _TIME,
    "timezone_aware": "must include its UTC offset, e.g. 2026-03-02T17:40:00+01:00 (BST)",
    "bytes_type": "must be bytes (base64 text in JSON)",
    "json_type": "must be a JSON value",
    "json_invalid": "must be a JSON value",
}


def field_path(loc: Iterable[int | str]) -> str:
    """('subject', 'nhs_number') -> 'subject.nhs_number'; ('concerns', 1) -> 'concerns[1]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "payload"


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix if path == "payload" else f"{prefix}.{path}"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in _MESSAGES:
        message = _MESSAGES[kind]
    elif kind in ("enum", "literal_error"):
        message = f"must be one of {ctx.get('expected', 'the values of the contract')}"
    elif kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length", 0)
        least = "at least" if kind == "too_short" else "at most"
        message = f"must have {least} {n} item{'s' if n != 1 else ''}"
    elif kind == "string_too_long":
        message = f"must be at most {ctx.get('max_length', 0)} characters long"
    elif kind == "value_error":
        # our validators' own words (broker.models.identifiers and the models): safe and plain
        message = str(ctx.get("error", "is not valid"))
    elif kind.startswith(("int_", "float_")):
        message = "must be a number"
    else:
        # pydantic's message names the expectation, not the value (the input is separate)
        message = str(error["msg"])
    return message


def problems_from(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Every problem of a validation error, in order, without duplicates."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False, include_input=False):
        if error["type"] == DOMAIN_ERROR:
            pairs = (error.get("ctx") or {}).get("problems", ())
            found = [Problem(_join(prefix, f), m) for f, m in pairs]
        else:
            found = [Problem(_join(prefix, field_path(error["loc"])), _message(error))]
        problems.extend(p for p in found if p not in problems)
    return problems


def domain_error(problems: Iterable[Problem]) -> PydanticCustomError:
    """One error carrying several cross-field problems, each with its own field.

    A model validator can raise only one error and pydantic gives it the model's own
    location; this carries the real fields so that `problems_from` can report each.
    """
    found = tuple((p.field, p.message) for p in problems)
    fields = ", ".join(f for f, _ in found)
    return PydanticCustomError(
        DOMAIN_ERROR, "invalid {fields}", {"fields": fields, "problems": found}
    )


def raise_domain(problems: list[Problem]) -> None:
    """Raise `domain_error` from a model validator when any problem was found."""
    if problems:
        raise domain_error(problems)


def validate_model(cls: type[M], data: Any, prefix: str = "") -> M:
    """`cls.model_validate(data)`, with every problem raised as `InvalidInput`.

    The pydantic error is not chained: its text would quote the input.
    """
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc, prefix)) from None
