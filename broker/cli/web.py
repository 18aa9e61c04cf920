"""`mash-broker web`: the MASH page, in a process of its own (docs/web.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    sub.add_parser("web", help="run the MASH page (its own process; docs/web.md)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.web.server import run_web

    return run_web(settings)
