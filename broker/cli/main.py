"""`mash-broker`: the command line.

Thin: it parses arguments, builds the one `Settings`, and hands over to the command's
module (one per command, each with `add_parser` and `run`), which hands over to the
module that does the work. Exit codes: 0 success, 1 a run that found problems (bad
lines; `status`: a worker that is not ready), 2 usage, 3 infrastructure unavailable
(Kafka or the worker away).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Final

from broker.cli import (
    chronology,
    contract,
    demo,
    kafka,
    publish,
    replay,
    report,
    status,
    subject_access,
    tail,
    web,
    what_if,
    worker,
)
from broker.errors import BrokerError, ConfigurationError
from broker.ops.collector import tune_collector
from broker.settings import Settings

COMMANDS: dict[str, ModuleType] = {
    "replay": replay,
    "publish": publish,
    "chronology": chronology,
    "what-if": what_if,
    "report": report,
    "subject-access": subject_access,
    "worker": worker,
    "web": web,
    "demo": demo,
    "tail": tail,
    "status": status,
    "kafka": kafka,
    "contract": contract,
}
"""Each command's module, in the order `--help` lists them."""

BATCH_COMMANDS: Final = frozenset({"replay", "what-if", "chronology", "report"})
"""The commands that run to an end and exit, most often over a replay of a file: their
collector is tuned for throughput (`tune_collector(batch=True)`; `report` and
`chronology` may read the running broker's topics instead, a read to the end all the
same). The worker and the page are tuned for latency."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mash-broker", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_collector(batch=args.command in BATCH_COMMANDS)
    try:
        settings = Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    run: Callable[[argparse.Namespace, Settings], int] = COMMANDS[args.command].run
    try:
        return run(args, settings)
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3 if exc.retriable else 1
    except KeyboardInterrupt:
        return 130
