"""`clone` is `model_copy(deep=True)`, only faster: the same picture, nothing shared;
`working_copy` shares the (frozen) parts, and no step changes the picture it was given.

Checked on the pictures of a replayed synthetic council (bench/council.py), which hold
every part a picture can have: identities, social care records, involvements, moves,
chronologies with JSON bodies, decisions, screenings, meetings, timers and alerts.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bench.council import Council
from broker.calendar.clock import ManualClock
from broker.models.internal import ChildMessage
from broker.picture import ChildPicture
from broker.picture.clone import clone, working_copy
from broker.pipeline.engine import Engine, replay_engine
from broker.pipeline.records import OutRecord


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


def test_a_working_copy_has_its_own_containers(pictures: list[ChildPicture]) -> None:
    for picture in pictures:
        copied = working_copy(picture)
        assert copied == picture
        assert copied.model_dump_json() == picture.model_dump_json()
        for name, value in picture.__dict__.items():
            if isinstance(value, list | dict):
                assert copied.__dict__[name] is not value


def test_parts_are_frozen(pictures: list[ChildPicture]) -> None:
    picture = max(pictures, key=lambda p: len(p.events))
    with pytest.raises(ValidationError):
        picture.events[0].rag = None  # type: ignore[misc]


class _Watching(Engine):
    """An engine that checks, at every step, that the picture it had is as it was."""

    def deliver(self, message: ChildMessage) -> list[OutRecord]:
        slot = self.state.slots.get(message.child_id)
        before = slot.picture if slot is not None else None
        dumped = before.model_dump_json() if before is not None else None
        records = super().deliver(message)
        if before is not None:
            assert before.model_dump_json() == dumped, message.kind
        return records


def test_every_step_leaves_the_picture_it_was_given_as_it_was() -> None:
    """process and fire_due work on working copies, which share parts: no step may
    change a part it shares (a decision's share marks the event told on its own copy)."""
    engine = _Watching(ManualClock())
    records = list(replay_engine(engine, islice(Council(seed=5, events=3000).lines(), 3000)))
    assert any(r.topic.startswith("agency.") for r in records)  # shares were made
