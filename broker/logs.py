"""Structured JSON logs that cannot carry a child's personal data.

Only an allowlist of `extra` fields is ever written (ids, topics, field names, counts,
error class names), and messages are the broker's own constant strings. A value that
is not on the list is dropped, not redacted: nothing that came from an event's body can
reach a log line by accident.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final

SAFE_FIELDS: Final = frozenset(
    {
        "event_id",
        "event_type",
        "topic",
        "partition",
        "offset",
        "reasons",
        "outcome",
        "attempt",
        "error",
        "child_id",
        "rule_id",
        "alert_id",
        "count",
        "agency",
        "elapsed_ms",
    }
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
        }
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            # the class only: an exception's text from a library could quote a payload
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
