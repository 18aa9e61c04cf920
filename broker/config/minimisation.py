"""The minimisation table, as the partnership configures it: which fields of which
event each recipient agency may be told (`broker/data/minimisation.json`).

Validated at start: a field that no event has is a typo that would silently withhold
something, so it stops the broker from starting. The table is configuration; applying
it to an event is the sharing policy's work (broker.policy.minimisation).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from broker.models import EVENT_CLASSES, Agency

ALL_FIELDS: Final = "*"
"""In the table: every field of the event (the full event)."""

IDENTIFIERS: Final = ("nhs_number", "upn", "socialcare_id", "police_person_id")
"""The child's identifiers a recipient may be given (its own only)."""

ENVELOPE_FIELDS: Final = (
    "event_id",
    "event_type",
    "source",
    "occurred_at",
    "recorded_at",
    "consent",
)
"""Fields every event has: the only ones a recipient's `default` may name."""

NEVER_FOR_ENCOMPASS: Final = frozenset({"narrative"})

NOT_SENT: Final = frozenset({"subject"})
"""The subject is never copied: the notification's `child` carries the minimised child."""


def event_fields(event_type: str) -> frozenset[str]:
    """The fields an event of this type may carry, the subject excepted."""
    cls = EVENT_CLASSES[event_type]
    return frozenset(cls.model_fields) - NOT_SENT


class RecipientFields(BaseModel):
    """One recipient's row: its own identifiers, its fields per event type, a default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifiers: tuple[str, ...] = ()
    default: tuple[str, ...] = ("occurred_at", "source")
    events: dict[str, tuple[str, ...]] = {}

    @field_validator("identifiers")
    @classmethod
    def _known_identifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in IDENTIFIERS]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not an identifier (one of {IDENTIFIERS})")
        return value

    @field_validator("default")
    @classmethod
    def _envelope_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [n for n in value if n != ALL_FIELDS and n not in ENVELOPE_FIELDS]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: a default may name only fields every event has "
                f"({', '.join(ENVELOPE_FIELDS)}) or {ALL_FIELDS!r}"
            )
        return value

    @field_validator("events")
    @classmethod
    def _known_fields(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        problems: list[str] = []
        for event_type, names in value.items():
            if event_type not in EVENT_CLASSES:
                problems.append(f"{event_type}: not an event type of the contract")
                continue
            known = event_fields(event_type)
            unknown = [n for n in names if n != ALL_FIELDS and n not in known]
            if unknown:
                problems.append(f"{event_type}: {', '.join(unknown)} not a field of that event")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    def fields_for(self, event_type: str) -> tuple[str, ...]:
        return self.events.get(event_type, self.default)


class MinimisationTable(BaseModel):
    """The whole table: a row for every agency that can be told anything (all but the
    MASH, which is the hub and receives alerts rather than notifications)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    note: str | None = None
    recipients: dict[Agency, RecipientFields]

    @model_validator(mode="after")
    def _every_recipient(self) -> MinimisationTable:
        missing = [a.value for a in Agency if a != Agency.mash and a not in self.recipients]
        if missing:
            raise ValueError(f"recipients: no row for {', '.join(missing)}")
        if self.version != 1:
            raise ValueError("version: must be 1")
        return self

    def row(self, agency: Agency) -> RecipientFields:
        row = self.recipients.get(agency)
        return row if row is not None else _NO_ROW


_NO_ROW: Final = RecipientFields(default=("occurred_at",))
"""The row of an agency the table does not name: when it happened, nothing more."""
