"""Records of the broker's own internal topics, built into their models without being
validated again.

broker.accepted.v1 and broker.linked.v1 are written only by our own workers (Kafka
ACLs: broker/kafka/acls.py), each record encoded from a model that was validated when
its event arrived, with the schemas this codec holds. Validating each record again at
every stage was two thirds of decoding it, and decoding a quarter of the link stage
(docs/notes/faust-kafka.md, "A link stage off faust, measured"). So such a record is
built with `model_construct`, field by field, making the conversions validation would
make and nothing else: an instant to England's time at the millisecond (the
`Timestamp` type's own function), an enum's value to its member, a nested record to
its model, an event of a union to its class by the union's discriminator.

What is skipped must only ever be checks. So a plan is made once per model, from its
fields' annotations and validators, and every validator must be one this module
knows: a check (a valid value passes unchanged, so skipping it changes nothing for a
record that was valid when written) or a conversion (applied here too). A validator it
does not know stops the codec from being built (`ConfigurationError`) until someone
says which of the two it is; tests/unit/test_codec_trusted.py proves the built models
equal to validated ones for every event kind and every kind of child message.

A record without the shape its plan expects (a field missing, a value of another type,
an enum value unknown: a schema that drifted from the models) raises `Untrusted`, and
the codec validates that record as it validates any other: it is then refused as
invalid, or accepted, never built wrong and never lost.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, cast

import annotated_types
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    PlainSerializer,
    Strict,
)
from pydantic import StringConstraints as Constraints
from pydantic.fields import FieldInfo

from broker.codec.construct import (
    Convert,
    Exactly,
    Member,
    ModelPlan,
    Untrusted,
    dict_of,
    list_of,
    one_of,
    or_none,
    same,
    then,
)
from broker.errors import ConfigurationError

__all__ = ["CHECKS", "CONVERSIONS", "ModelPlan", "Planner", "Untrusted"]

CHECKS: Final = frozenset(
    {
        "broker.models.text._one_line",
        "broker.models.text._text",
        "broker.models.text._name",
        "broker.models.text._strict_date",
        "broker.models.text.not_blank",
        "broker.models.text.strict_instant",
        "broker.models.events.EventBase._check_domain",
        # normalisers whose output they leave unchanged: a validated value is normal
        "broker.models.common.Subject._nhs_number",
        "broker.models.common.Subject._upn",
    }
)
"""Validators that return a valid value unchanged: skipped."""

CONVERSIONS: Final = frozenset({"broker.models.common._to_millis"})
"""Validators (after the type's own) that change a valid value: applied."""

_TRANSFORMING_CONFIG: Final = ("str_strip_whitespace", "str_to_lower", "str_to_upper")
_EXACT_TYPES: Final = (str, bool, int, bytes, date)


def _name_of(func: Any) -> str:
    func = getattr(func, "__func__", func)
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _unknown(what: str, where: str) -> ConfigurationError:
    return ConfigurationError(
        f"the trusted decode does not know {what} (on {where}): add it to "
        "broker.codec.trusted's CHECKS or CONVERSIONS, or handle its type"
    )


class Planner:
    """Makes (once) and keeps the plan of each model it is asked for."""

    def __init__(self) -> None:
        self.plans: dict[type[BaseModel], ModelPlan] = {}

    def plan(self, cls: type[BaseModel]) -> ModelPlan:
        if cls in self.plans:
            return self.plans[cls]
        plan = self.plans[cls] = ModelPlan(cls)  # first: a model may refer to itself
        config = cls.model_config
        changing = any(config.get(key) for key in _TRANSFORMING_CONFIG)
        if changing or config.get("use_enum_values") or config.get("extra") == "allow":
            raise _unknown("a model configuration that changes values", cls.__name__)
        decorators = cls.__pydantic_decorators__
        for kind in ("field_validators", "model_validators", "validators", "root_validators"):
            for decorator in getattr(decorators, kind).values():
                if _name_of(decorator.func) not in CHECKS:
                    raise _unknown(f"validator {_name_of(decorator.func)}", cls.__name__)
        for name, field in cls.model_fields.items():
            where = f"{cls.__name__}.{name}"
            convert = self._annotated(field.annotation, field.metadata, field.discriminator, where)
            plan.fields.append((name, convert, field.is_required()))
        plan.compile()
        return plan

    def _annotated(
        self, base: Any, metadata: Iterable[Any], discriminator: Any, where: str
    ) -> Convert:
        """The conversion of `Annotated[base, *metadata]`: the base type's, then each
        converting validator in order."""
        after: list[Convert] = []
        for item in metadata:
            if isinstance(item, FieldInfo):
                discriminator = item.discriminator or discriminator
                self._annotated(None, item.metadata, None, where)  # its constraints: checks
            elif isinstance(item, AfterValidator | BeforeValidator):
                name = _name_of(item.func)
                if isinstance(item, AfterValidator) and name in CONVERSIONS:
                    after.append(cast(Convert, item.func))  # one argument: checked by name
                elif name not in CHECKS:
                    raise _unknown(f"validator {name}", where)
            elif isinstance(item, Constraints):
                if item.strip_whitespace or item.to_upper or item.to_lower:
                    raise _unknown("string constraints that change the text", where)
            elif not isinstance(item, annotated_types.BaseMetadata | Strict | PlainSerializer):
                raise _unknown(f"annotation {item!r}", where)
        convert = self._type(base, discriminator, where) if base is not None else same
        return then(convert, after) if after else convert

    def _type(self, tp: Any, discriminator: Any, where: str) -> Convert:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is Annotated:
            return self._annotated(tp.__origin__, tp.__metadata__, discriminator, where)
        if origin in (typing.Union, types.UnionType):
            return self._union(args, discriminator, where)
        if origin in (list, dict):
            parts = [self._type(arg, None, where) for arg in args]
            return list_of(*parts) if origin is list else dict_of(*parts)
        if origin is Literal:
            return one_of(args)
        return self._plain(tp, where)

    def _plain(self, tp: Any, where: str) -> Convert:
        if tp is Any:
            return same
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return self.plan(tp)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return Member(tp)
        if tp is AwareDatetime or tp is datetime:
            return Exactly(datetime, aware=True)
        if tp in _EXACT_TYPES:
            return Exactly(tp)
        raise _unknown(f"type {tp!r}", where)

    def _union(self, args: tuple[Any, ...], discriminator: Any, where: str) -> Convert:
        branches = [a for a in args if a is not type(None)]
        nullable = len(branches) < len(args)
        if len(branches) == 1:
            convert = self._type(branches[0], discriminator, where)
        elif isinstance(discriminator, str):
            convert = self._tagged(branches, discriminator, where)
        else:
            raise _unknown("a union without a discriminator", where)
        return or_none(convert) if nullable else convert

    def _tagged(self, branches: list[Any], tag: str, where: str) -> Convert:
        plans: dict[Any, ModelPlan] = {}
        for branch in branches:
            if not (isinstance(branch, type) and issubclass(branch, BaseModel)):
                raise _unknown(f"a tagged union of {branch!r}", where)
            for value in typing.get_args(branch.model_fields[tag].annotation):
                plans[value] = self.plan(branch)
        classes = tuple({id(p.cls): p.cls for p in plans.values()}.values())

        def tagged(value: Any) -> Any:
            if isinstance(value, classes):
                return value
            tagged_as = value.get(tag) if isinstance(value, dict) else None
            plan = plans.get(tagged_as) if isinstance(tagged_as, str) else None
            if plan is None:
                raise Untrusted(f"{where} names no known {tag}")
            return plan(value)

        return tagged
