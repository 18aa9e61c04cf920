"""The faust link tables' changelogs read as the loop's state records
(broker.pipeline.link_state.FaustTables: the move from MASH_LINK_STAGE=faust to loop).

They must give what faust's own restore of the tables gives (broker.kafka.newest_wins):
the last record of a key, but not a late write stamped with an older source offset; a
deletion deletes; the reserved keys (the event clock, the next offset) come along.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from broker.pipeline.link_state import FaustTables, LinkState
from broker.pipeline.offsets import NEXT_OFFSET_KEY


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


def _moved(records: list[tuple[str, Any, Any]]) -> LinkState:
    tables = FaustTables()
    for table, key, value in records:
        tables.load(table, _j(key), None if value is None else _j(value))
    state = LinkState()
    for key, value in tables.records():
        state.load(key, value)
    return state


def test_the_newest_of_each_key_is_kept_and_a_late_older_write_is_not() -> None:
    state = _moved(
        [
            ("identity", "child-1", {"v": 1, "nhs_number": [], "source_offset": 4}),
            ("identity", "child-1", {"v": 1, "nhs_number": ["943"], "source_offset": 9}),
            ("identity", "child-1", {"v": 1, "nhs_number": [], "source_offset": 7}),  # zombie
            ("identity", "child-2", {"v": 1, "source_offset": 3}),
            ("identity", "child-2", None),  # merged away
            ("seen-events", "ev-1", "abc@2026-01-01T00:00:00+00:00"),
            ("seen-events", NEXT_OFFSET_KEY, "10"),
            ("held-events", "ev-2", '{"event_id": "ev-2"}'),
            ("held-events", "ev-3", '{"event_id": "ev-3"}'),
            ("held-events", "ev-3", None),  # released
        ]
    )
    assert state.identities.data == {"child-1": {"v": 1, "nhs_number": ["943"], "source_offset": 9}}
    assert state.seen.data == {"ev-1": "abc@2026-01-01T00:00:00+00:00", NEXT_OFFSET_KEY: "10"}
    assert state.held.data == {"ev-2": '{"event_id": "ev-2"}'}


def test_a_write_after_a_deletion_is_kept_whatever_its_stamp() -> None:
    state = _moved(
        [
            ("identity", "child-1", {"v": 1, "source_offset": 9}),
            ("identity", "child-1", None),
            ("identity", "child-1", {"v": 2, "source_offset": 5}),
        ]
    )
    assert state.identities.data == {"child-1": {"v": 2, "source_offset": 5}}


def test_empty_tables_move_nothing_and_a_key_not_a_string_is_refused() -> None:
    assert FaustTables().records() == []
    with pytest.raises(ValueError, match="not a string"):
        FaustTables().load("identity", b"7", b"{}")
