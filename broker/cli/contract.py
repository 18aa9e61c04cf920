"""`mash-broker contract asyncapi`: the AsyncAPI 3 document of the contract, generated
from the topic declarations, the ACLs and the Avro schemas (broker/kafka/asyncapi.py).

Writes `schemas/asyncapi.yaml` (beside the Avro schemas it describes); `--check` only
compares, for CI: exit 1 when the file is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    contract = sub.add_parser("contract", help="the contract as AsyncAPI 3 (schemas/asyncapi.yaml)")
    documents = contract.add_subparsers(dest="document", required=True)
    asyncapi = documents.add_parser(
        "asyncapi",
        help="write schemas/asyncapi.yaml from the topics, the ACLs and the Avro schemas",
    )
    asyncapi.add_argument(
        "--output", type=Path, help="where to write it (default: asyncapi.yaml in MASH_SCHEMAS_DIR)"
    )
    asyncapi.add_argument("--stdout", action="store_true", help="print it instead of writing")
    asyncapi.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the file is stale"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from broker.kafka.asyncapi import asyncapi_document, render

    text = render(asyncapi_document(settings.schemas_dir))
    if args.stdout:
        sys.stdout.write(text)
        return 0
    path: Path = args.output or settings.schemas_dir / "asyncapi.yaml"
    if args.check:
        if path.exists() and path.read_text("utf-8") == text:
            return 0
        print(f"{path} is stale: run `mash-broker contract asyncapi`", file=sys.stderr)
        return 1
    path.write_text(text, "utf-8")
    print(f"wrote {path}")
    return 0
