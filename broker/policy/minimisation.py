"""Minimisation as data: which fields of which event each recipient agency is told.

The government's information sharing advice (2024) asks for what is necessary and
proportionate, and no more. What that is for a school, a GP or the youth offending team
is a partnership's judgement, not the broker's code, so it lives in
`broker/data/minimisation.json` and a partnership can change it without a release. This
module applies the table (broker.config.minimisation validates it at start).

One thing is not left to the table: an Operation Encompass notification never carries
the police narrative (`never_for_encompass`), because rules.md says so and a school
told of domestic abuse at home must not receive the detail of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from broker.config.minimisation import ALL_FIELDS, NEVER_FOR_ENCOMPASS, NOT_SENT, MinimisationTable
from broker.models import Agency


def minimise(
    body: Mapping[str, Any],
    event_type: str,
    agency: Agency,
    table: MinimisationTable,
    *,
    encompass: bool = False,
) -> dict[str, JsonValue]:
    """The fields of an event (its JSON form, subject removed) that `agency` receives.

    Absent optional fields are left out rather than sent as null: a recipient learns
    nothing from them. `encompass` drops the narrative whatever the table says.
    """
    names = table.row(agency).fields_for(event_type)
    if ALL_FIELDS in names:
        chosen = [n for n in body if n not in NOT_SENT]
    else:
        chosen = [n for n in names if n in body]
    if encompass:
        chosen = [n for n in chosen if n not in NEVER_FOR_ENCOMPASS]
    return {n: body[n] for n in chosen if body.get(n) is not None}


def recipient_identifiers(
    identifiers: Mapping[str, str], agency: Agency, table: MinimisationTable
) -> dict[str, str]:
    """The child's identifiers that are the recipient's own (a school gets the UPN)."""
    own = table.row(agency).identifiers
    return {name: identifiers[name] for name in own if identifiers.get(name)}
