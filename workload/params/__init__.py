"""Model parameters as data: every number the model uses, with its unit and where it comes from.

Parameters live in YAML files beside this module (``wmt.yaml``, ``needs.yaml``, ``costs.yaml``...), in the
way OpenFisca and PolicyEngine keep policy parameters. A file is a tree of nodes; a *leaf* is a mapping
with a ``value`` key and its metadata::

    nominal_target:
      description: Points a practitioner at default hours is expected to carry
      unit: points
      source: docs/sources.md#hmpps-workload (V1_1__SEED_REF_DATA.sql seed; live values set by an administrator)
      effective_from: 2021-04-01
      value: {PO: 2176, PSO: 2176, PQiP: 2176, SPO: 2176}

``value`` is a number, a string or a boolean, or a flat table (mapping of names to numbers). Every leaf has a
``unit`` and either a ``source`` (an entry of docs/sources.md, cited as ``docs/sources.md#<entry>`` with the
part of it used, or a public address) or an ``assumption`` (the reasoning, for numbers that are judgement).

Every number declares the values it may take, so that an override outside them is refused before a run:

- ``range``: an interval in the usual notation, quoted: ``"[0, 1]"`` (0 to 1, both included), ``"[0, inf)"``
  (0 or more), ``"(0, inf)"`` (above 0: a divisor), ``"(-inf, inf)"`` (any finite number). A square bracket
  includes its end, a round one excludes it; an infinite end is always round. A table leaf gives one range
  for all its entries, or a mapping of entry to range when they differ (``{PO: "(0, 168]", SPO: "[0, 168]"}``).
- ``integer: true``: whole numbers only (WMT points, decimal places, counts).
- ``allowed``: for text, the list of values it may take; text without ``allowed`` is free text, which may
  hold no control character and may not start like a spreadsheet formula (``=``, ``+``, ``-``, ``@``).

Every default lies in its range (checked when the files are read, and by a test).

A scenario's ``[parameters]`` table overrides leaves, or single entries of a table leaf, by dotted path
(``needs.hours_per_severity.drugs = 14``). Overrides are checked before anything is applied: an unknown
path is an error that names the nearest real one, a value must keep its type (number for number), and it
must lie in the parameter's range (or be one of its allowed values). Every problem is reported at once.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from workload.errors import FORMAT_CHARACTERS, Problem

PARAMETER_FILES = ("wmt", "tier", "needs", "allocation", "costs", "outcomes", "plan", "synth", "simulate")
"""The parameter files, by top-level name; each is ``<name>.yaml`` in this package (missing ones are skipped)."""

Scalar = float | int | str | bool


PARAMETER_PROBLEM = "parameter.invalid"
"""The code of a parameter problem given as plain text (a rule checked where the parameter is used)."""


def problem_text(problem: Problem) -> str:
    """A parameter problem as text: ``wmt.yaml: <message>`` for a problem in a parameter file, the message alone
    for one with an override (whose file, scenario.toml or a sweep, the caller names)."""
    return f"{problem.file}: {problem.message}" if problem.file else problem.message


class ParameterError(ValueError):
    """A parameter file or an override is wrong; the message names the path and what is allowed.

    ``problems`` lists each problem on its own as a :class:`workload.errors.Problem` (several bad overrides are
    reported at once): its ``code`` (``parameter.unknown``, ``parameter.out_of_range``...), the parameter's
    dotted path as its ``key``, and its ``file`` when the problem is in a parameter file (else ""); plain text
    is accepted too (code ``parameter.invalid``). ``messages`` gives each as text and ``str()`` joins them with
    "; ".
    """

    def __init__(self, problems: str | Problem | Sequence[str | Problem]):
        items = [problems] if isinstance(problems, (str, Problem)) else list(problems)
        self.problems = [p if isinstance(p, Problem) else Problem("", p, code=PARAMETER_PROBLEM) for p in items]
        super().__init__("; ".join(self.messages))

    @property
    def messages(self) -> list[str]:
        """Each problem as text (see :func:`problem_text`)."""
        return [problem_text(p) for p in self.problems]


FORMULA_START = ("=", "+", "-", "@")
"""Free text starting with one of these (and more after it) is refused, as in scenario tables: a spreadsheet
would run it as a formula when a result holding it is opened."""

CONTROL_CHARACTERS = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{FORMAT_CHARACTERS}]")
"""Tabs, line breaks and other control characters, and invisible format characters (zero-width spaces, bidi
overrides: :data:`workload.errors.FORMAT_CHARACTERS`): refused in free text."""

_END = r"\s*([-+]?inf|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_RANGE = re.compile(rf"\s*([\[(]){_END},{_END}([\])])\s*")


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Range:
    """The values a number may take: an interval, each end included (``[``, ``]``) or not (``(``, ``)``)."""

    low: float
    high: float
    low_open: bool
    high_open: bool

    @property
    def notation(self) -> str:
        """The interval as written in the parameter files, e.g. ``[0, inf)``."""
        low = "-inf" if self.low == -math.inf else _number_text(self.low)
        high = "inf" if self.high == math.inf else _number_text(self.high)
        return f"{'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"

    def describe(self) -> str:
        """The interval in words, e.g. "0 or more", "above 0", "from 0 to 1"."""
        low, high = _number_text(self.low), _number_text(self.high)
        lower = None if self.low == -math.inf else (f"above {low}" if self.low_open else f"{low} or more")
        upper = None if self.high == math.inf else (f"below {high}" if self.high_open else f"at most {high}")
        if lower is None and upper is None:
            return "any finite number"
        if lower is None or upper is None:
            return lower or upper  # type: ignore[return-value]
        if not self.low_open and not self.high_open:
            return f"from {low} to {high}"
        return f"{lower} and {upper}"

    def contains(self, value: float) -> bool:
        """True when ``value`` (a finite number) lies in the interval."""
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return bool(above and below)

    def outside(self, values: np.ndarray) -> np.ndarray:
        """Booleans, vectorised: which ``values`` lie outside the interval (NaN and infinities always do)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            above = values > self.low if self.low_open else values >= self.low
            below = values < self.high if self.high_open else values <= self.high
        return ~(above & below & np.isfinite(values))


