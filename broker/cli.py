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

    kafka = sub.add_parser(
        "kafka", help="the local development Kafka (deploy/local); a cluster's ACLs"
    )
    actions = kafka.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="start the local Kafka and create every topic")
    actions.add_parser("down", help="stop the local Kafka")
    actions.add_parser("status", help="whether the local Kafka runs and answers")
    _acls_parser(actions)
    return parser


def _acls_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    acls = actions.add_parser(
        "acls",
        help="a cluster's ACLs: print the kafka-acls.sh commands, or --apply them",
        description="The ACLs every principal needs, computed from broker/topics.py "
        "(deploy/README.md, 'Security'). Prints kafka-acls.sh commands; --apply creates "
        "them with the admin API, connecting as MASH_KAFKA_* says (a super user).",
    )
    acls.add_argument(
        "--worker", required=True, help="the worker's principal, e.g. User:mash-broker"
    )
    acls.add_argument("--web", help="the MASH page's principal, e.g. User:mash-web")
    acls.add_argument(
        "--agency",
        action="append",
        default=[],
        metavar="AGENCY=PRINCIPAL",
        help="an agency system's principal, e.g. police=User:police (repeat for each)",
    )
    acls.add_argument("--app-id", help="the workers' MASH_APP_ID (default: from the environment)")
    acls.add_argument(
        "--bootstrap-server", help="for the printed commands (default: MASH_KAFKA_BOOTSTRAP)"
    )
    acls.add_argument(
        "--command-config",
        default="admin.properties",
        help="the admin client properties file the printed commands name",
    )
    acls.add_argument(
        "--apply", action="store_true", help="create the ACLs now (admin API) and verify them"
    )


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
    if args.action == "acls":
        return _acls(args, settings)
    from broker import kafka_local

    action = {"up": kafka_local.up, "down": kafka_local.down, "status": kafka_local.status}
    result = action[args.action](settings)
    if result is not None:
        print(result if isinstance(result, str) else json.dumps(result, default=str))
    return 0


def _acls(args: argparse.Namespace, settings: Settings) -> int:
    from broker.acls import Principals, acls_script, all_bindings, parse_agency_principal

    agencies = dict(parse_agency_principal(text) for text in args.agency)
    if len(agencies) != len(args.agency):
        raise ConfigurationError("an agency is named twice")
    principals = Principals(args.worker, args.web, agencies, args.app_id or settings.app_id)
    if not args.apply:
        bootstrap = args.bootstrap_server or settings.kafka_bootstrap
        print(acls_script(principals, bootstrap, args.command_config), end="")
        return 0
    from broker.kafka_secure import apply_and_verify

    report = asyncio.run(apply_and_verify(settings, all_bindings(principals)))
    print(report.summary())
    for line in report.extra_lines():
        print(line, file=sys.stderr)
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
