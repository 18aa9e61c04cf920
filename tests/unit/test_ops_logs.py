"""Logs carry ids, topics and reason fields, never a payload: ours, faust's and aiokafka's.

Each test writes through a handler of its own (the JSON formatter and the payload
filter, as `configure_logging` installs them) on a logger of its own, so pytest's own
log capture is left alone.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from agents.guard import guarded
from broker.calendar.clock import ManualClock
from broker.models.events import parse_event
from broker.ops.logs import JsonFormatter, PayloadFilter, RepeatFilter, carries_payload
from broker.pipeline.sink import MemorySink
from broker.topics import REJECTED
from tests.unit.test_ingest import GOOD

PERSONAL = ("Zephyrine", "Quillfeather", "2012-03-04", "9434765919", "ZE2 9QX")
CLOCK = ManualClock(datetime(2026, 5, 19, 12, tzinfo=UTC))


class Event:
    """Named like faust's event: a carrier of a message value."""

    def __repr__(self) -> str:
        return "<Event: value=b'Zephyrine Quillfeather 2012-03-04'>"


class Capture:
    """A JSON handler with the payload filter, attached to the loggers a test names."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.handler = logging.StreamHandler(self.out)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(PayloadFilter())
        self._saved: list[tuple[logging.Logger, list[logging.Handler], bool, int]] = []

    def logger(self, name: str) -> logging.Logger:
        logger = logging.getLogger(name)
        self._saved.append((logger, logger.handlers[:], logger.propagate, logger.level))
        logger.handlers[:] = [self.handler]
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        return logger

    def restore(self) -> None:
        for logger, handlers, propagate, level in reversed(self._saved):
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)


@pytest.fixture
def capture() -> Iterator[Capture]:
    capture = Capture()
    yield capture
    capture.restore()


def lines(capture: Capture) -> list[dict[str, object]]:
    return [json.loads(line) for line in capture.out.getvalue().splitlines()]


def assert_no_personal_data(text: str) -> None:
    for personal in PERSONAL:
        assert personal not in text, personal


def test_a_library_line_keeps_its_format_string_never_its_arguments(
    capture: Capture,
) -> None:
    log = capture.logger("faust.test.stream")
    event = parse_event(GOOD | {"subject": GOOD["subject"] | {"given_name": "Zephyrine"}})
    log.error("Error processing %r: %r", event, b"Zephyrine Quillfeather")
    log.warning("Slow processing of %r", Event())
    log.info("Discovered coordinator %s for group %s", 1, "ZE2 9QX")  # a str arg, even
    [first, second, third] = lines(capture)
    assert first["msg"] == "Error processing %r: %r"
    assert first["payload_suppressed"] is True
    assert second["payload_suppressed"] is True
    assert third["msg"] == "Discovered coordinator %s for group %s"
    assert_no_personal_data(capture.out.getvalue())


def test_an_exception_is_its_class_and_where_never_its_text(
    capture: Capture,
) -> None:
    log = capture.logger("aiokafka.test")
    try:
        raise ValueError("Zephyrine Quillfeather, born 2012-03-04, NHS 9434765919")
    except ValueError:
        log.exception("failed")
    [line] = lines(capture)
    assert line["exception"] == "ValueError"
    trace = line["trace"]
    assert isinstance(trace, list)
    assert "test_an_exception_is_its_class_and_where_never_its_text" in trace[-1]
    assert_no_personal_data(capture.out.getvalue())


def test_only_allowlisted_fields_are_written(
    capture: Capture,
) -> None:
    log = capture.logger("broker.test")
    log.info(
        "event rejected",
        extra={"event_id": "e-1", "reasons": ["subject.nhs_number"], "given_name": "Zephyrine"},
    )
    [line] = lines(capture)
    assert line["event_id"] == "e-1"
    assert line["reasons"] == ["subject.nhs_number"]
    assert "given_name" not in line
    assert_no_personal_data(capture.out.getvalue())


def test_the_child_loop_s_take_says_how_many_partitions_it_kept_and_read(
    capture: Capture,
) -> None:
    log = capture.logger("broker.kafka.child_loop")
    log.info(
        "child loop took its partitions",
        extra={"count": 12, "partitions_kept": 3, "partitions_read": 2, "seconds": 0.4},
    )
    [line] = lines(capture)
    assert (line["count"], line["partitions_kept"], line["partitions_read"]) == (12, 3, 2)


def test_what_carries_a_payload() -> None:
    assert carries_payload(b"x")
    assert carries_payload(bytearray(b"x"))
    assert carries_payload(parse_event(GOOD))
    assert carries_payload(Event())
    assert carries_payload(("topic", {"value": b"x"}))
    assert not carries_payload(("police.vist.v1", 3, None))


def test_the_filter_leaves_other_records_alone() -> None:
    record = logging.LogRecord("faust", logging.INFO, "f", 1, "took %s s", (1.5,), None)
    assert PayloadFilter().filter(record)
    assert record.args == (1.5,)
    assert not hasattr(record, "payload_suppressed")


@pytest.mark.asyncio
async def test_a_fault_of_the_broker_logs_and_rejects_without_the_data(
    capture: Capture,
) -> None:
    capture.logger("agents.guard")
    sink = MemorySink()

    async def broken() -> str:
        raise KeyError("Zephyrine Quillfeather 9434765919")

    assert await guarded(broken, b"Zephyrine", "police.vist.v1", sink, CLOCK) == "failed"
    [line] = lines(capture)
    assert (line["exception"], line["error"]) == ("KeyError", "KeyError")
    assert_no_personal_data(capture.out.getvalue())
    [record] = sink.on(REJECTED.name)
    reasons = json.dumps(record.value.model_dump(mode="json")["reasons"])
    assert_no_personal_data(reasons)


def test_a_flood_of_identical_library_lines_is_condensed() -> None:
    now = [0.0]
    condense = RepeatFilter(burst=2, window=10.0, clock=lambda: now[0])

    def record(name: str, msg: str = "Unable connect to node with id %s: %s") -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, "f", 1, msg, (1, "refused"), None)

    kept = [condense.filter(record("aiokafka")) for _ in range(5)]
    assert kept == [True, True, False, False, False]
    assert condense.filter(record("aiokafka", "Other line %s"))  # another line: its own count
    now[0] = 10.0
    first = record("aiokafka")
    assert condense.filter(first)
    assert first.__dict__["repeated"] == 3  # dropped in the previous window
    assert all(condense.filter(record("broker.kafka.sink")) for _ in range(10))  # ours: never
