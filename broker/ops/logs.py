"""Structured JSON logs that cannot carry a child's personal data.

Only an allowlist of `extra` fields is ever written (ids, topics, field names, counts,
error class names), and messages are the broker's own constant strings. A value that
is not on the list is dropped, not redacted: nothing that came from an event's body can
reach a log line by accident.

The same formatter writes faust's, aiokafka's and aiohttp's lines (they propagate to the
root logger, which has only our handler). Their `%`-arguments are never interpolated:
faust can pass a message, an event or a key as an argument (`"... %r", event`), so a
third-party line keeps its constant format string only. An exception is written as its
class and the code locations of its traceback, never its text: a library's exception
message can quote a payload. `PayloadFilter` goes further for any other handler someone
attaches: a record whose arguments hold bytes, a model or a faust event/message loses
its arguments before any formatter sees it.

Since third-party lines are their format strings only, a flood of them (aiokafka logs
several a second while Kafka is away) is a flood of identical lines: `RepeatFilter`
keeps the first few of each per window and says how many it dropped. The broker's own
lines are never dropped (each names an event).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel

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
        "stage",
        "payload_suppressed",
        "repeated",
        "state_dir",
        "seconds",
        "partitions_kept",
        "partitions_read",
        "tasks",
        "threads",
    }
)

#: Type names of faust's carriers of a payload (checked by name: no faust import here).
_PAYLOAD_TYPES: Final = frozenset(
    {"Event", "Message", "ConsumerMessage", "PendingMessage", "Record", "FutureMessage"}
)
_MAX_FRAMES: Final = 12


def carries_payload(value: Any, depth: int = 0) -> bool:
    """Whether a log argument is (or contains) bytes, a model or a faust event/message."""
    if isinstance(value, bytes | bytearray | memoryview | BaseModel):
        return True
    if any(cls.__name__ in _PAYLOAD_TYPES for cls in type(value).__mro__):
        return True
    if depth < 3 and isinstance(value, tuple | list | set | frozenset):
        return any(carries_payload(v, depth + 1) for v in value)
    if depth < 3 and isinstance(value, dict):
        return any(carries_payload(v, depth + 1) for v in value.values())
    return False


class PayloadFilter(logging.Filter):
    """Condense records whose arguments carry a payload: the arguments are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        values: Iterable[Any] = args.values() if isinstance(args, dict) else (args or ())
        if any(carries_payload(v) for v in values):
            record.args = ()
            record.payload_suppressed = True
        return True


class RepeatFilter(logging.Filter):
    """At most `burst` identical third-party lines per `window` seconds.

    The first line of the next window carries `repeated`: how many like it were dropped.
    """

    def __init__(
        self,
        burst: int = 5,
        window: float = 10.0,
        own: tuple[str, ...] = ("broker", "agents"),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._burst = burst
        self._window = window
        self._own = own
        self._clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in self._own:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        start, count, dropped = self._seen.get(key, (now, 0, 0))
        if now - start >= self._window:
            if dropped:
                record.repeated = dropped
            start, count, dropped = now, 0, 0
        count += 1
        keep = count <= self._burst
        if len(self._seen) > 10_000:  # a bound, should a library vary its format strings
            self._seen.clear()
        self._seen[key] = (start, count, dropped + (not keep))
        return keep


def _frames(tb: Any) -> list[str]:
    """`module:line function` of each frame: where it failed, not what it held."""
    frames = traceback.extract_tb(tb)[-_MAX_FRAMES:]
    return [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames]


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
            # the class and where, never the text: a library's text could quote a payload
            entry["exception"] = record.exc_info[0].__name__
            entry["trace"] = _frames(record.exc_info[2])
        return json.dumps(entry, default=_safe_default)


def _safe_default(value: Any) -> str:
    """Allowlisted fields hold ids, names and counts; anything else shows as its type."""
    return value if isinstance(value, str) else type(value).__name__


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PayloadFilter())
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
