"""Parts built without validation (`model_construct`, for speed: issue 12) are exactly
what validation would have built.

The link stage's `ChildMessage`, an alert's child and context, and a picture's identity,
decisions and chronology entries are built from values validated when their event
arrived. `model_construct` trusts its caller: a required field left out, or a value a
validator would have changed (an instant not yet in England's time), would pass
silently. So, on a replayed synthetic council (every kind of event, alert and part),
validating each part's own data again gives an equal part (a field left out has no
value to dump, and fails too).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import pytest
from pydantic import BaseModel

from bench.council import Council
from broker.calendar.clock import ManualClock
from broker.models import ChildContext, ChildRef, ConcernCount
from broker.models.internal import ChildMessage
from broker.picture.model import DecisionMade, EventSummary, Identity
from broker.pipeline.engine import Engine, replay_engine

CONSTRUCTED = (ChildContext, ChildRef, ConcernCount, DecisionMade, EventSummary, Identity)
"""The parts the stages build with `model_construct` (besides `ChildMessage`)."""


@pytest.fixture(scope="module")
def built() -> list[BaseModel]:
    """Every model the stages published or kept, replaying 1,500 of a council's events."""
    engine = Engine(ManualClock())
    values = [
        record.value
        for record in replay_engine(engine, islice(Council(seed=5, events=1500).lines(), 1500))
        if isinstance(record.value, BaseModel)
    ]
    return values + list(engine.state.pictures.values())


def _models(value: Any) -> Iterator[BaseModel]:
    """`value` and every model inside it."""
    if isinstance(value, BaseModel):
        yield value
        value = list(value.__dict__.values())
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            yield from _models(item)


def test_the_replay_builds_every_constructed_part(built: list[BaseModel]) -> None:
    kinds = {type(m) for value in built for m in _models(value)}
    assert set(CONSTRUCTED) | {ChildMessage} <= kinds


def test_a_part_validated_again_is_the_same(built: list[BaseModel]) -> None:
    for value in built:
        for model in _models(value):
            again = type(model).model_validate(model.model_dump())
            assert again == model, type(model)
            assert again.model_dump_json() == model.model_dump_json()
