"""`mash-broker`: the command line.

Thin: it parses arguments, builds the one `Settings`, and hands over to the module that
does the work. Exit codes: 0 success, 1 a run that found problems (bad lines; `status`: a
worker that is not ready), 2 usage, 3 infrastructure unavailable (Kafka or the worker
away).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from broker.collector import tune_collector
from broker.errors import BrokerError, ConfigurationError
from broker.settings import Settings


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its offset, e.g. +01:00")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mash-broker", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    replay = sub.add_parser("replay", help="run the pipeline over a JSON-lines file, no Kafka")
    replay.add_argument("file", type=Path, help="events, one JSON object a line ('-': stdin)")
    replay.add_argument("--until", type=_instant, help="fire every timer due at or before this")
    replay.add_argument(
        "--internal", action="store_true", help="also print the broker's internal topics"
    )

    publish = sub.add_parser("publish", help="encode JSON-lines events and send them to Kafka")
    publish.add_argument("file", type=Path)
    publish.add_argument(
        "--send-invalid",
        action="store_true",
        help="send invalid lines too (to exercise the broker's rejection path)",
    )

    chrono = sub.add_parser(
        "chronology", help="a child's multi-agency chronology, from a file or the live worker"
    )
    source = chrono.add_mutually_exclusive_group(required=True)
    source.add_argument("file", type=Path, nargs="?", help="replay these events (JSON lines)")
    source.add_argument(
        "--live", action="store_true", help="read the running worker's child-pictures table"
    )
    chrono.add_argument("--until", type=_instant)
    who = chrono.add_mutually_exclusive_group(required=True)
    who.add_argument("--child-id", help="the broker's child id (as in alerts)")
    who.add_argument("--socialcare-id")
    who.add_argument("--nhs-number")
    who.add_argument("--upn")
    who.add_argument("--police-person-id")
    chrono.add_argument("--json", action="store_true", help="one JSON object a row")

    sub.add_parser("worker", help="run the live stream worker")
    sub.add_parser("web", help="run the MASH page (its own process; docs/web.md)")
    sub.add_parser("demo", help="print demo events dated from now, one JSON object a line")

    tail = sub.add_parser("tail", help="print a topic's records as JSON lines")
    tail.add_argument("topic")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--idle-timeout", type=float, default=None, help="stop after N s idle")
    tail.add_argument("--max", type=int, default=None, help="stop after N records")

    status = sub.add_parser(
        "status", help="a running worker's operations figures (throughput, lag, readiness)"
    )
    status.add_argument(
        "--url",
        help="the worker's /ops.json (default: from MASH_WORKER_WEB_HOST and _PORT)",
    )
    status.add_argument("--json", action="store_true", help="print the figures as JSON")

    kafka = sub.add_parser("kafka", help="the local development Kafka (deploy/local)")
    kafka.add_argument("action", choices=["up", "down", "status"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_collector()
    try:
        settings = Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return _dispatch(args, settings)
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3 if exc.retriable else 1
    except KeyboardInterrupt:
        return 130


def _chronology(args: argparse.Namespace, settings: Settings) -> int:
    from broker.replay import print_chronology

    if not args.live:
        return print_chronology(args, out=sys.stdout)
    from broker.chronology_live import live_pictures

    pictures = asyncio.run(live_pictures(settings))
    return print_chronology(args, out=sys.stdout, pictures=pictures)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "replay":
        from broker.replay import run_replay

        return run_replay(args.file, args.until, internal=args.internal, out=sys.stdout)
    if args.command == "chronology":
        return _chronology(args, settings)
    if args.command == "publish":
        from broker.publish import publish_file

        return asyncio.run(publish_file(settings, args.file, send_invalid=args.send_invalid))
    if args.command == "worker":
        from broker.compose import run_worker

        return run_worker(settings)
    if args.command == "tail":
        from broker.tail import tail_topic

        return asyncio.run(
            tail_topic(
                settings,
                args.topic,
                from_beginning=args.from_beginning,
                idle_timeout=args.idle_timeout,
                limit=args.max,
            )
        )
    local = {"status": _status, "kafka": _kafka, "web": _web, "demo": _demo}
    if args.command in local:
        return local[args.command](args, settings)
    raise AssertionError(f"unhandled command {args.command}")


def _web(args: argparse.Namespace, settings: Settings) -> int:
    from broker.web.server import run_web

    return run_web(settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from broker.web.demo import print_demo

    return print_demo(sys.stdout)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from broker.ops.terminal import show_status, status_url

    if not args.url and settings.worker_web_port == 0:
        raise ConfigurationError("the worker's web server is off (MASH_WORKER_WEB_PORT=0)")
    url = args.url or status_url(settings.worker_web_host, settings.worker_web_port)
    return show_status(url, as_json=args.json)


def _kafka(args: argparse.Namespace, settings: Settings) -> int:
    from broker import kafka_local

    action = {"up": kafka_local.up, "down": kafka_local.down, "status": kafka_local.status}
    result = action[args.action](settings)
    if result is not None:
        print(result if isinstance(result, str) else json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
