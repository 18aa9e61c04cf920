"""`mash-broker worker`: the live stream worker (built by broker/compose.py)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    sub.add_parser("worker", help="run the live stream worker")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.compose import run_worker

    return run_worker(settings)
