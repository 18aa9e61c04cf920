"""`clone` is `model_copy(deep=True)`, only faster: the same picture, nothing shared.

Checked on the pictures of a replayed synthetic council (bench/council.py), which hold
every part a picture can have: identities, social care records, involvements, moves,
chronologies with JSON bodies, decisions, screenings, meetings, timers and alerts.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest
from pydantic import BaseModel

from bench.council import Council
from broker.calendar.clock import ManualClock
from broker.picture import ChildPicture
from broker.picture.clone import clone
from broker.pipeline.engine import Engine, replay_engine


@pytest.fixture(scope="module")
def pictures() -> list[ChildPicture]:
    engine = Engine(ManualClock())
    for _ in replay_engine(engine, islice(Council(seed=3, events=1500).lines(), 1500)):
        pass
    return list(engine.state.pictures.values())


def _mutables(value: Any) -> list[Any]:
    """Every list, dict and model reachable from `value`."""
    found: list[Any] = []
    if isinstance(value, BaseModel):
        found.append(value)
        for item in value.__dict__.values():
            found += _mutables(item)
    elif isinstance(value, list):
        found.append(value)
        for item in value:
            found += _mutables(item)
    elif isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found += _mutables(item)
    return found


def test_the_clone_equals_a_deep_copy(pictures: list[ChildPicture]) -> None:
    assert any(p.events and p.timers for p in pictures)
    assert any(p.transitions and p.decisions for p in pictures)
    for picture in pictures:
        copied = clone(picture)
        assert copied == picture.model_copy(deep=True)
        assert copied.model_dump_json() == picture.model_dump_json()
        assert copied.model_fields_set == picture.model_fields_set


def test_the_clone_shares_nothing_mutable(pictures: list[ChildPicture]) -> None:
    for picture in pictures:
        originals = {id(v) for v in _mutables(picture)}
        assert not originals & {id(v) for v in _mutables(clone(picture))}


def test_changing_the_clone_leaves_the_picture_as_it_was(pictures: list[ChildPicture]) -> None:
    picture = max(pictures, key=lambda p: len(p.events))
    before = picture.model_dump_json()
    copied = clone(picture)
    copied.events[0].told.append(copied.events[0].source_agency)
    copied.events[0].body["extra"] = {"nested": [1]}
    copied.timers.clear()
    copied.fired["k"] = copied.events[0].recorded_at
    copied.seq += 1
    assert picture.model_dump_json() == before
