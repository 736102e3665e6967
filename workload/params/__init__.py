"""Model parameters as data: every number the model uses, with its unit and where it comes from.

Parameters live in YAML files beside this module (``wmt.yaml``, ``needs.yaml``, ``costs.yaml``...), in the
way OpenFisca and PolicyEngine keep policy parameters. A file is a tree of nodes; a *leaf* is a mapping
with a ``value`` key and its metadata::

    nominal_target:
      description: Points a practitioner at default hours is expected to carry
      unit: points
      source: hmpps-workload V1_1__SEED_REF_DATA.sql (seed value; live values are set by an administrator)
      effective_from: 2021-04-01
      value: {PO: 2176, PSO: 2176, PQiP: 2176, SPO: 2176}

``value`` is a number, a string or a boolean, or a flat table (mapping of names to numbers). Every leaf has a
``unit`` and either a ``source`` or an ``assumption`` (the reasoning, for numbers that are judgement).

A scenario's ``[parameters]`` table overrides leaves, or single entries of a table leaf, by dotted path
(``needs.hours_per_severity.drugs = 14``). Overrides are checked before anything is applied: an unknown
path is an error that names the nearest real one, and a value must keep its type (number for number).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterator, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

PARAMETER_FILES = ("wmt", "needs", "allocation", "costs", "outcomes", "synth")
"""The parameter files, by top-level name; each is ``<name>.yaml`` in this package (missing ones are skipped)."""

Scalar = float | int | str | bool


class ParameterError(ValueError):
    """A parameter file or an override is wrong; the message names the path and what is allowed."""


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

    @model_validator(mode="after")
    def _sourced(self) -> "ParameterLeaf":
        if not (self.source or self.assumption):
            raise ValueError("needs a 'source' or an 'assumption' (the reasoning behind the number)")
        return self


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: ~10x faster
    """YAML loader that refuses duplicate keys, which plain YAML silently lets the last one win."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise ParameterError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} of {node.start_mark.name}"
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _walk(node: Mapping[str, Any], prefix: str, origin: str) -> Iterator[tuple[str, ParameterLeaf]]:
    for key, child in node.items():
        if key == "description":
            continue
        path = f"{prefix}.{key}"
        if not isinstance(child, Mapping):
            raise ParameterError(f"{origin}: {path} is neither a parameter (with 'value') nor a group")
        if "value" in child:
            try:
                yield path, ParameterLeaf.model_validate(child)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'leaf'}: {e['msg']}" for e in exc.errors()
                )
                raise ParameterError(f"{origin}: parameter {path}: {problems}") from None
        else:
            yield from _walk(child, path, origin)


def _read_file(name: str) -> dict[str, ParameterLeaf]:
    ref = resources.files(__package__).joinpath(f"{name}.yaml")
    if not ref.is_file():
        return {}
    text = ref.read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_UniqueKeyLoader) or {}
    if not isinstance(data, Mapping):
        raise ParameterError(f"{name}.yaml: the top level must be a mapping of parameters")
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
            raise ParameterError(f"parameter {path} is a single value, not a table")
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

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Parameters":
        """A copy with ``overrides`` (dotted path -> value) applied; all are checked before any is applied."""
        flat_overrides = flatten_overrides(overrides)
        problems: list[str] = []
        known = self.paths()
        for path, new in flat_overrides.items():
            try:
                old = self[path]
            except KeyError:
                problems.append(_unknown_path_message(path, known))
                continue
            problem = _type_problem(path, old, new)
            if problem:
                problems.append(problem)
        if problems:
            raise ParameterError("; ".join(problems))
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
    whole; the caller then checks each path against the parameter tree.
    """
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_overrides(value, f"{path}."))
        else:
            out[path] = value
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_problem(path: str, old: Any, new: Any) -> str | None:
    if isinstance(old, dict):
        return f"parameter {path} is a table; override its entries one by one, e.g. {path}.{next(iter(old))}"
    if _is_number(old):
        if not _is_number(new):
            return f"parameter {path} must be a number (the default is {old}); found {new!r}"
        if new != new or new in (float("inf"), float("-inf")):
            return f"parameter {path} must be a finite number; found {new!r}"
        return None
    if isinstance(old, bool) and not isinstance(new, bool):
        return f"parameter {path} must be true or false; found {new!r}"
    if isinstance(old, str) and not isinstance(new, str):
        return f"parameter {path} must be text; found {new!r}"
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
