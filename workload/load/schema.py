"""What each column may hold, read off the pydantic row models in :mod:`workload.scenario`.

The models stay the single definition of the format: a column's kind, enum, bounds, length and pattern come
from its field's annotation, so the loader, the docs and the JSON Schema never disagree.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel

from workload.scenario import PractitionerRecord, RowLabel

KINDS = ("text", "int", "float", "enum", "intenum", "list")
"""The kinds of column; :data:`workload.load.converters.CONVERTERS` has a converter for each."""


@dataclass(frozen=True)
class ColumnRule:
    """What one column may hold, derived from a model field."""

    name: str
    kind: str  # one of KINDS
    required: bool
    default: Any
    enum: type[Enum] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    item_rule: ColumnRule | None = None
    description: str = ""
    row_label: bool = False
    """The values label rows of published tables, so reserved labels ("Total"...) are refused."""

    def allowed(self) -> str:
        """Plain-words description of what the column allows, for error messages and docs."""
        if self.enum is not None and self.kind in ("enum", "intenum"):
            values = ", ".join(str(e.value) for e in self.enum)
            extra = " (true/false and yes/no also accepted)" if is_flag(self.enum) else ""
            return f"one of {values}{extra}"
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            bounds = []
            if self.ge is not None:
                bounds.append(f"at least {number_text(self.ge)}")
            if self.gt is not None:
                bounds.append(f"more than {number_text(self.gt)}")
            if self.le is not None:
                bounds.append(f"at most {number_text(self.le)}")
            if self.lt is not None:
                bounds.append(f"less than {number_text(self.lt)}")
            return noun + (" " + " and ".join(bounds) if bounds else "")
        if self.kind == "list":
            assert self.item_rule is not None
            return f"a ';'-separated list, each {self.item_rule.allowed()}"
        if self.pattern:
            return "an identifier of letters, digits, '_', '.' or '-' (no spaces), at most 64 characters"
        if self.max_len:
            return f"text of at most {self.max_len} characters"
        return "text"


def number_text(x: float) -> str:
    """A bound or a value as a message writes it: 37, not 37.0."""
    return str(int(x)) if float(x).is_integer() else str(x)


def is_flag(enum: type[Enum] | None) -> bool:
    """Whether an enum is a 0/1 flag (which also accepts true/false and yes/no)."""
    return enum is not None and issubclass(enum, IntEnum) and {e.value for e in enum} == {0, 1}


def normal_name(name: str) -> str:
    """A name lower-cased with '_' between words (how a near-miss column or category is matched)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _rule_from(
    name: str, annotation: Any, metadata: list[Any], required: bool, default: Any, description: str
) -> ColumnRule:
    origin = typing.get_origin(annotation)
    # Optional[X] / X | None
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _rule_from(name, args[0], metadata, required, default, description)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        more = [m for e in extras for m in getattr(e, "metadata", [e])]
        return _rule_from(name, base, [*metadata, *more], required, default, description)
    if origin is list:
        (item,) = typing.get_args(annotation)
        item_rule = _rule_from(name, item, [], True, None, "")
        kw = _bounds(metadata)
        return ColumnRule(
            name, "list", required, default, item_rule=item_rule, min_len=kw.get("min_len"), description=description
        )
    kw = _bounds(metadata)
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return ColumnRule(name, "intenum", required, default, enum=annotation, description=description, **kw)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ColumnRule(name, "enum", required, default, enum=annotation, description=description, **kw)
    if annotation is int:
        return ColumnRule(name, "int", required, default, description=description, **kw)
    if annotation is float:
        return ColumnRule(name, "float", required, default, description=description, **kw)
    return ColumnRule(name, "text", required, default, description=description, **kw)


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, Ge):
            kw["ge"] = m.ge
        elif isinstance(m, Gt):
            kw["gt"] = m.gt
        elif isinstance(m, Le):
            kw["le"] = m.le
        elif isinstance(m, Lt):
            kw["lt"] = m.lt
        elif isinstance(m, MinLen):
            kw["min_len"] = m.min_length
        elif isinstance(m, MaxLen):
            kw["max_len"] = m.max_length
        elif isinstance(m, RowLabel):
            kw["row_label"] = True
        elif getattr(m, "pattern", None):
            kw["pattern"] = m.pattern
    return kw


def column_rules(model: type[BaseModel]) -> list[ColumnRule]:
    """The rule for every column of a table, in the model's field order."""
    rules = []
    for name, info in model.model_fields.items():
        default = None
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
        rules.append(
            _rule_from(name, info.annotation, list(info.metadata), info.is_required(), default, info.description or "")
        )
    return rules


@dataclass(frozen=True)
class NotMoreThan:
    """A rule across two columns of one row: ``column`` must not exceed ``limit``."""

    model: type[BaseModel]
    column: str
    limit: str
    why: str


ROW_RULES: tuple[NotMoreThan, ...] = (
    NotMoreThan(
        PractitionerRecord,
        "reduction_hours_per_week",
        "contracted_hours_per_week",
        "reductions come out of contracted hours",
    ),
)
"""Rules across the columns of one row, checked where both cells are otherwise valid."""
