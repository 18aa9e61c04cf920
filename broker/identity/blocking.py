"""Compact multimaps from a blocking key to child ids.

Most keys (an identifier, a date of birth with a name sound) hold one child, so a key
holds the id itself and becomes a tuple only when a second child arrives: at 100,000
children that saves a tuple object (some 50 bytes) per key.
"""

from __future__ import annotations

Ids = str | tuple[str, ...]  # one child id, or several


def ids_of(value: Ids | None) -> tuple[str, ...]:
    """The ids under a key, as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def add_ids(found: set[str], value: Ids | None) -> None:
    """Add the ids under a key to a set of candidates."""
    if value is None:
        return
    if isinstance(value, str):
        found.add(value)
    else:
        found.update(value)


def put_id(table: dict[str, Ids], key: str, child_id: str) -> None:
    """File a child under a key (once)."""
    current = table.get(key)
    if current is None:
        table[key] = child_id
    elif isinstance(current, str):
        if current != child_id:
            table[key] = (current, child_id)
    elif child_id not in current:
        table[key] = (*current, child_id)


def remove_id(table: dict[str, Ids], key: str, child_id: str) -> None:
    """Take a child from under a key, dropping the key when it empties."""
    current = table.get(key)
    if current is None:
        return
    if isinstance(current, str):
        if current == child_id:
            del table[key]
        return
    rest = tuple(c for c in current if c != child_id)
    if not rest:
        del table[key]
    else:
        table[key] = rest[0] if len(rest) == 1 else rest
