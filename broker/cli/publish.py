"""`mash-broker publish`: an agency's JSON-lines events, validated, encoded and sent."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    publish = sub.add_parser("publish", help="encode JSON-lines events and send them to Kafka")
    publish.add_argument("file", type=Path)
    publish.add_argument(
        "--send-invalid",
        action="store_true",
        help="send invalid lines too (to exercise the broker's rejection path)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.kafka.publish import publish_file

    return asyncio.run(publish_file(settings, args.file, send_invalid=args.send_invalid))