@functools.cache
def parse_range(text: str) -> Range:
    """A ``range`` as written in a parameter file (``"[0, 1]"``, ``"(0, inf)"``...).

    Raises ValueError saying what is wrong with the notation.
    """
    match = _RANGE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f'range {text!r} is not an interval; write it as "[low, high]", with ( or ) for an end that is '
            'not included and inf for no limit, e.g. "[0, 1]", "[0, inf)" or "(0, inf)"'
        )
    opening, low_text, high_text, closing = match.groups()
    low, high = float(low_text), float(high_text)
    if low == math.inf or high == -math.inf:
        raise ValueError(f"range {text!r}: the low end must be below the high end")
    if (low == -math.inf and opening == "[") or (high == math.inf and closing == "]"):
        raise ValueError(f"range {text!r}: an infinite end is never included; write ( or ) beside inf")
    if not low < high:
        raise ValueError(f"range {text!r}: the low end must be below the high end")
    return Range(low, high, opening == "(", closing == ")")


class ParameterLeaf(BaseModel):
    """One parameter: its value and the metadata a reader needs to trust or revisit it."""

    model_config = ConfigDict(extra="forbid")

    description: str
    unit: str
    value: Scalar | dict[str, Scalar]
    source: str | None = None
    assumption: str | None = None
    effective_from: dt.date | None = None
    seed: bool = False
    """True for seed values that an administrator replaces with live values (the WMT weights)."""
    range: str | dict[str, str] | None = None
    """The interval a number must lie in (``"[0, 1]"``), or one per entry of a table; every number has one."""
    integer: bool = False
    """True when only whole numbers are allowed (points, decimal places, counts)."""
    allowed: list[str] | None = None
    """For text: the values it may take (without it, free text)."""

    @model_validator(mode="after")
    def _sourced(self) -> ParameterLeaf:
        if not (self.source or self.assumption):
            raise ValueError("needs a 'source' or an 'assumption' (the reasoning behind the number)")
        return self

    @model_validator(mode="after")
    def _bounded(self) -> ParameterLeaf:
        entries: dict[Any, Scalar] = dict(self.value) if isinstance(self.value, dict) else {None: self.value}
        numbers = [k for k, v in entries.items() if _is_number(v)]
        texts = [k for k, v in entries.items() if isinstance(v, str)]
        if numbers and self.range is None:
            raise ValueError('a number needs a \'range\', the values it may take, e.g. range: "[0, 1]" or "[0, inf)"')
        if self.range is not None and not numbers:
            raise ValueError("'range' is for numbers; give text its values in 'allowed'")
        if self.integer and not numbers:
            raise ValueError("'integer' is for numbers")
        if self.allowed is not None and not texts:
            raise ValueError("'allowed' is for text; give a number its 'range'")
        if isinstance(self.range, dict) and (not isinstance(self.value, dict) or set(self.range) != set(numbers)):
            raise ValueError(
                f"a range per entry must name each entry of the table exactly once ({', '.join(map(str, numbers))})"
            )
        for key in numbers:
            self.range_of(key)  # raises ValueError on a range that is not an interval
        for key in numbers + texts:
            problem = self.value_problem(key, entries[key])
            if problem:
                raise ValueError(f"the default{'' if key is None else f' of {key}'} is not allowed: {problem}")
        return self

    def range_of(self, key: str | None = None) -> Range | None:
        """The range of the leaf's value, or of entry ``key`` of a table leaf (None for text)."""
        if self.range is None:
            return None
        if isinstance(self.range, dict):
            text = None if key is None else self.range.get(key)
        else:
            text = self.range
        return None if text is None else parse_range(text)

    def allowed_text(self, key: str | None = None) -> str:
        """What the leaf (or entry ``key``) may take, in words, e.g. "from 0 to 1, range [0, 1]"."""
        rng = self.range_of(key)
        if rng is not None:
            whole = "a whole number " if self.integer else ""
            return f"{whole}{rng.describe()}, range {rng.notation}"
        if self.allowed is not None:
            return "one of " + ", ".join(self.allowed)
        return "free text"

    def value_problem(self, key: str | None, value: Any) -> str | None:
        """Why ``value`` cannot be the leaf's value (or entry ``key``'s), or None: its range, whole numbers, its
        allowed values, or the free-text rules. The type is checked first by the caller."""
        found = self.value_check(key, value)
        return None if found is None else found[1]

    def value_check(self, key: str | None, value: Any) -> tuple[str, str] | None:
        """Like :meth:`value_problem`, with the problem's code: ``(code, message)``, or None."""
        if _is_number(value):
            rng = self.range_of(key)
            outside = rng is not None and not (math.isfinite(value) and rng.contains(value))
            if outside or (self.integer and not float(value).is_integer()):
                return "parameter.out_of_range", f"must be {self.allowed_text(key)}; found {value!r}"
            return None
        if isinstance(value, str):
            if self.allowed is not None:
                if value not in self.allowed:
                    return "parameter.not_allowed", f"must be {self.allowed_text(key)}; found {value!r}"
                return None
            if CONTROL_CHARACTERS.search(value):
                return (
                    "parameter.control_character",
                    f"has a control character (a tab, line break or similar) in it; found {value!r}",
                )
            if len(value) > 1 and value.startswith(FORMULA_START):
                return (
                    "parameter.formula",
                    (
                        f"starts with {value[0]!r}, so a spreadsheet would run it as a formula when the results are "
                        f"opened; found {value!r}"
                    ),
                )
        return None


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


