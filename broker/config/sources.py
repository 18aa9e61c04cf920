"""Reading a partnership file as data, and saying which line of it a problem is on.

Two formats, for two uses. A JSON file (`broker/data/partnership.json` and a
partnership's copy of it) is a whole configuration, as the worker has always read it.
A TOML file holds only what a partnership changes (`[thresholds]
cumulative_neglect_every = 1`), layered over a base: the shipped defaults, or the
baseline that `mash-broker what-if` compares against. A change is easier to review
as the three lines that differ than as a copy of a hundred.

A problem must name the line it is on: the person editing the file is not reading
Python, and "thresholds.cumulative_neglect_every: must be at least 1" is quicker to fix
at "line 7". Neither `json` nor `tomllib` keeps positions, so `key_lines` finds them in
the text: enough of each syntax to know which key a line sets, never a second parser
of values.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from broker.errors import ConfigurationError

Key = tuple[str, ...]
"""A path into the file's data, e.g. ("thresholds", "cumulative_neglect_every")."""

NAMED_FILES: Final = ("minimisation", "language_list")
"""Keys whose value names another file, relative to the file that names it."""


@dataclass(frozen=True)
class Source:
    """One file's data, where it came from, and the line each key is set on."""

    data: dict[str, Any]
    origin: str
    lines: dict[Key, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """The line of the longest part of `path` (a problem's dotted field) set here."""
        key = split_path(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None


def read_source(path: Path | None, default_name: str) -> Source:
    """`path` (JSON or, by its suffix, TOML) or the file shipped in broker/data/."""
    origin = str(path) if path is not None else f"broker/data/{default_name}"
    try:
        if path is None:
            text = resources.files("broker").joinpath("data", default_name).read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{origin}: cannot read it ({type(exc).__name__})") from None
    if path is not None and path.suffix.lower() == ".toml":
        data = _parse_toml(text, origin)
        lines = toml_key_lines(text)
    else:
        data = _parse_json(text, origin)
        lines = json_key_lines(text)
    if not isinstance(data, dict):
        raise ConfigurationError(f"{origin}: line 1: must be an object of named settings")
    base = path.parent if path is not None else None
    return Source(_anchor_named_files(data, base), origin, lines)


def is_toml(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() == ".toml"


def layered(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` over `base`: tables merge key by key, any other value replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = layered(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def split_path(path: str) -> Key:
    """'calendar.school_terms[0][1]' -> ('calendar', 'school_terms', '0', '1')."""
    return tuple(part for part in re.split(r"[.\[\]]+", path) if part)


def _anchor_named_files(data: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """Named files as paths from here, so that they stay right once layered elsewhere."""
    if base is None:
        return data
    for key in NAMED_FILES:
        name = data.get(key)
        if isinstance(name, str) and not Path(name).is_absolute():
            data[key] = str(base / name)
    return data


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{origin}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _parse_toml(text: str, origin: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{origin}: not valid TOML ({exc})") from None


_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_BARE_OR_QUOTED = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_TOML_KEY = re.compile(rf"^\s*({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=")


def _toml_parts(dotted: str) -> Key:
    parts = re.findall(_BARE_OR_QUOTED, dotted)
    return tuple(p.strip("\"'") for p in parts)


def toml_key_lines(text: str) -> dict[Key, int]:
    """Each table header's and each `key =` line's number (1-based), by full key.

    Multi-line strings and arrays are rare in a partnership file; a line inside one that
    looks like `key =` would at worst point a problem at a nearby line."""
    lines: dict[Key, int] = {}
    table: Key = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _TOML_TABLE.match(line):
            table = _toml_parts(header.group(1))
            lines.setdefault(table, number)
        elif key := _TOML_KEY.match(line):
            lines.setdefault((*table, *_toml_parts(key.group(1))), number)
    return lines


def json_key_lines(text: str) -> dict[Key, int]:
    """Each object member's line (1-based), by its path of keys from the top.

    Array items are not numbered (a problem in one points at the array's key)."""
    lines: dict[Key, int] = {}
    stack: list[Key | None] = []  # per open bracket: the object's path, or None for arrays
    pending: str | None = None  # the last string read, a key if a ':' follows
    member: Key | None = None  # the key whose value comes next
    number, i, size = 1, 0, len(text)
    while i < size:
        char = text[i]
        if char == "\n":
            number += 1
        elif char == '"':
            end = i + 1
            while end < size and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            pending = json.loads(text[i : end + 1]) if end < size else None
            i = end
        elif char == ":" and pending is not None and stack and stack[-1] is not None:
            parent = stack[-1]
            assert parent is not None
            member = (*parent, pending)
            lines.setdefault(member, number)
        elif char == "{":
            stack.append(member if member is not None else () if not stack else None)
            member = None
        elif char == "[":
            stack.append(None)
            member = None
        elif char in "}]":
            if stack:
                stack.pop()
            member = None
        elif char == ",":
            member = None
        i += 1
    return lines
