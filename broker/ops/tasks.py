"""Where the worker's coroutines are waiting: for an operator whose worker is stuck.

A worker that answers ready but processes nothing (docs/notes/faust-kafka.md) shows
little in its log: every task is waiting on something. `/debug/tasks` lists the event
loop's tasks and, for each, the code locations it is suspended at (file, line and
function, innermost last). Code locations only: never a local variable, an argument or
an exception's text, so no child's data can appear in it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

_MAX_FRAMES = 12


def task_stacks() -> list[dict[str, Any]]:
    """Every task of the running loop with its suspended frames, agents' first."""
    found = []
    for task in asyncio.all_tasks():
        frames = [_location(f) for f in task.get_stack(limit=_MAX_FRAMES)]
        coro = task.get_coro()
        found.append(
            {
                "name": task.get_name(),
                "coroutine": getattr(coro, "__qualname__", type(coro).__name__),
                "frames": frames,
            }
        )
    return sorted(found, key=lambda t: (not _ours(t), t["coroutine"]))


def thread_stacks() -> list[dict[str, Any]]:
    """Every thread's frames (faust's consumer runs in a thread of its own), innermost
    last, as code locations only."""
    names = {t.ident: t.name for t in threading.enumerate()}
    found = []
    for ident, frame in sys._current_frames().items():
        frames = [_location(f) for f, _ in traceback.walk_stack(frame)][:_MAX_FRAMES]
        found.append({"thread": names.get(ident, str(ident)), "frames": frames[::-1]})
    return found


def _location(frame: Any) -> str:
    """file:line function: where, never what."""
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"


def _ours(task: dict[str, Any]) -> bool:
    return any(("agents" in f or "broker" in f) for f in [task["coroutine"], *task["frames"]])