class _UniqueKeyLoader(_SafeLoader):
    """YAML loader that refuses duplicate keys, which plain YAML silently lets the last one win."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            message = f"duplicate key {key!r} at line {key_node.start_mark.line + 1} of {node.start_mark.name}"
            raise ParameterError(Problem("", message, code="parameter.file"))
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _walk(node: Mapping[str, Any], prefix: str, origin: str) -> Iterator[tuple[str, ParameterLeaf]]:
    for key, child in node.items():
        if key == "description":
            continue
        path = f"{prefix}.{key}"
        if not isinstance(child, Mapping):
            message = f"{path} is neither a parameter (with 'value') nor a group"
            raise ParameterError(Problem(origin, message, code="parameter.file", key=path))
        if "value" in child:
            try:
                yield path, ParameterLeaf.model_validate(child)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'leaf'}: {e['msg']}" for e in exc.errors()
                )
                message = f"parameter {path}: {problems}"
                raise ParameterError(Problem(origin, message, code="parameter.file", key=path)) from None
        else:
            yield from _walk(child, path, origin)


def _read_file(name: str) -> dict[str, ParameterLeaf]:
    ref = resources.files(__package__).joinpath(f"{name}.yaml")
    if not ref.is_file():
        return {}
    text = ref.read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_UniqueKeyLoader) or {}
    if not isinstance(data, Mapping):
        raise ParameterError(
            Problem(f"{name}.yaml", "the top level must be a mapping of parameters", code="parameter.file")
        )
    return dict(_walk(data, name, f"{name}.yaml"))


@dataclass(frozen=True)
class Parameters:
    """All parameters after overrides: ``params["wmt.nominal_target"]`` gives a leaf's value.

    ``leaves`` keeps the metadata (unit, source) for docs and reports; ``overridden`` lists the dotted
    paths a scenario changed, so a report can say which numbers are not the defaults.
    """

    leaves: dict[str, ParameterLeaf]
    overridden: tuple[str, ...] = field(default=())

    def __getitem__(self, path: str) -> Any:
        if path in self.leaves:
            return self.leaves[path].value
        parent, _, key = path.rpartition(".")
        leaf = self.leaves.get(parent)
        if leaf is not None and isinstance(leaf.value, dict) and key in leaf.value:
            return leaf.value[key]
        raise KeyError(_unknown_path_message(path, self.paths()))

    def table(self, path: str) -> dict[str, Scalar]:
        """A table-valued leaf as a dict (raises if the leaf is a scalar)."""
        value = self[path]
        if not isinstance(value, dict):
            raise ParameterError(
                Problem("", f"parameter {path} is a single value, not a table", code="parameter.not_a_table", key=path)
            )
        return dict(value)

    def paths(self) -> list[str]:
        """Every path an override may name: the leaves and each entry of a table leaf."""
        out: list[str] = []
        for path, leaf in self.leaves.items():
            out.append(path)
            if isinstance(leaf.value, dict):
                out.extend(f"{path}.{k}" for k in leaf.value)
        return out

    def flat(self) -> dict[str, Scalar]:
        """Every scalar value by dotted path (table entries expanded), for summaries and sweeps."""
        out: dict[str, Scalar] = {}
        for path, leaf in self.leaves.items():
            if isinstance(leaf.value, dict):
                out.update({f"{path}.{k}": v for k, v in leaf.value.items()})
            else:
                out[path] = leaf.value
        return out

    def leaf_of(self, path: str) -> tuple[ParameterLeaf, str | None]:
        """The leaf holding ``path`` and the entry's key (None when ``path`` is the leaf itself)."""
        if path in self.leaves:
            return self.leaves[path], None
        parent, _, key = path.rpartition(".")
        leaf = self.leaves.get(parent)
        if leaf is not None and isinstance(leaf.value, dict) and key in leaf.value:
            return leaf, key
        raise KeyError(_unknown_path_message(path, self.paths()))

    def value_problem(self, path: str, value: Any) -> str | None:
        """Why ``value`` (of the right type) cannot be parameter ``path``: outside its range, not a whole number,
        not one of its allowed values, or free text breaking the rules. None when it is allowed."""
        found = self.value_check(path, value)
        return None if found is None else found.message

    def value_check(self, path: str, value: Any) -> Problem | None:
        """Like :meth:`value_problem`, as a problem with its code (file "", key ``path``), or None."""
        leaf, key = self.leaf_of(path)
        if isinstance(leaf.value, dict) and key is None:
            return None  # a whole table: refused by the type check
        found = leaf.value_check(key, value)
        return None if found is None else Problem("", f"parameter {path} {found[1]}", code=found[0], key=path)

    def values_problem(self, path: str, values: Sequence[float] | np.ndarray, what: str = "values") -> str | None:
        """Like :meth:`value_problem` for many numbers at once (vectorised), e.g. every Monte Carlo draw of a
        parameter: how many lie outside its range (or are not whole numbers), and the lowest and highest found."""
        leaf, key = self.leaf_of(path)
        rng = leaf.range_of(key)
        if rng is None:
            return None
        array = np.asarray(values, dtype=float).ravel()
        bad = rng.outside(array)
        if leaf.integer:
            with np.errstate(invalid="ignore"):
                bad |= np.isfinite(array) & (array != np.round(array))
        if not bad.any():
            return None
        finite = array[np.isfinite(array)]
        spread = f" (found {finite.min():.6g} to {finite.max():.6g})" if len(finite) else ""
        return (
            f"{int(bad.sum())} of {len(array)} {what} of parameter {path} are not "
            f"{'a whole number ' if leaf.integer else ''}{rng.describe()}, its range {rng.notation}{spread}"
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Parameters:
        """A copy with ``overrides`` (dotted path -> value) applied; all are checked before any is applied."""
        flat_overrides = flatten_overrides(overrides)
        problems: list[Problem] = []
        known = self.paths()
        for path, new in flat_overrides.items():
            try:
                old = self[path]
            except KeyError:
                problems.append(Problem("", _unknown_path_message(path, known), code="parameter.unknown", key=path))
                continue
            problem = _type_problem(path, old, new) or self.value_check(path, new)
            if problem:
                problems.append(problem)
        if problems:
            raise ParameterError(problems)
        leaves = {p: leaf.model_copy(deep=True) for p, leaf in self.leaves.items()}
        for path, new in flat_overrides.items():
            if path in leaves:
                leaves[path] = leaves[path].model_copy(update={"value": copy.deepcopy(new)})
            else:
                parent, _, key = path.rpartition(".")
                table = dict(leaves[parent].value)  # type: ignore[arg-type]
                table[key] = new
                leaves[parent] = leaves[parent].model_copy(update={"value": table})
        return Parameters(leaves, tuple(sorted(set(self.overridden) | set(flat_overrides))))


def flatten_overrides(overrides: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Turn TOML's nested tables (``[parameters.needs]`` / dotted keys) into dotted paths.

    A nested mapping is descended into unless its path is itself a table-valued leaf being replaced
    whole; the caller then checks each path against the parameter tree. A path given twice (a quoted dotted
    key ``"costs.x.PO" = 30`` and a table ``[parameters.costs.x]`` with ``PO = 40``) is refused, naming both
    values, rather than one silently winning (:class:`ParameterError`, code ``parameter.duplicate``).
    """
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    _flatten(overrides, prefix, out, problems)
    if problems:
        raise ParameterError(problems)
    return out


def _flatten(overrides: Mapping[str, Any], prefix: str, out: dict[str, Any], problems: list[Problem]) -> None:
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{path}.", out, problems)
        elif path in out:
            message = (
                f"parameter {path} is given twice, as {out[path]!r} and as {value!r} (a dotted key and a table "
                f"naming the same parameter?); give it once"
            )
            problems.append(Problem("", message, code="parameter.duplicate", key=path))
        else:
            out[path] = value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_problem(path: str, old: Any, new: Any) -> Problem | None:
    """Why an override cannot replace ``old``: a whole table, or a value of another type (or not finite)."""

    def problem(code: str, message: str) -> Problem:
        return Problem("", f"parameter {path} {message}", code=code, key=path)

    if isinstance(old, dict):
        return problem("parameter.table", f"is a table; override its entries one by one, e.g. {path}.{next(iter(old))}")
    if _is_number(old):
        if not _is_number(new):
            return problem("parameter.wrong_type", f"must be a number (the default is {old}); found {new!r}")
        if isinstance(new, float) and not math.isfinite(new):
            return problem("parameter.not_finite", f"must be a finite number; found {new!r}")
        return None
    if isinstance(old, bool) and not isinstance(new, bool):
        return problem("parameter.wrong_type", f"must be true or false; found {new!r}")
    if isinstance(old, str) and not isinstance(new, str):
        return problem("parameter.wrong_type", f"must be text; found {new!r}")
    return None


def _unknown_path_message(path: str, known: list[str]) -> str:
    close = difflib.get_close_matches(path, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{path} is not a parameter{hint} (docs/parameters.md lists them all)"


def load_parameters(overrides: Mapping[str, Any] | None = None) -> Parameters:
    """The default parameters from the package's YAML files, with ``overrides`` applied."""
    leaves: dict[str, ParameterLeaf] = {}
    for name in PARAMETER_FILES:
        leaves.update(_read_file(name))
    params = Parameters(leaves)
    return params.with_overrides(overrides) if overrides else params
