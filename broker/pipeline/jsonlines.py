"""Reading events in JSON form, safely: one reader for replay, publish and ingest.

A file of events comes from outside (an agency's export, a test file, a hostile sender),
so reading it must never raise and never stop at a bad line. Two things `json.loads`
and `for line in handle` do not guard against:

- **nesting**: `[[[[...]]]]` 100,000 deep raises `RecursionError` from `json.loads`, which
  is not a `ValueError`: uncaught, it ended replay at that line, and every later event
  in the file was never processed. Here it is a problem of the line, like any bad JSON.
- **length**: a line without a newline is read whole, however long. Lines are read to at
  most MAX_LINE_BYTES; anything beyond is skipped to the next newline, so the line is
  refused (it is far over MAX_EVENT_BYTES) and the next one is read as its own event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any, Final

from broker.errors import InvalidInput, Problem

MAX_LINE_BYTES: Final = 16 * 1024 * 1024
"""The most of one line that is read; the rest of an over-long line is skipped."""

_CHUNK: Final = 1024 * 1024


def read_json(raw: bytes | str) -> Any:
    """The JSON value in `raw`, or `InvalidInput` with one problem on field `payload`."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line position {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidInput([Problem("payload", f"is not valid JSON{where}")]) from None
    except RecursionError:
        message = "is nested too deeply to be an event (arrays or objects inside each other)"
        raise InvalidInput([Problem("payload", message)]) from None


def json_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its line break) for each non-blank line, each at most
    MAX_LINE_BYTES long: the rest of a longer line is read past and dropped."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_BYTES)
        if not line:
            return
        number += 1
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            _skip_to_next_line(handle)
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield number, line


def _skip_to_next_line(handle: IO[bytes]) -> None:
    while True:
        rest = handle.readline(_CHUNK)
        if not rest or rest.endswith(b"\n"):
            return
