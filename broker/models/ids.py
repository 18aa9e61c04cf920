"""Ids derived from evidence, so that what is decided twice is recognised as one."""

from __future__ import annotations

import hashlib


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
