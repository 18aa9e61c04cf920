"""`mash-broker status`: a running worker's operations figures (no child's data)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from broker.errors import ConfigurationError
from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    status = sub.add_parser(
        "status", help="a running worker's operations figures (throughput, lag, readiness)"
    )
    status.add_argument(
        "--url",
        help="the worker's /ops.json (default: from MASH_WORKER_WEB_HOST and _PORT)",
    )
    status.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.ops.terminal import show_status, status_url

    if not args.url and settings.worker_web_port == 0:
        raise ConfigurationError("the worker's web server is off (MASH_WORKER_WEB_PORT=0)")
    url = args.url or status_url(settings.worker_web_host, settings.worker_web_port)
    return show_status(url, as_json=args.json)
