"""`mash-broker kafka`: the local development Kafka (up, down, status), a cluster's ACLs
(printed as kafka-acls.sh commands, or applied and verified), and `deploy/k8s/` (the
Strimzi and Kubernetes resources, generated: broker/kafka/manifests.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from broker.errors import ConfigurationError
from broker.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers

K8S_DIR = PROJECT_ROOT / "deploy" / "k8s"


def add_parser(sub: Subparsers) -> None:
    kafka = sub.add_parser(
        "kafka",
        help="the local development Kafka (deploy/local); a cluster's ACLs; deploy/k8s/",
    )
    actions = kafka.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="start the local Kafka and create every topic")
    actions.add_parser("down", help="stop the local Kafka")
    actions.add_parser("status", help="whether the local Kafka runs and answers")
    _acls_parser(actions)
    manifests = actions.add_parser(
        "manifests",
        help="write deploy/k8s/: Strimzi Kafka, topics, users with their ACLs, the workloads",
    )
    manifests.add_argument(
        "--output-dir", type=Path, default=K8S_DIR, help="where (default: deploy/k8s)"
    )
    manifests.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )


def _acls_parser(actions: Subparsers) -> None:
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
        "--auditor", help="the auditor's principal (reads the audit topics only), e.g. User:audit"
    )
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "acls":
        return _acls(args, settings)
    if args.action == "manifests":
        return _manifests(args.output_dir, check=args.check)
    from broker.kafka import local

    action = {"up": local.up, "down": local.down, "status": local.status}
    result = action[args.action](settings)
    if result is not None:
        print(result if isinstance(result, str) else json.dumps(result, default=str))
    return 0


def _acls(args: argparse.Namespace, settings: Settings) -> int:
    from broker.kafka.acls import Principals, acls_script, all_bindings, parse_agency_principal

    agencies = dict(parse_agency_principal(text) for text in args.agency)
    if len(agencies) != len(args.agency):
        raise ConfigurationError("an agency is named twice")
    principals = Principals(
        args.worker, args.web, agencies, args.app_id or settings.app_id, args.auditor
    )
    if not args.apply:
        bootstrap = args.bootstrap_server or settings.kafka_bootstrap
        print(acls_script(principals, bootstrap, args.command_config), end="")
        return 0
    from broker.kafka.secure import apply_and_verify

    report = asyncio.run(apply_and_verify(settings, all_bindings(principals)))
    print(report.summary())
    for line in report.extra_lines():
        print(line, file=sys.stderr)
    return 0 if report.complete else 1


def _manifests(directory: Path, *, check: bool) -> int:
    """Write deploy/k8s/ (broker/kafka/manifests.py); with `check`, only compare. A file
    there that the generator no longer writes is stale too."""
    from broker.kafka.manifests import rendered

    texts = rendered()
    if check:
        present = {p.name for p in directory.glob("*.yaml")} if directory.is_dir() else set()
        stale = sorted(
            {n for n, text in texts.items() if not _same(directory / n, text)}
            | (present - set(texts))
        )
        for name in stale:
            print(
                f"{directory / name} is stale: run `mash-broker kafka manifests`", file=sys.stderr
            )
        return 1 if stale else 0
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        if old.name not in texts:
            old.unlink()
    for name, text in texts.items():
        (directory / name).write_text(text, "utf-8")
    print(f"wrote {len(texts)} files in {directory}")
    return 0


def _same(path: Path, text: str) -> bool:
    return path.exists() and path.read_text("utf-8") == text
