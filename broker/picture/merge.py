"""Merging two pictures when a person decides two records are one child.

An identity decision (`same_child`) tells the broker that two children it held apart
are one. Their histories must then be one chronology: counted together by the
cumulative rules, and shown together to the MASH. Nothing is re-raised by the merge
itself (each alert was right on what was known then); the next event is judged on the
joined picture.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from broker.picture.clone import clone
from broker.picture.model import FORGOTTEN_KEPT, ChildPicture


def merge_pictures(into: ChildPicture, other: ChildPicture) -> ChildPicture:
    """One picture holding both: `into` keeps its id; `other`'s history joins it.

    Where both hold a current fact (the social care record, an agency's involvement, a
    move) the one recorded later wins; lists are joined by id; processing order (`seq`)
    is renumbered by recorded_at so that "latest" keeps its meaning.
    """
    merged, b = clone(into), clone(other)  # the inputs stay as they were
    processed = {**b.processed, **merged.processed}

    def when(event_id: str) -> datetime | None:
        return processed.get(event_id)

    if merged.identity is None:
        merged.identity = b.identity
    elif b.identity is not None:
        merged.identity = merged.identity.model_copy(
            update={"identifiers": {**b.identity.identifiers, **merged.identity.identifiers}}
        )
    if b.socialcare is not None and (
        merged.socialcare is None
        or _later(when(b.socialcare.event_id), when(merged.socialcare.event_id))
    ):
        merged.socialcare = b.socialcare
    for agency, involvement in b.involvements.items():
        mine = merged.involvements.get(agency)
        if mine is None or _later(when(involvement.event_id), when(mine.event_id)):
            merged.involvements[agency] = involvement
    for key, move in b.transitions.items():
        mine_move = merged.transitions.get(key)
        if mine_move is None or _later(when(move.event_ids[-1]), when(mine_move.event_ids[-1])):
            merged.transitions[key] = move
    merged.events = sorted(
        {e.event_id: e for e in [*b.events, *merged.events]}.values(),
        key=lambda e: (e.recorded_at, e.event_id),
    )
    merged.decisions = list({d.event_id: d for d in [*b.decisions, *merged.decisions]}.values())
    merged.screenings = list({s.event_id: s for s in [*b.screenings, *merged.screenings]}.values())
    merged.meetings = list({m.event_id: m for m in [*b.meetings, *merged.meetings]}.values())
    merged.timers = list({t.key: t for t in [*b.timers, *merged.timers]}.values())
    merged.fired = {**b.fired, **merged.fired}
    merged.alerts = list({x.alert_id: x for x in [*b.alerts, *merged.alerts]}.values())
    lasts = [x for x in (merged.threshold_review_last, b.threshold_review_last) if x is not None]
    merged.threshold_review_last = max(lasts, default=None)
    merged.processed = processed
    forgotten = [e for e in [*b.forgotten, *merged.forgotten] if e not in processed]
    merged.forgotten = list(dict.fromkeys(forgotten))[-FORGOTTEN_KEPT:]
    _renumber(merged, merged.seq + b.seq)
    return merged


def _later(first: datetime | None, second: datetime | None) -> bool:
    if first is None:
        return False
    return second is None or first > second


def _renumber(picture: ChildPicture, applied: int) -> None:
    """Give involvements and moves a processing order by when they were recorded
    (what is no longer in `processed` counts as earliest)."""
    items: list[tuple[float, int, dict[str, Any], str]] = []
    for key, involvement in picture.involvements.items():
        stamp = _stamp(picture, involvement.event_id)
        items.append((stamp, involvement.seq, picture.involvements, key))
    for key, move in picture.transitions.items():
        items.append((_stamp(picture, move.event_ids[0]), move.seq, picture.transitions, key))
    for number, (_, _, parts, key) in enumerate(sorted(items, key=lambda i: (i[0], i[1])), 1):
        parts[key] = parts[key].model_copy(update={"seq": number})  # parts are frozen
    picture.seq = max(applied, len(items))


def _stamp(picture: ChildPicture, event_id: str) -> float:
    recorded = picture.processed.get(event_id)
    return recorded.timestamp() if recorded else float("-inf")
