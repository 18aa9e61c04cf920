"""A child's picture applies an event once, however far the clock is past the event.

Found by `python -m bench.chaos --seed 2` (records lost and changed after kills): one
hostile record, a bit flipped in its `recorded_at`, was valid and dated 2030, and the
event clock went there, as replay's does. `prune` forgets an event from `processed` by
its `recorded_at`, so from then on every event was forgotten in the very step that
applied it; a linked message Kafka delivered again after a kill (its slot stored, its
offset not yet committed) was then applied a second time: its deadlines set and fired
again, its alerts raised again on another picture. The same happens on the wall clock
to any event applied more than `history_days` after it was recorded (a backlog sent
late). The picture now keeps the last ids `prune` forgot (`ChildPicture.forgotten`) and
counts them as applied.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broker.config.partnership import load_config
from broker.models.events import Event, parse_event
from broker.picture import ChildPicture
from broker.picture.model import FORGOTTEN_KEPT
from broker.rules import process
from tests.unit.test_ingest import GOOD

CONFIG = load_config()
RECORDED = datetime(2026, 3, 9, 7, 38, tzinfo=UTC)
FAR_LATER = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
"""Where the chaos run's clock went: four years past the events it then processed."""


def police(event_id: str, recorded: datetime = RECORDED, rag: str = "RED") -> Event:
    at = recorded.isoformat()
    return parse_event(
        {**GOOD, "event_id": event_id, "occurred_at": at, "recorded_at": at, "rag": rag}
    )


def step(picture: ChildPicture | None, event: Event, now: datetime) -> tuple[ChildPicture, list]:
    outcome = process(picture, event, child_id="child-1", link_note="", now=now, config=CONFIG)
    return outcome.picture, outcome.outputs


def test_an_event_applied_long_after_it_was_recorded_is_applied_once() -> None:
    event = police("pol-late")
    picture, _ = step(None, event, FAR_LATER)
    assert picture.timers  # a decision is due: already past, it fires at the next step
    again, second = step(picture, event, FAR_LATER + timedelta(seconds=5))  # delivered again
    assert second == []
    assert again.model_dump() == picture.model_dump()


def test_an_event_applied_on_time_is_remembered_as_before() -> None:
    event = police("pol-on-time")
    picture, _ = step(None, event, RECORDED)
    assert "pol-on-time" in picture.processed
    assert picture.forgotten == []  # nothing more kept while the event is in the history
    _, second = step(picture, event, RECORDED + timedelta(minutes=1))
    assert second == []


def test_an_event_forgotten_by_a_later_step_is_still_applied_once() -> None:
    """Applied on time, then the clock jumps before Kafka delivers it again: the next
    step for the child forgets it (prune), the redelivery must not apply it again."""
    first = police("pol-before")
    picture, _ = step(None, first, RECORDED)
    picture, _ = step(picture, police("pol-after", FAR_LATER), FAR_LATER)
    assert "pol-before" not in picture.processed
    again, outputs = step(picture, first, RECORDED)  # the message as it was sent
    assert outputs == []
    assert again.model_dump() == picture.model_dump()


def test_only_the_last_ids_forgotten_are_kept() -> None:
    picture: ChildPicture | None = None
    for n in range(FORGOTTEN_KEPT + 1):
        picture, _ = step(picture, police(f"pol-{n}"), FAR_LATER)
    assert picture is not None
    assert picture.forgotten == [f"pol-{n}" for n in range(1, FORGOTTEN_KEPT + 1)]
    _, outputs = step(picture, police("pol-0"), FAR_LATER)
    assert outputs  # long gone: sent again, it is applied again (its deadline fires)
