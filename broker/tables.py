"""Every faust table, declared once.

Each table is changelog-backed: a restarted worker recovers it from Kafka rather than
rebuilding it from nothing. Keys and values are plain JSON, so the state can be read by
an operator's tools and migrated without unpickling anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust


@dataclass(frozen=True)
class Tables:
    # event_id -> fingerprint of the event's content; partitioned like broker.accepted.v1.
    seen_events: Any


def declare_tables(app: faust.App) -> Tables:
    return Tables(
        seen_events=app.Table(
            "seen-events",
            default=None,
            key_type=str,
            value_type=str,
            help="event ids already processed (idempotency)",
        ),
    )
