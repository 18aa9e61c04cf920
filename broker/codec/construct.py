"""Building a model from a decoded record without validating it: the conversions, and
one compiled function per model (broker/codec/trusted.py decides what to build).

A conversion is what validation would make of a value read from Avro, and nothing
more: the value itself when its type is the one expected (`Exactly`, which may apply a
converting validator after, such as England's time for an instant), an enum's member
(`Member`), a nested model (`ModelPlan`), a list or a map of those. A value that is not
what the plan expects raises `Untrusted`, and the record is validated instead.

`ModelPlan.compile` writes the plan as one function of straight-line Python (as
dataclasses writes an `__init__`): each field read, the exact types checked in one
test, enum members looked up, converters called, the instance made. That is what makes
building cheaper than pydantic's validation in Rust: a loop calling a function per
field, or `model_construct` (which searches each field's aliases), costs as much.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from pydantic import BaseModel

Convert = Callable[[Any], Any]
"""A value as read from Avro -> the value validation would have made of it."""

_set: Final = object.__setattr__  # the models are frozen: set as pydantic sets them


class Untrusted(Exception):
    """This record does not have the shape its model's plan expects: validate it.
    The message names a model and a field, never a value."""


def same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Exactly:
    """A value of this very type (or None when nullable), kept, then given to each
    converting validator in `after`; `aware`: a datetime must carry its offset."""

    tp: type
    nullable: bool = False
    aware: bool = False
    after: tuple[Convert, ...] = ()

    def __call__(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        if type(value) is not self.tp or (self.aware and getattr(value, "tzinfo", 1) is None):
            raise Untrusted(f"a value is not {self.tp.__name__}")
        for convert in self.after:
            value = convert(value)
        return value


@dataclass(frozen=True)
class Member:
    """An enum's value -> its member (or None when nullable)."""

    cls: type[enum.Enum]
    nullable: bool = False
    members: dict[Any, enum.Enum] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        _set(self, "members", {m.value: m for m in self.cls})

    def __call__(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        try:
            return self.members[value]
        except (KeyError, TypeError):
            raise Untrusted(f"a value is not a {self.cls.__name__}") from None


@dataclass(frozen=True)
class OrNone:
    """None, or the value converted."""

    convert: Convert

    def __call__(self, value: Any) -> Any:
        return None if value is None else self.convert(value)


def or_none(convert: Convert) -> Convert:
    if isinstance(convert, Exactly | Member):
        return replace(convert, nullable=True)
    return OrNone(convert)


def then(convert: Convert, after: list[Convert]) -> Convert:
    """`convert`, then each converting validator of `after` in order."""
    if isinstance(convert, Exactly):
        return replace(convert, after=(*convert.after, *after))

    def converted(value: Any) -> Any:
        value = convert(value)
        for step in after:
            value = step(value)
        return value

    return converted


def list_of(convert: Convert) -> Convert:
    def list_of(value: Any) -> Any:
        if type(value) is not list:
            raise Untrusted("a value is not a list")
        return value if convert is same else [convert(v) for v in value]

    return list_of


def dict_of(key: Convert, item: Convert) -> Convert:
    def dict_of(value: Any) -> Any:
        if type(value) is not dict:
            raise Untrusted("a value is not a map")
        return {key(k): item(v) for k, v in value.items()}

    return dict_of


def one_of(allowed: tuple[Any, ...]) -> Convert:
    def one_of(value: Any) -> Any:
        if value not in allowed or type(value) is not type(allowed[0]):
            raise Untrusted("a value is not the literal expected")
        return value

    return one_of


class ModelPlan:
    """How to build one model from a decoded record: each field's conversion.

    `build` is compiled from the plan (`compile`); a record it does not take as it is
    (a field missing, a type not the plan's, an enum value unknown, an instance
    already built) goes to `build_slowly`, the plain loop over the fields, which fills
    defaults and raises `Untrusted` naming the field."""

    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.fields: list[tuple[str, Convert, bool]] = []
        self.build: Convert = self.build_slowly
        self.source = ""
        """`build`'s source, once compiled."""

    def __call__(self, value: Any) -> Any:
        return self.build(value)

    def build_slowly(self, value: Any) -> BaseModel:
        if isinstance(value, self.cls):
            return value  # already built (an event decoded from its own bytes)
        if type(value) is not dict:
            raise Untrusted(f"{self.cls.__name__} is not a record")
        values = {}
        given = set()
        for name, convert, required in self.fields:
            if name in value:
                try:
                    values[name] = convert(value[name])
                except Untrusted as exc:
                    raise Untrusted(f"{self.cls.__name__}.{name}: {exc}") from None
                given.add(name)
            elif required:
                raise Untrusted(f"{self.cls.__name__}.{name} is missing")
            else:
                values[name] = self.cls.model_fields[name].get_default(call_default_factory=True)
        model = self.cls.__new__(self.cls)
        _set(model, "__dict__", values)  # what model_construct does with its values
        _set(model, "__pydantic_fields_set__", given)  # as validation records them
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model

    def compile(self) -> None:
        """Make `build`, the same as `build_slowly` for a record of the plan's shape.
        Only the plan's field names (identifiers) and numbered locals go in the source."""
        if not all(name.isidentifier() for name, _, _ in self.fields):
            return  # the slow way, then
        scope: dict[str, Any] = {"slow": self.build_slowly, "new": object.__new__}
        scope["Untrusted"] = Untrusted
        scope |= {"cls": self.cls, "names": frozenset(n for n, _, _ in self.fields), "put": _set}
        reads, tests, items = [], [], []
        for i, (name, convert, _) in enumerate(self.fields):
            v = f"v{i}"
            reads.append(f"{v} = value[{name!r}]")
            inner = convert.convert if isinstance(convert, OrNone) else convert
            scope[f"c{i}"] = inner
            if isinstance(convert, Exactly):
                scope[f"t{i}"] = convert.tp
                test = f"{v}.__class__ is not t{i}" + (f" or {v}.tzinfo is None" * convert.aware)
                tests.append(f"({v} is not None and ({test}))" if convert.nullable else f"({test})")
                expression = v
                for k, step in enumerate(convert.after):
                    scope[f"a{i}_{k}"] = step
                    expression = f"a{i}_{k}({expression})"
            elif isinstance(convert, Member):
                lookup = f"c{i}.members[{v}]"
                reads.append(
                    f"{v} = None if {v} is None else {lookup}"
                    if convert.nullable
                    else f"{v} = {lookup}"
                )
                expression = v
            elif convert is same:
                expression = v
            else:
                expression = f"c{i}.build({v})" if isinstance(inner, ModelPlan) else f"c{i}({v})"
            if isinstance(convert, OrNone) or (
                isinstance(convert, Exactly) and convert.nullable and convert.after
            ):
                expression = f"(None if {v} is None else {expression})"
            items.append(f"{name!r}: {expression}")
        lines = [
            "def build(value):",
            "    if value.__class__ is not dict:",
            "        return slow(value)",
            "    try:",
            *(f"        {line}" for line in reads or ["pass"]),
            "    except (KeyError, TypeError):",
            "        return slow(value)",
        ]
        if tests:
            lines += [f"    if {' or '.join(tests)}:", "        return slow(value)"]
        lines += [
            "    try:",  # a nested record that does not fit: the slow way names the field
            f"        values = {{{', '.join(items)}}}",
            "    except Untrusted:",
            "        return slow(value)",
            "    model = new(cls)",
            "    put(model, '__dict__', values)",
            "    put(model, '__pydantic_fields_set__', set(names))",
            "    put(model, '__pydantic_extra__', None)",
            "    put(model, '__pydantic_private__', None)",
            "    return model",
        ]
        self.source = "\n".join(lines)
        exec(self.source, scope)  # noqa: S102 (our own source: the models' field names)
        self.build = scope["build"]
