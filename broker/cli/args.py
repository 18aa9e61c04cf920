"""Argument types the commands share."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING


def instant(text: str) -> datetime:
    """An ISO 8601 time with its offset (a deadline's time is never ambiguous)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its offset, e.g. +01:00")
    return value


if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
    """What `add_subparsers` returns: each command module adds its parser to it."""
