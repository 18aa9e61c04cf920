"""`built` makes the very instance `model_construct` makes (issue 12: replay's speed).

The same `__dict__` in the same order (pydantic writes a model's JSON in that order, so
replay's output depends on it), the same fields set, defaults and factories for the
fields not given, and `model_construct`'s own way for what `built` does not plan for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from broker.models import Agency, Concern, ConcernCount
from broker.models.built import built
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.picture.model import EventSummary

AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _same(made: BaseModel, expected: BaseModel) -> None:
    assert type(made) is type(expected)
    assert list(made.__dict__.items()) == list(expected.__dict__.items())
    assert made.model_fields_set == expected.model_fields_set
    assert made.__pydantic_extra__ == expected.__pydantic_extra__
    assert made.__pydantic_private__ == expected.__pydantic_private__
    assert made.model_dump_json() == expected.model_dump_json()


def test_fields_given_out_of_order_come_out_in_declared_order() -> None:
    values: dict[str, Any] = {"last_365_days": 3, "concern": Concern.neglect, "last_90_days": 1}
    made = built(ConcernCount, **values)
    _same(made, ConcernCount.model_construct(**values))
    assert list(made.__dict__) == ["concern", "last_90_days", "last_365_days"]


def test_defaults_and_factories_fill_the_fields_not_given() -> None:
    values: dict[str, Any] = {"kind": ChildMessageKind.tick, "child_id": "c-1", "at": AT}
    _same(built(ChildMessage, **values), ChildMessage.model_construct(**values))
    summary: dict[str, Any] = {
        "event_id": "e-1",
        "event_type": "police.vist",
        "source_agency": Agency.police,
        "occurred_at": AT,
        "recorded_at": AT,
    }
    one, two = built(EventSummary, **summary), built(EventSummary, **summary)
    _same(one, EventSummary.model_construct(**summary))
    assert one.told is not two.told  # a factory's list for each instance, never shared


class _Aliased(BaseModel):
    name: str = Field(alias="Name")
    tags: list[str] = ["x"]  # a mutable default: pydantic copies it for each instance


def test_what_it_does_not_plan_for_is_model_constructs() -> None:
    _same(built(_Aliased, Name="a"), _Aliased.model_construct(Name="a"))
    values: dict[str, Any] = {"concern": Concern.neglect, "last_90_days": 1, "last_365_days": 1}
    _same(
        built(ConcernCount, **values, unknown=1),
        ConcernCount.model_construct(**values, unknown=1),
    )
