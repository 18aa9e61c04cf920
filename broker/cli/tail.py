"""`mash-broker tail`: a topic's records as JSON lines (decoded by the codec)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    tail = sub.add_parser("tail", help="print a topic's records as JSON lines")
    tail.add_argument("topic")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--idle-timeout", type=float, default=None, help="stop after N s idle")
    tail.add_argument("--max", type=int, default=None, help="stop after N records")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.kafka.tail import tail_topic

    return asyncio.run(
        tail_topic(
            settings,
            args.topic,
            from_beginning=args.from_beginning,
            idle_timeout=args.idle_timeout,
            limit=args.max,
        )
    )
