"""`mash-broker demo`: demo events dated from now, for a realistic MASH queue."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    sub.add_parser("demo", help="print demo events dated from now, one JSON object a line")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.web.demo import print_demo

    return print_demo(sys.stdout)
