"""Making a model from values already validated, without pydantic's `model_construct`.

The pure stages build parts of a picture, alerts' contexts and messages for a child on
every event from values that were validated when they arrived (an event, the picture,
the clock's aware instant). Validating them again cost a tenth of raising an alert, so
they are constructed; but `model_construct` itself, in Python, searches every field's
alias and validation alias and resolves each default through `FieldInfo` on every call:
the replay benchmark's dense load (`python -m bench.replay --shape dense`) spent 4 % of
its time there. `built` does what `model_construct` does for a model without aliases,
post-init or extra fields, with the field plan worked out once per class.

The instance is the one `model_construct` makes: `__dict__` in the fields' declared
order (pydantic serialises a model's fields in its `__dict__` order, so the JSON is the
same), the fields given as its fields set, the defaults of the fields not given.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

_M = TypeVar("_M", bound=BaseModel)
_set: Final = object.__setattr__
_IMMUTABLE: Final = (str, int, float, type(None), enum.Enum)
_REQUIRED: Final = object()

Default = Callable[[], Any]
Plan = tuple[tuple[str, ...], tuple[tuple[str, Any, Default | None], ...]]
_plans: dict[type[BaseModel], Plan | None] = {}
"""model class -> its fields' names, and (field, default value or _REQUIRED, default
factory) for each, in declared order; None for a class left to `model_construct`."""


def built(cls: type[_M], /, **values: Any) -> _M:
    """`cls.model_construct(**values)`, for values already validated."""
    plan = _plans[cls] if cls in _plans else _plan(cls)
    if plan is None:
        return cls.model_construct(**values)
    names, fill = plan
    fields = None
    if len(values) == len(names):  # every field given (most calls)
        try:
            fields = {name: values[name] for name in names}
        except KeyError:
            fields = None  # a field not given, and a name that is none
    if fields is None:
        fields = _filled(fill, values)
        if len(fields) < len(values) or any(name not in fields for name in values):
            return cls.model_construct(**values)  # a name that is no field: pydantic's way
    model = cls.__new__(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _filled(
    fill: tuple[tuple[str, Any, Default | None], ...], values: dict[str, Any]
) -> dict[str, Any]:
    """The values given, and the defaults of the fields not given, in declared order."""
    fields: dict[str, Any] = {}
    for name, default, factory in fill:
        if name in values:
            fields[name] = values[name]
        elif factory is not None:
            fields[name] = factory()
        elif default is not _REQUIRED:
            fields[name] = default
    return fields


def _plan(cls: type[BaseModel]) -> Plan | None:
    """The field plan of `cls`, or None when `model_construct` must do it (aliases,
    post-init, extra fields kept, a default that would be copied, a factory taking data)."""
    simple = (
        not cls.__pydantic_post_init__
        and not cls.__pydantic_root_model__
        and cls.model_config.get("extra") != "allow"
        and not cls.__private_attributes__
    )
    entries: list[tuple[str, Any, Default | None]] = []
    for name, field in cls.__pydantic_fields__.items():
        if field.alias is not None or field.validation_alias is not None:
            simple = False
        factory = field.default_factory
        if factory is not None:
            if field.default_factory_takes_validated_data:
                simple = False
            entries.append((name, _REQUIRED, cast(Default, factory)))
        elif field.default is PydanticUndefined:
            entries.append((name, _REQUIRED, None))
        elif isinstance(field.default, _IMMUTABLE):
            entries.append((name, field.default, None))
        else:
            simple = False  # pydantic copies such a default for each instance
    plan = (tuple(cls.__pydantic_fields__), tuple(entries)) if simple else None
    _plans[cls] = plan
    return plan
