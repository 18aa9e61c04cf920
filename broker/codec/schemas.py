"""`schemas/`: the registry of the single-object encoding, loaded and parsed once.

Layout (docs/contract.md):

- `common/<full name>.avsc`: named types shared by several messages (Subject, Source,
  Consent, Agency, Concern, ...), each defined once. Other files refer to them by full
  name; they are inlined where first used when a message schema is loaded.
- `events/` and `outputs/`: one file per message type, `<full name>.avsc`: the current
  schema, which is the *reader* schema for every version.
- `history/<full name>/<fingerprint>.avsc`: every version ever released, standalone,
  named by its CRC-64-AVRO fingerprint. Append-only: messages written with an old
  version keep resolving for as long as Kafka keeps them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form
from fastavro.types import Schema

from broker.errors import ConfigurationError

HISTORY: Final = "history"
SHARED: Final = "common"


@dataclass(frozen=True)
class WriterSchema:
    """One parsed schema: its full name, the standalone JSON (every named type defined
    inline, as a registry or another language needs it), and its fingerprint."""

    name: str
    parsed: Schema
    text: str
    fingerprint: bytes


def full_name(schema: Mapping[str, Any]) -> str:
    name = str(schema["name"])
    namespace = schema.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"schema file {path} cannot be read: {exc}") from exc
    if not isinstance(loaded, dict) or "name" not in loaded:
        raise ConfigurationError(f"schema file {path} must hold one named schema")
    return loaded


def _inline(node: Any, files: Mapping[str, Any], defined: set[str]) -> Any:
    """`node` with each named type of another file defined where it is first used and
    referred to by name after that, as Avro requires of a standalone schema."""
    if isinstance(node, str):
        if node in files and node not in defined:
            defined.add(node)
            return _inline(copy.deepcopy(files[node]), files, defined)
        return node
    if isinstance(node, list):
        return [_inline(n, files, defined) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "fields" in node:
        node["fields"] = [{**f, "type": _inline(f["type"], files, defined)} for f in node["fields"]]
    for key in ("items", "values"):
        if key in node:
            node[key] = _inline(node[key], files, defined)
    if isinstance(node.get("type"), list | dict) or node.get("type") in files:
        node["type"] = _inline(node["type"], files, defined)
    return node


def parse_standalone(schema: dict[str, Any], where: str) -> WriterSchema:
    try:
        parsed = parse_schema(copy.deepcopy(schema), named_schemas={})
        canonical = to_parsing_canonical_form(parsed)
    except Exception as exc:  # fastavro raises several types for a bad schema
        raise ConfigurationError(f"schema {where} does not parse: {exc}") from exc
    return WriterSchema(
        name=full_name(schema),
        parsed=parsed,
        text=json.dumps(schema, ensure_ascii=False),
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
    )


def load_current(schemas_dir: Path) -> dict[str, WriterSchema]:
    """The current schema of every message type, by full name, each parsed once.

    Shared named types live once in `common/`; every other file (not in `history/`) is
    a message schema and gets them inlined.
    """
    files: dict[str, dict[str, Any]] = {}
    roots: list[str] = []
    for path in sorted(schemas_dir.rglob("*.avsc")):
        relative = path.relative_to(schemas_dir).parts
        if relative[0] == HISTORY:
            continue
        schema = _read_json(path)
        name = full_name(schema)
        if path.stem != name or name in files:
            raise ConfigurationError(f"{path} must define {path.stem}, once in {schemas_dir}")
        files[name] = schema
        if relative[0] != SHARED:
            roots.append(name)
    return {name: parse_standalone(_inline(files[name], files, {name}), name) for name in roots}


def load_history(schemas_dir: Path) -> dict[bytes, WriterSchema]:
    """Every schema ever released, by fingerprint: `history/<full name>/<fp>.avsc`.

    A file's name is its fingerprint, checked here, so history cannot be edited by
    mistake: old writers' messages must keep resolving for as long as they are kept.
    """
    found: dict[bytes, WriterSchema] = {}
    for path in sorted((schemas_dir / HISTORY).glob("*/*.avsc")):
        writer = parse_standalone(_read_json(path), str(path))
        if writer.fingerprint.hex() != path.stem or writer.name != path.parent.name:
            raise ConfigurationError(f"{path} is not the schema its name says (edited?)")
        found[writer.fingerprint] = writer
    return found


def freeze_history(schemas_dir: Path) -> list[Path]:
    """Write each current schema into `history/` (if not there yet); the new files.

    Run after changing a schema, and commit the new file with the change."""
    written = []
    for writer in load_current(schemas_dir).values():
        path = schemas_dir / HISTORY / writer.name / f"{writer.fingerprint.hex()}.avsc"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            schema = json.loads(writer.text)
            path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", "utf-8")
            written.append(path)
    return written
