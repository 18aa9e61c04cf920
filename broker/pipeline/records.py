"""What a stage asks to be published, before any wire format is chosen."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to publish: the topic, its key and a model for the value.

    Stages return these; the sink (Kafka in the worker, stdout in replay, a list in
    tests) decides how they are encoded.
    """

    topic: str
    key: str | None
    value: BaseModel

    def to_json(self) -> dict[str, Any]:
        """The replay/`tail` form: `{"topic", "key", "value"}` with the value's JSON form."""
        return {
            "topic": self.topic,
            "key": self.key,
            "value": self.value.model_dump(mode="json"),
        }


def stable_id(prefix: str, *parts: str | bytes) -> str:
    """A deterministic id: the same inputs always give the same id.

    Alert, notification, feedback and rejection ids are derived from their evidence so
    that a record re-published after a crash (at-least-once) carries the same id, and a
    consumer can drop the duplicate.
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\x1f")
    return f"{prefix}-{digest.hexdigest()[:20]}"
