"""Copies of a child's picture: a working copy for a step, a deep copy for the rest.

Every step that changes a picture works on a copy (`process`, `fire_due`, `apply`,
`merge_pictures`), so that the picture given stays as it was until the caller has
published the step's records (at-least-once). `process` and `fire_due`, which run on
every event and every deadline, take a `working_copy`: new lists and dicts holding the
same parts, which are frozen (broker.picture.model), so a step replaces a part rather
than change it. `apply` and `merge_pictures` take a `clone`, a deep copy.

pydantic's `model_copy(deep=True)` goes through `copy.deepcopy`, which visits every
date, enum and string of the chronology with its memo bookkeeping; the replay benchmark
(bench/replay.py) found it took three quarters of the broker's time per event.

The picture holds only immutable leaves (strings, numbers, dates, instants, enums),
lists and dicts (an event's JSON `body`), and pydantic models. So `clone` copies the
containers and the models and shares the leaves; and for each model class it works out
once, from the field annotations, which fields can only hold leaves, and copies the
rest alone. That gives the same picture several times faster. Anything of a type it
does not know is handed to `copy.deepcopy`, so a field added later stays safe.
"""

from __future__ import annotations

import copy
import enum
import types
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, NaiveDatetime
from pydantic_core import PydanticUndefined

_M = TypeVar("_M", bound=BaseModel)

_LEAVES: Final = (str, int, float, bool, type(None), bytes, date, datetime, time, timedelta)
_ATOMS: Final[set[type]] = {*_LEAVES, Decimal}
"""Immutable leaf types: shared, never copied (enumerations join as they are met)."""
_ATOMIC_ANNOTATIONS: Final[frozenset[object]] = frozenset({*_ATOMS, AwareDatetime, NaiveDatetime})
"""Field annotations whose values are always leaves (pydantic validates the two kinds of
datetime to a `datetime`)."""
_set: Final = object.__setattr__
_copyable: dict[type, tuple[int, tuple[str, ...]]] = {}
"""model class -> (number of fields, the fields that may hold something mutable)."""


def clone(model: _M) -> _M:
    """A copy of `model` sharing no mutable object with it; equal to
    `model.model_copy(deep=True)`.

    The same steps as pydantic's `BaseModel.__deepcopy__` (a new instance without
    validation; its `__dict__`, extra fields, fields set and private attributes copied),
    with `_copy` in place of `copy.deepcopy`. A picture holds no object twice, so
    deepcopy's memo (which keeps such sharing) has nothing to keep.
    """
    cls = type(model)
    plan = _copyable.get(cls) or _plan(cls)
    fields = model.__dict__.copy()
    names = plan[1] if len(fields) == plan[0] else tuple(fields)
    for name in names:
        value = fields[name]
        if type(value) not in _ATOMS:
            fields[name] = _copy(value)
    new = cls.__new__(cls)
    _set(new, "__dict__", fields)
    extra = model.__pydantic_extra__
    _set(new, "__pydantic_extra__", None if extra is None else _copy(extra))
    _set(new, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    private = getattr(model, "__pydantic_private__", None)
    _set(
        new,
        "__pydantic_private__",
        None
        if private is None
        else {k: _copy(v) for k, v in private.items() if v is not PydanticUndefined},
    )
    return new


def working_copy(picture: _M) -> _M:
    """A step's own copy of a picture: its lists and dicts are new, the parts in them
    (frozen models: broker.picture.model) are shared with the picture given.

    What a step does to its copy is add, remove or replace parts (an event joins the
    chronology, a timer is set, an old decision is pruned), never change a part in place;
    the one exception, an event's `told`, goes through `ChildPicture.own_event`. So the
    picture given stays as it was, as with `clone`, at the cost of copying a dozen
    containers instead of every part of the chronology: the replay benchmark's dense
    load (bench/dense.py, about ten events a child) spent a fifth of its time in `clone`
    and in freeing the copies it made.
    """
    cls = type(picture)
    fields = picture.__dict__.copy()
    for name, value in fields.items():
        kind = type(value)
        if kind is list or kind is dict:
            fields[name] = value.copy()
    new = cls.__new__(cls)
    _set(new, "__dict__", fields)
    _set(new, "__pydantic_extra__", picture.__pydantic_extra__)
    _set(new, "__pydantic_fields_set__", set(picture.__pydantic_fields_set__))
    _set(new, "__pydantic_private__", getattr(picture, "__pydantic_private__", None))
    return new


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return [v if type(v) in _ATOMS else _copy(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _ATOMS else _copy(v) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return clone(value)
    if isinstance(value, enum.Enum):
        _ATOMS.add(kind)
        return value
    return copy.deepcopy(value)


def _plan(cls: type[BaseModel]) -> tuple[int, tuple[str, ...]]:
    fields = cls.model_fields
    plan = (len(fields), tuple(n for n, f in fields.items() if not _atomic(f.annotation)))
    _copyable[cls] = plan
    return plan


def _atomic(annotation: object) -> bool:
    """Whether a field so annotated can only hold immutable leaves (when unsure: no)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return all(_atomic(arg) for arg in get_args(annotation))
    if origin is Literal:
        return all(
            type(arg) in _ATOMS or isinstance(arg, enum.Enum) for arg in get_args(annotation)
        )
    if origin is not None or not isinstance(annotation, type):
        return False  # list[...], dict[...], Annotated[...] and the like: copy
    return annotation in _ATOMIC_ANNOTATIONS or issubclass(annotation, enum.Enum)
