"""Sweeps: many variants of one scenario, each PDU of each variant run as an independent task.

A *sweep file* (TOML, docs/sweep.md) names a grid of policy and parameter values and, optionally, parameters
drawn from distributions. The *variants* are the grid's Cartesian product (first key varying slowest), each
repeated for ``--draws N`` Monte Carlo draws. A *task* is one (variant, PDU): the PDU's cases, practitioners
and the partners serving it, under the variant's settings, run through :func:`workload.pipeline.run_scenario`
on one worker. Tasks go through a ``concurrent.futures`` executor: a local process pool by default, or Dask
distributed's executor (``--scheduler tcp://host:port``, or ``--scheduler local`` for a LocalCluster) with
the same submit / as_completed code.

Results do not depend on scheduling: a task is a pure function of (scenario files, variant settings, PDU);
draws come from ``numpy.random.default_rng([base seed, crc32(key)])``, never from a worker's state; the
parent process writes every finished task to ``<out>/tasks/<variant>__<pdu>.csv`` (temp file then
``os.replace``) and combines them, sorted, into ``results.csv``. A sweep killed half way restarts where it
stopped: finished task files are kept and skipped. ``sweep.json`` holds a fingerprint of the scenario files
and the sweep plan, so a folder holding another sweep is refused rather than mixed.

PDUs are solved apart in ``workload run`` too, so the per-PDU tasks reproduce the whole run: the two things
shared between PDUs are apportioned exactly as the allocator does (:func:`workload.allocate.model.pdu_inputs`):
a partner serving several PDUs brings to each the share of its contract hours in proportion to the hours of
need it could deliver there, and a budget cap is split in proportion to needs-scored required hours. Two
policies are not separable this way and are documented as per-PDU in a sweep: budget-neutral scoring is
neutral within each PDU, and the WMT-scored LP cell gets the needs-scored budget share.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import difflib
import hashlib
import io
import itertools
import json
import math
import os
import re
import secrets
import shutil
import sys
import time
import tomllib
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TextIO

import numpy as np
import pandas as pd
from pydantic import ValidationError

from workload import __version__
from workload.load import Scenario, ScenarioError, load_scenario, resolve_table_path
from workload.disclosure import CONTRIBUTOR_PREFIX, CONTRIBUTORS, SMALL_PDUS, is_small
from workload.outcomes import BASELINE, CELLS, REFORM, TOTAL
from workload.params import ParameterError, flatten_overrides
from workload.output import TMP_MARK, OutputError, guard_location, remove_stale_temporaries
from workload.safety import escape_formulas, regular_file_problem
from workload.scenario import ALL_PDUS_LABEL
from workload.scenario import Policy
from workload.workers import spawn_pool
from workload.workers import restore_environ as _restore_environ

# ----------------------------------------------------------------------------------------------------------
# metrics

CELL_FIGURES: tuple[str, ...] = (
    "cases", "required_hours", "afforded_hours", "partner_hours", "unmet_hours", "excess_hours", "coverage",
    "moved", "staff_cost", "partner_cost", "reoffending_cost", "children_cost", "whole_life_cost",
)
"""Figures of each cell of the comparison, as in ``summary.json``'s ``cells``; all add up over PDUs but coverage."""

GROUPS: dict[str, tuple[str, str]] = {
    "women": ("sex", "female"),
    "men": ("sex", "male"),
    "low_risk_complex": ("low_risk_complex", "yes"),
}
"""Headline groups: name -> (dimension, group) in the run's ``outcomes_by_group`` table."""

GROUP_DIMENSIONS: tuple[str, ...] = ("sex", "low_risk_complex")
"""Dimensions whose groups a task keeps (all groups, so small-cell suppression can be applied as a run does)."""

SCALAR_METRICS: tuple[str, ...] = (
    "fte.available",
    "fte.needed_for_assessed_need",
    "fte.needed_for_wmt_hours",
    "net_whole_life_cost_reform_vs_baseline",
    "practitioners_red_baseline",
    "practitioners_red_reform",
    "statutory_shortfall_hours",
)
"""Figures that are not per cell; all add up over PDUs."""

METRICS: tuple[str, ...] = tuple(
    sorted(
        [f"{cell}.{figure}" for cell in CELLS for figure in CELL_FIGURES]
        + [f"{cell}.coverage_{group}" for cell in CELLS for group in GROUPS]
        + list(SCALAR_METRICS)
    )
)
"""Every metric in ``results.csv``; ``[objective] metric`` must be one of these."""

HEADLINE_METRICS: tuple[str, ...] = (
    f"{REFORM}.coverage",
    f"{REFORM}.coverage_women",
    f"{REFORM}.coverage_low_risk_complex",
    f"{REFORM}.unmet_hours",
    f"{REFORM}.whole_life_cost",
    "net_whole_life_cost_reform_vs_baseline",
)
"""Outcomes the sweep report charts for every grid point (the objective is charted first)."""

ALL_PDUS = ALL_PDUS_LABEL
"""The ``pdu`` label of rows that total a variant over its PDUs (not a valid PDU id, so never confused with one)."""

DEFAULT_OBJECTIVE = (f"{REFORM}.coverage", "max")
"""Objective when the sweep file has no ``[objective]``: the reform's share of assessed need met, higher better."""

MAX_VARIANTS = 10_000
"""A sweep with more variants than this is refused as a likely mistake (split it into several sweeps)."""

DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "normal": (("mean", "sd"), ()),
    "lognormal": (("median", "sigma"), ()),
    "choice": (("values",), ("weights",)),
}
"""Distributions a ``[draws]`` entry may use: name -> (required arguments, optional arguments)."""

SWEEP_KEYS = ("name", "description", "seed", "grid", "draws", "objective")
"""Top-level keys of a sweep file."""

POLICY_FIELDS_REFUSED = {"workers": "a sweep runs each task on one worker; set --workers on the command line instead"}


class SweepError(ValueError):
    """The sweep file or options cannot be used; ``problems`` lists every problem found, each naming file and key."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SweepTaskError(RuntimeError):
    """Some tasks failed; the finished ones are kept, so running the same command again retries the rest."""

    def __init__(self, failures: Sequence[tuple[str, str, str]]):
        self.failures = list(failures)
        first = "; ".join(f"{v} / {p}: {e}" for v, p, e in self.failures[:3])
        more = f" (and {len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        hint = ""
        if any(e.startswith("BrokenProcessPool") for _, _, e in self.failures):
            hint = (" A worker process died: out of memory, killed, or a Python script calling run_sweep without "
                    "the `if __name__ == \"__main__\":` guard that spawned workers need.")
        super().__init__(f"{len(self.failures)} task(s) failed: {first}{more}.{hint}")


# ----------------------------------------------------------------------------------------------------------
# the sweep file


@dataclass(frozen=True)
class Draw:
    """One parameter drawn from a distribution: ``distribution`` and its arguments (e.g. low, mode, high)."""

    key: str
    distribution: str
    args: dict[str, Any]


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file: grid values and draws by key (file order kept), the objective and the base seed."""

    path: Path
    name: str
    description: str
    grid: dict[str, list[Any]]
    draws: dict[str, Draw]
    objective: tuple[str, str]
    seed: int | None = None


def _nearest(word: str, options: Sequence[str], cutoff: float = 0.5) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return close[0] if close else None


def _flatten_grid(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[grid]`` keys as dotted paths, whether written quoted ("policy.x") or as nested TOML tables."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten_grid(value, f"{path}."))
        else:
            out[path] = value
    return out


def _flatten_draws(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[draws]`` keys as dotted paths; a table holding ``distribution`` is one draw."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and "distribution" not in value:
            out.update(_flatten_draws(value, f"{path}."))
        else:
            out[path] = value
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_draw(label: str, key: str, spec: Any) -> tuple[Draw | None, list[str]]:
    where = f'{label}: [draws] "{key}"'
    allowed = ", ".join(DISTRIBUTIONS)
    if not isinstance(spec, Mapping):
        return None, [f"{where} must be a table such as {{ distribution = \"uniform\", low = 0.05, high = 0.3 }} (found {spec!r})"]
    name = spec.get("distribution")
    if name not in DISTRIBUTIONS:
        near = _nearest(str(name), list(DISTRIBUTIONS))
        hint = f"; did you mean {near}?" if near else ""
        return None, [f"{where}: distribution {name!r} is not known{hint} Allowed: {allowed}"]
    required, optional = DISTRIBUTIONS[name]
    args = {k: v for k, v in spec.items() if k != "distribution"}
    problems = []
    for extra in [k for k in args if k not in required + optional]:
        problems.append(f"{where}: {extra!r} is not an argument of a {name} distribution; it takes {', '.join(required + optional)}")
    for missing in [k for k in required if k not in args]:
        problems.append(f"{where}: a {name} distribution needs {', '.join(required)}; {missing!r} is missing")
    if problems:
        return None, problems
    if name == "choice":
        values = args["values"]
        if not isinstance(values, list) or not values:
            return None, [f"{where}: values must be a non-empty list, e.g. values = [\"off\", \"soft\"]"]
        weights = args.get("weights")
        if weights is not None:
            if not isinstance(weights, list) or len(weights) != len(values) or not all(_is_number(w) and w >= 0 for w in weights) or sum(weights) <= 0:
                return None, [f"{where}: weights must be a list of {len(values)} numbers, 0 or more, not all 0"]
        return Draw(key, name, dict(args)), []
    bad = [k for k in required if not _is_number(args[k])]
    if bad:
        return None, [f"{where}: {', '.join(bad)} must be finite numbers (found {', '.join(repr(args[k]) for k in bad)})"]
    if name == "uniform" and not args["low"] < args["high"]:
        problems.append(f"{where}: low must be below high (found low = {args['low']}, high = {args['high']})")
    if name == "triangular" and not (args["low"] <= args["mode"] <= args["high"] and args["low"] < args["high"]):
        problems.append(f"{where}: needs low <= mode <= high with low < high (found {args['low']}, {args['mode']}, {args['high']})")
    if name == "normal" and not args["sd"] > 0:
        problems.append(f"{where}: sd must be above 0 (found {args['sd']})")
    if name == "lognormal" and not (args["median"] > 0 and args["sigma"] > 0):
        problems.append(f"{where}: median and sigma must be above 0 (found {args['median']}, {args['sigma']})")
    return (None, problems) if problems else (Draw(key, name, dict(args)), [])


def read_sweep_file(path: str | Path, scenario: Scenario | None = None) -> SweepSpec:
    """Read a sweep file and check it: its structure, and with ``scenario`` every key too (a policy setting or
    a parameter path, the nearest valid one named when unknown), so that one pass lists every problem.
    Values are checked by :func:`plan_sweep`.

    Raises
    ------
    SweepError
        Naming the file, the key and what is allowed, for every problem found.
    """
    path = Path(path)
    label = path.name
    problem = regular_file_problem(path)
    if problem == "file not found":
        raise SweepError([f"{path}: sweep file not found"])
    if problem:  # a named pipe or a device would hang the reader
        raise SweepError([f"{path}: the sweep file {problem}"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise SweepError([f"{label}: is not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise SweepError([f"{label}: is not UTF-8 text"]) from None
    problems: list[str] = []
    for key in [k for k in data if k not in SWEEP_KEYS]:
        near = _nearest(key, SWEEP_KEYS)
        hint = f"; did you mean {near}?" if near else ""
        problems.append(f"{label}: {key!r} is not a sweep setting{hint} Allowed: {', '.join(SWEEP_KEYS)}")

    grid_table = data.get("grid", {})
    if not isinstance(grid_table, Mapping):
        problems.append(f"{label}: grid must be a table ([grid]) of key = [values]")
        grid_table = {}
    grid: dict[str, list[Any]] = {}
    for key, values in _flatten_grid(grid_table).items():
        values = values if isinstance(values, list) else [values]
        if not values:
            problems.append(f'{label}: [grid] "{key}" has an empty list; give at least one value')
            continue
        odd = [v for v in values if isinstance(v, (list, dict)) or v is None]
        if odd:
            problems.append(f'{label}: [grid] "{key}" values must be numbers, text or true/false (found {odd[0]!r})')
            continue
        seen = [json.dumps(v) for v in values]
        if len(set(seen)) != len(seen):
            problems.append(f'{label}: [grid] "{key}" lists a value twice ({values}); each value makes its own variants')
            continue
        grid[key] = list(values)

    draws_table = data.get("draws", {})
    if not isinstance(draws_table, Mapping):
        problems.append(f"{label}: draws must be a table ([draws]) of key = {{ distribution = ..., ... }}")
        draws_table = {}
    draws: dict[str, Draw] = {}
    flat_draws = _flatten_draws(draws_table)
    if scenario is not None:
        for section, keys in (("grid", list(_flatten_grid(grid_table))), ("draws", list(flat_draws))):
            problems += [p for p in (_key_problem(label, section, k, scenario) for k in keys) if p]
    for key, spec in flat_draws.items():
        draw, found = _check_draw(label, key, spec)
        problems += found
        if draw is not None:
            draws[key] = draw
    for key in [k for k in draws if k in grid]:
        problems.append(f'{label}: "{key}" is in both [grid] and [draws]; a key is either listed or drawn')

    objective_table = data.get("objective", {})
    metric, direction = DEFAULT_OBJECTIVE
    if not isinstance(objective_table, Mapping):
        problems.append(f"{label}: objective must be a table: [objective] metric = \"...\", direction = \"max\" or \"min\"")
    else:
        for key in [k for k in objective_table if k not in ("metric", "direction")]:
            problems.append(f"{label}: [objective] {key!r} is not a setting; allowed: metric, direction")
        metric = objective_table.get("metric", metric)
        direction = objective_table.get("direction", direction)
        problems += objective_problems(label, metric, direction)

    seed = data.get("seed")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problems.append(f"{label}: seed must be a whole number, 0 or more (found {seed!r})")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        problems.append(f"{label}: name must be text")
        name = path.stem
    if not grid and not draws and not problems:
        problems.append(f"{label}: nothing to sweep: give a [grid] of key = [values] and/or [draws] of key = {{ distribution = ... }}")
    if problems:
        raise SweepError(problems)
    return SweepSpec(path=path.resolve(), name=name, description=str(data.get("description", "")), grid=grid,
                     draws=draws, objective=(metric, direction), seed=seed)


def objective_problems(label: str, metric: Any, direction: Any) -> list[str]:
    """Problems with an objective: the metric must be one of :data:`METRICS`, the direction max or min."""
    problems = []
    if metric not in METRICS:
        near = _nearest(str(metric), METRICS, cutoff=0.4)
        hint = f"; did you mean {near}?" if near else ""
        problems.append(f"{label}: [objective] metric {metric!r} is not a sweep metric{hint} "
                        f"Metrics are <cell>.<figure> (cells {', '.join(CELLS)}; figures {', '.join(CELL_FIGURES)}, "
                        f"coverage_women, coverage_men, coverage_low_risk_complex) or {', '.join(SCALAR_METRICS)}")
    if direction not in ("max", "min"):
        problems.append(f"{label}: [objective] direction must be \"max\" or \"min\" (found {direction!r})")
    return problems


# ----------------------------------------------------------------------------------------------------------
# keys: policy settings and parameter paths, checked against a scenario


def split_key(key: str) -> tuple[str, str]:
    """``policy.x`` -> ("policy", "x"); ``parameters.a.b`` -> ("parameters", "a.b")."""
    head, _, rest = key.partition(".")
    return head, rest


def _key_problem(label: str, section: str, key: str, scenario: Scenario) -> str | None:
    head, rest = split_key(key)
    where = f'{label}: [{section}] "{key}"'
    if head == "policy":
        if rest in POLICY_FIELDS_REFUSED:
            return f"{where}: {POLICY_FIELDS_REFUSED[rest]}"
        if rest not in Policy.model_fields:
            near = _nearest(rest, list(Policy.model_fields))
            hint = f"; did you mean policy.{near}?" if near else ""
            return f"{where} is not a policy setting{hint} Policy settings: {', '.join(Policy.model_fields)}"
        return None
    if head == "parameters":
        if rest not in scenario.params.paths():
            near = _nearest(rest, scenario.params.paths())
            hint = f"; did you mean parameters.{near}?" if near else ""
            return f"{where} is not a parameter{hint} (docs/parameters.md lists them all)"
        return None
    if key in scenario.params.paths():
        return f'{where}: keys start with "policy." or "parameters."; did you mean parameters.{key}?'
    if key in Policy.model_fields:
        return f'{where}: keys start with "policy." or "parameters."; did you mean policy.{key}?'
    return f'{where}: keys start with "policy." (a policy setting) or "parameters." (a parameter path, docs/parameters.md)'


def _value_problem(label: str, section: str, key: str, value: Any, scenario: Scenario) -> str | None:
    head, rest = split_key(key)
    where = f'{label}: [{section}] "{key}"'
    if head == "policy":
        try:
            Policy.model_validate({**scenario.spec.policy.model_dump(), rest: value})
        except ValidationError as exc:
            messages = "; ".join(e["msg"] for e in exc.errors())
            return f"{where}: value {value!r} is not allowed: {messages}"
        return None
    try:
        scenario.params.with_overrides({rest: value})
    except ParameterError as exc:
        return f"{where}: {exc}"
    return None


def _draws_problem(label: str, key: str, draw: Draw, values: Sequence[Any], scenario: Scenario) -> str | None:
    """Every draw of a numeric distribution for a parameter, checked at once (vectorised) against the
    parameter's range: how many fall outside it, and the lowest and highest drawn. The type (a number for a
    number, not a whole table) is checked on the first draw."""
    rest = split_key(key)[1]
    where = f'{label}: [draws] "{key}"'
    if not len(values):
        return None
    if not _is_number(scenario.params[rest]):  # a table or text: the first draw's problem says what it takes
        return _value_problem(label, "draws", key, values[0], scenario)
    found = scenario.params.values_problem(rest, values, what="draws")
    if found:
        return (f"{where}: {found}; choose a {draw.distribution} distribution whose draws stay inside it "
                "(or a choice of allowed values)")
    return None


# ----------------------------------------------------------------------------------------------------------
# variants


@dataclass(frozen=True)
class Variant:
    """One setting of every swept key: an id, its place in the grid and draws, and the values by key."""

    id: str
    grid_point: str
    draw: int | None
    settings: dict[str, Any]

    @property
    def policy(self) -> dict[str, Any]:
        """Policy settings this variant changes, by field name."""
        return {split_key(k)[1]: v for k, v in self.settings.items() if split_key(k)[0] == "policy"}

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameter overrides this variant makes, by dotted path."""
        return {split_key(k)[1]: v for k, v in self.settings.items() if split_key(k)[0] == "parameters"}


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The Cartesian product of the grid in a stable order: keys in file order, the first key varying slowest."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def draw_values(draws: Mapping[str, Draw], n_draws: int, seed: int) -> pd.DataFrame:
    """``n_draws`` values of each drawn key, one row per draw.

    Each key has its own stream, ``numpy.random.default_rng([seed, crc32(key)])`` (crc32 is a fixed checksum,
    not Python's salted ``hash``), so a key's values depend only on the seed, the key and the draw number:
    adding another key, or more draws, leaves them as they were. Draw ``d`` is applied to every grid point
    (common random numbers), so differences between grid points are not blurred by different draws.
    """
    columns: dict[str, Any] = {}
    for key, draw in draws.items():
        rng = np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])
        a = draw.args
        if draw.distribution == "uniform":
            values: Any = rng.uniform(a["low"], a["high"], size=n_draws)
        elif draw.distribution == "triangular":
            values = rng.triangular(a["low"], a["mode"], a["high"], size=n_draws) if a["low"] < a["high"] else np.full(n_draws, float(a["mode"]))
        elif draw.distribution == "normal":
            values = rng.normal(a["mean"], a["sd"], size=n_draws)
        elif draw.distribution == "lognormal":
            values = rng.lognormal(math.log(a["median"]), a["sigma"], size=n_draws)
        else:
            weights = np.asarray(a["weights"], dtype=float) if a.get("weights") is not None else None
            picks = rng.choice(len(a["values"]), size=n_draws, p=None if weights is None else weights / weights.sum())
            values = [a["values"][i] for i in picks]
        columns[key] = values if isinstance(values, list) else [float(v) for v in values]
    return pd.DataFrame(columns, index=pd.RangeIndex(n_draws, name="draw"))


@dataclass(frozen=True)
class Task:
    """One (variant, PDU): what a worker needs to run it. Small and picklable: the scenario is read by path."""

    scenario_path: str
    scenario_fingerprint: str
    variant: str
    pdu: str
    policy: dict[str, Any]
    parameters: dict[str, Any]

    @property
    def file_name(self) -> str:
        """The task's file under ``<out>/tasks/``."""
        return f"{self.variant}__{self.pdu}.csv"


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep will run, checked: variants, PDUs, tasks, seed and the fingerprint of its inputs."""

    scenario: Scenario
    spec: SweepSpec
    n_draws: int
    seed: int
    variants: list[Variant]
    pdus: list[str]
    scenario_fingerprint: str
    sweep_fingerprint: str
    notes: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """One hash of the scenario files, the sweep plan and the package version."""
        return hashlib.sha256(f"{self.scenario_fingerprint}|{self.sweep_fingerprint}|{__version__}".encode()).hexdigest()

    @property
    def tasks(self) -> list[Task]:
        """Every (variant, PDU), variant by variant so whole variants finish early."""
        path, fingerprint = str(self.scenario.path), self.scenario_fingerprint
        return [Task(path, fingerprint, v.id, pdu, v.policy, v.parameters) for v in self.variants for pdu in self.pdus]

    def variants_table(self) -> pd.DataFrame:
        """``variants.csv``: one row per variant with its grid point, draw number and every swept value."""
        frame = pd.DataFrame([v.settings for v in self.variants], index=pd.Index([v.id for v in self.variants], name="variant"))
        frame.insert(0, "draw", pd.array([v.draw for v in self.variants], dtype="Int64"))
        frame.insert(0, "grid_point", [v.grid_point for v in self.variants])
        return frame


def scenario_fingerprint(scenario: Scenario) -> str:
    """SHA-256 of scenario.toml and every table it names (bytes), so any edit to the inputs shows.

    Raises SweepError when one of them is no longer a regular file (a named pipe would hang the read)."""
    paths = [("", scenario.path)]
    for key in ("cases", "practitioners", "partners"):
        relative = getattr(scenario.spec.tables, key)
        if relative is not None:
            paths.append((key, resolve_table_path(scenario.folder, relative, scenario.path.name)))
    if bad := [f"{path}: {problem}" for _, path in paths if (problem := regular_file_problem(path))]:
        raise SweepError(bad)
    digest = hashlib.sha256(scenario.path.read_bytes())
    for key, table in paths[1:]:
        digest.update(key.encode())
        digest.update(table.read_bytes())
    return digest.hexdigest()


def _sweep_fingerprint(spec: SweepSpec, n_draws: int, seed: int) -> str:
    plan = {
        "grid": [[k, v] for k, v in spec.grid.items()],
        "draws": [[k, d.distribution, sorted(d.args.items())] for k, d in spec.draws.items()],
        "n_draws": n_draws,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(plan, sort_keys=True, default=str).encode()).hexdigest()


def plan_sweep(scenario: Scenario, spec: SweepSpec, n_draws: int | None = None) -> SweepPlan:
    """Check every key and value against the scenario and expand the variants.

    Keys are checked once each (the nearest valid key is named when one is unknown); values once per distinct
    value: grid values as listed, drawn values after drawing (so a ``choice`` of policy values is checked too).

    Raises
    ------
    SweepError
        Every problem found, each naming the sweep file, the key and the allowed values.
    """
    label = spec.path.name
    problems: list[str] = []
    if n_draws is not None and n_draws < 1:
        problems.append(f"--draws must be 1 or more (found {n_draws})")
    if spec.draws and n_draws is None:
        problems.append(f"{label} has a [draws] table ({', '.join(spec.draws)}); give --draws N, the number of draws per grid point")
    if n_draws is not None and not spec.draws:
        problems.append(f"--draws {n_draws} was given but {label} has no [draws] table to draw from")
    if problems:
        raise SweepError(problems)
    seed = spec.seed if spec.seed is not None else int(scenario.spec.seed)
    n = n_draws or 0

    bad_keys = set()
    for section, keys in (("grid", list(spec.grid)), ("draws", list(spec.draws))):
        for key in keys:
            problem = _key_problem(label, section, key, scenario)
            if problem:
                problems.append(problem)
                bad_keys.add(key)
    points = grid_points({k: v for k, v in spec.grid.items()})
    n_variants = len(points) * max(n, 1)
    if n_variants > MAX_VARIANTS:
        problems.append(f"{label}: the sweep makes {n_variants:,} variants, more than {MAX_VARIANTS:,}; split it into smaller sweeps")
    if problems:
        raise SweepError(problems)

    drawn = draw_values(spec.draws, n, seed) if n else pd.DataFrame()
    checked: set[tuple[str, str]] = set()
    for section, key, values in [("grid", k, v) for k, v in spec.grid.items()] + [("draws", k, drawn[k].tolist()) for k in drawn.columns]:
        if section == "draws" and split_key(key)[0] == "parameters" and spec.draws[key].distribution != "choice":
            problem = _draws_problem(label, key, spec.draws[key], values, scenario)
            if problem:
                problems.append(problem)
            continue
        for value in values:
            token = (key, json.dumps(value, default=str))
            if token in checked:
                continue
            checked.add(token)
            problem = _value_problem(label, section, key, value, scenario)
            if problem:
                problems.append(problem)
                break
    policy_keys = [k for k in list(spec.grid) + list(spec.draws) if split_key(k)[0] == "policy"]
    if policy_keys and not problems:
        combos = {json.dumps({k: p[k] for k in policy_keys if k in p}, sort_keys=True) for p in points}
        for combo in sorted(combos):
            settings = {split_key(k)[1]: v for k, v in json.loads(combo).items()}
            try:
                Policy.model_validate({**scenario.spec.policy.model_dump(), **settings})
            except ValidationError as exc:
                problems.append(f"{label}: [grid] the policy {settings} is not allowed: {'; '.join(e['msg'] for e in exc.errors())}")
    if problems:
        raise SweepError(problems)

    g_width = max(2, len(str(len(points) - 1)))
    d_width = max(2, len(str(n - 1))) if n else 0
    records = drawn.to_dict("records") if n else []
    variants = []
    for g, point in enumerate(points):
        grid_id = f"g{g:0{g_width}d}"
        if not n:
            variants.append(Variant(grid_id, grid_id, None, dict(point)))
            continue
        variants.extend(Variant(f"{grid_id}-d{d:0{d_width}d}", grid_id, d, {**point, **records[d]}) for d in range(n))

    notes = []
    policy = scenario.spec.policy
    modes = set(spec.grid.get("policy.scoring_mode", [policy.scoring_mode]))
    if "budget-neutral" in modes and len(scenario.pdus) > 1:
        notes.append("budget-neutral scoring is made neutral within each PDU in a sweep (each PDU is its own task), "
                     "so its figures differ slightly from `workload run`, which scales over all PDUs together")
    caps = spec.grid.get("policy.budget_cap_gbp", [policy.budget_cap_gbp])
    if any(c is not None for c in caps) or "policy.budget_cap_gbp" in spec.draws:
        notes.append("a budget cap is split between PDUs in proportion to needs-scored required hours; the WMT-scored "
                     "LP cell uses the same split (`workload run` splits it by WMT hours for that cell)")
    return SweepPlan(scenario=scenario, spec=spec, n_draws=n, seed=seed, variants=variants, pdus=list(scenario.pdus),
                     scenario_fingerprint=scenario_fingerprint(scenario), sweep_fingerprint=_sweep_fingerprint(spec, n, seed),
                     notes=notes)


# ----------------------------------------------------------------------------------------------------------
# one task: a PDU of a variant


def apply_variant(scenario: Scenario, policy: Mapping[str, Any], parameters: Mapping[str, Any]) -> Scenario:
    """The scenario with a variant's policy settings and parameter overrides (on top of the scenario's own)."""
    new_policy = Policy.model_validate({**scenario.spec.policy.model_dump(), **policy}) if policy else scenario.spec.policy
    params = scenario.params.with_overrides(dict(parameters)) if parameters else scenario.params
    spec_parameters = {**flatten_overrides(scenario.spec.parameters), **parameters}
    spec = scenario.spec.model_copy(update={"policy": new_policy, "parameters": spec_parameters})
    return replace(scenario, spec=spec, params=params)


def pdu_shares(scenario: Scenario) -> dict[str, tuple[pd.Series, float | None]]:
    """What each PDU gets of what PDUs share, apportioned as the allocator does for the needs-scored LP.

    Returns, per PDU, each serving partner's contract hours for that PDU (``H_kd = H_k x D_kd / sum_d' D_kd'``,
    with D the hours of need partner k could deliver in PDU d) and the PDU's share of the budget cap
    (``B x R_d / R``, R the needs-scored required hours), both from :func:`workload.allocate.model.pdu_inputs`.
    """
    from workload.allocate import model
    from workload.pipeline import lp_cases, score_cases

    policy = scenario.spec.policy
    partners_used = policy.use_partners and len(scenario.partners) > 0
    if not partners_used and policy.budget_cap_gbp is None:
        return {pdu: (pd.Series(dtype=float), None) for pdu in scenario.pdus}
    frame = lp_cases(scenario, score_cases(scenario), "needs")
    inputs = model.pdu_inputs(frame, scenario.practitioners, scenario.partners, scenario.params, policy)
    out = {}
    for pdu, inp in inputs.items():
        hours = inp.partners["contract_hours_pdu"].astype(float) if len(inp.partners) else pd.Series(dtype=float)
        out[pdu] = (hours, inp.budget_gbp)
    return out


def pdu_scenario(scenario: Scenario, pdu: str, shares: Mapping[str, tuple[pd.Series, float | None]]) -> Scenario:
    """One PDU of a scenario as a scenario of its own: its cases and practitioners, the partners serving it
    with their contract hours for this PDU, its share of any budget cap, and no small-cell suppression (the
    sweep suppresses when it publishes, after totalling PDUs)."""
    cases = scenario.cases[scenario.cases["pdu"] == pdu]
    staff = scenario.practitioners[scenario.practitioners["pdu"] == pdu]
    hours, budget = shares.get(pdu, (pd.Series(dtype=float), None))
    partners = scenario.partners.loc[list(hours.index)].copy()
    if len(partners):
        partners["contract_hours_per_year"] = hours.reindex(partners.index).to_numpy(dtype=float)
        partners["pdus"] = pd.Series([(pdu,)] * len(partners), index=partners.index, dtype=object)
    policy = scenario.spec.policy
    if policy.budget_cap_gbp is not None:
        policy = policy.model_copy(update={"budget_cap_gbp": budget})
    spec = scenario.spec.model_copy(update={
        "policy": policy.model_copy(update={"workers": 1}),
        "output": scenario.spec.output.model_copy(update={"suppression_threshold": 0}),
    })
    return replace(scenario, spec=spec, cases=cases, practitioners=staff, partners=partners, warnings=[])


def group_metric(dimension: str, group: str, figure: str, cell: str | None = None) -> str:
    """Name of a task's internal group figure, e.g. ``_group/sex/female/needs_lp/given_hours``."""
    return "/".join(["_group", dimension, group] + ([cell] if cell else []) + [figure])


def result_metrics(result: Any) -> dict[str, float]:
    """A run's figures as the sweep keeps them: the published metrics that add up over PDUs, plus each
    group's cases, assessed need and hours given (``_group/...``), from which coverage is recomputed."""
    summary = result.summary
    out: dict[str, float] = {}
    for cell, figures in summary["cells"].items():
        for figure in CELL_FIGURES:
            out[f"{cell}.{figure}"] = float(figures[figure])
    for key, value in summary["fte"].items():
        out[f"fte.{key}"] = float(value)
    for key in ("net_whole_life_cost_reform_vs_baseline", "practitioners_red_baseline", "practitioners_red_reform",
                "statutory_shortfall_hours"):
        out[key] = float(summary[key])
    for key in CONTRIBUTOR_METRICS:
        out[key] = float(result.contributors[key])
    by_group = result.tables["outcomes_by_group"]
    rows = by_group[by_group["dimension"].isin(GROUP_DIMENSIONS) & (by_group.index != TOTAL)]
    for (dimension, cell), part in rows.groupby(["dimension", "cell"], sort=True):
        for group, row in part.iterrows():
            out[group_metric(dimension, str(group), "cases")] = float(row["cases"])
            out[group_metric(dimension, str(group), "required_hours")] = float(row["required_hours"])
            out[group_metric(dimension, str(group), "given_hours", cell)] = float(row["afforded_hours"]) + float(row["partner_hours"])
    return out


_SCENARIOS: dict[tuple[str, str], Scenario] = {}
"""Scenarios a worker has loaded, by (path, fingerprint): each worker reads the files once, however many tasks
it runs; a worker that outlives a sweep (on a Dask cluster) never reuses a scenario whose files have changed."""

_SHARES: OrderedDict[str, dict[str, tuple[pd.Series, float | None]]] = OrderedDict()
"""A worker's recent PDU shares, by scenario, parameter overrides and :data:`SHARE_POLICY_FIELDS`."""

SHARE_POLICY_FIELDS: tuple[str, ...] = ("use_partners", "budget_cap_gbp", "scoring_mode")
"""The policy settings the split of partner hours and budget between PDUs depends on; variants differing only
in other settings (the specialist pool, penalties, caps) share one computation of :func:`pdu_shares`."""


def _scenario(path: str, fingerprint: str) -> Scenario:
    if (path, fingerprint) not in _SCENARIOS:
        scenario = load_scenario(path)
        if scenario_fingerprint(scenario) != fingerprint:
            raise RuntimeError(f"the scenario files at {path} differ from the ones the sweep was planned with "
                               "(changed during the sweep, or another copy on this worker)")
        _SCENARIOS.clear()
        _SCENARIOS[(path, fingerprint)] = scenario
    return _SCENARIOS[(path, fingerprint)]


def run_task(task: Task) -> list[tuple[str, float]]:
    """Run one (variant, PDU) and return its (metric, value) rows, sorted by metric.

    A top-level function of a small, picklable :class:`Task`, so any ``concurrent.futures`` executor (a
    process pool, Dask's) can run it. A pure function of the scenario files and the task: no clock, no
    worker state but caches of what the files give.
    """
    from workload.pipeline import run_scenario

    scenario = apply_variant(_scenario(task.scenario_path, task.scenario_fingerprint), task.policy, task.parameters)
    shared_policy = {k: getattr(scenario.spec.policy, k) for k in SHARE_POLICY_FIELDS}
    key = json.dumps([task.scenario_path, task.scenario_fingerprint, shared_policy, task.parameters], sort_keys=True, default=str)
    if key not in _SHARES:
        _SHARES[key] = pdu_shares(scenario)
        while len(_SHARES) > 8:
            _SHARES.popitem(last=False)
    result = run_scenario(pdu_scenario(scenario, task.pdu, _SHARES[key]), workers=1)
    rows = sorted(result_metrics(result).items())
    infinite = [m for m, v in rows if math.isinf(v)]
    if infinite:  # a task file holds finite numbers (or nan for a blank figure), nothing else
        raise ValueError(f"the run gave an infinite {infinite[0]}{f' (and {len(infinite) - 1} more)' if len(infinite) > 1 else ''}")
    return rows


def _worker_malloc_trim() -> str | None:
    """The worker's MALLOC_TRIM_THRESHOLD_ (None when unset), for the Dask check."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


# ----------------------------------------------------------------------------------------------------------
# combining task rows into the published table


def small_cell_rule(counts: pd.DataFrame, threshold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which groups a run's published table shows, row by row, by its rule (:func:`workload.outcomes.suppress`),
    for many rows at once.

    ``counts`` has one row per (variant, PDU) and one column per group of one dimension, in sorted group
    order (as a run's group tables), 0 where the group has no cases. Groups with cases but fewer than
    ``threshold`` are never shown on their own: they are pooled, and if the pool is itself under the
    threshold it is merged into the largest group shown (the first in group order on a tie), whose row then
    holds those few cases too (``male + small groups``).

    Returns
    -------
    shown, absorbs
        Booleans like ``counts``: the group has a row of its own (alone or with the small groups merged in),
        and the group's row holds the small groups as well.
    """
    values = counts.to_numpy(dtype=float)
    present = values > 0
    if threshold <= 0:
        none = np.zeros_like(present)
        return (pd.DataFrame(present, index=counts.index, columns=counts.columns),
                pd.DataFrame(none, index=counts.index, columns=counts.columns))
    small = present & (values < threshold)
    shown = present & ~small
    pooled = np.where(small, values, 0.0).sum(axis=1)
    merge = small.any(axis=1) & (pooled < threshold) & shown.any(axis=1)
    largest = np.argmax(np.where(shown, values, -np.inf), axis=1)
    absorbs = np.zeros_like(shown)
    rows = np.flatnonzero(merge)
    absorbs[rows, largest[rows]] = True
    return (pd.DataFrame(shown, index=counts.index, columns=counts.columns),
            pd.DataFrame(absorbs, index=counts.index, columns=counts.columns))


def _coverage(given: pd.Series | np.ndarray, required: pd.Series | np.ndarray) -> np.ndarray:
    given, required = np.asarray(given, dtype=float), np.asarray(required, dtype=float)
    return np.where(required > 0, np.minimum(given, required) / np.where(required > 0, required, 1.0), 1.0)


def _pool_small_pdus(wide: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Disclosure rule 1 over PDUs: each variant's PDUs with 1 to T-1 cases become one row, ``(small PDUs)``,
    or, when even those are under T together, part of the variant's largest PDU (``PDU03 + small PDUs``).
    Task figures all add up (coverage is recomputed later), so pooled rows are sums."""
    if threshold <= 0 or wide.empty:
        return wide
    cases = wide[f"{BASELINE}.cases"].to_numpy(dtype=float)
    small = is_small(cases, threshold)
    if not small.any():
        return wide
    variants = wide.index.get_level_values("variant")
    pdus = wide.index.get_level_values("pdu").astype(str).to_numpy(dtype=object).copy()
    frame = pd.DataFrame({"variant": variants, "cases": cases, "small": small})
    pooled = frame[frame["small"]].groupby("variant", sort=False)["cases"].sum()
    for variant, total in pooled.items():
        rows = (frame["variant"] == variant).to_numpy()
        label = SMALL_PDUS
        if total < threshold:
            big = np.flatnonzero(rows & ~small)
            if len(big):
                largest = big[np.argmax(cases[big])]
                label = f"{pdus[largest]} + {SMALL_PDUS.strip('()')}"
                pdus[largest] = label
        pdus[rows & small] = label
    wide = wide.copy()
    wide.index = pd.MultiIndex.from_arrays([variants, pdus], names=["variant", "pdu"])
    return wide.groupby(level=["variant", "pdu"], sort=True).sum(min_count=1)


def _suppress_few_contributors(out: pd.DataFrame, wide: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Disclosure rule 2 on the sweep's rows: a figure that 1 to T-1 cases contribute to is blanked with its
    complements (:data:`workload.disclosure.CONTRIBUTORS`); the net whole-life cost with any cost total it
    sums."""
    if threshold <= 0:
        return out
    out = out.copy()
    for cell in CELLS:
        for figure, complements in CONTRIBUTORS.items():
            column = f"{cell}.{CONTRIBUTOR_PREFIX}{figure}"
            if column not in wide:
                continue
            small = is_small(wide[column].to_numpy(dtype=float), threshold)
            for name in complements:
                if f"{cell}.{name}" in out:
                    out.loc[small, f"{cell}.{name}"] = np.nan
    shortfall = wide.get(f"{CONTRIBUTOR_PREFIX}statutory_shortfall_hours")
    if shortfall is not None:
        out.loc[is_small(shortfall.to_numpy(dtype=float), threshold), "statutory_shortfall_hours"] = np.nan
    costs = [f"{cell}.{name}" for cell in (BASELINE, REFORM) for name in ("partner_cost", "children_cost", "whole_life_cost")]
    out.loc[out[costs].isna().any(axis=1), "net_whole_life_cost_reform_vs_baseline"] = np.nan
    return out


def tidy_results(raw: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The published sweep table from the tasks' rows: (variant, pdu, metric, value), sorted.

    Each variant gets its PDUs' rows plus a total row set (pdu ``(all)``): additive figures summed over PDUs,
    coverage recomputed from the totals as a run computes it (``min(afforded + partner, required) / required``).
    Group coverage (women, men, low risk complex needs) is what a run's published tables show for the group
    (:func:`small_cell_rule`, with the scenario's ``output.suppression_threshold``): blank where the group has
    no cases or too few to show, and including the few cases of groups too small to show where those are
    merged into it.
    """
    wide = raw.pivot_table(index=["variant", "pdu"], columns="metric", values="value", aggfunc="first", sort=True)
    wide = _pool_small_pdus(wide, threshold)
    total = wide.groupby(level="variant", sort=True).sum(min_count=1)
    total.index = pd.MultiIndex.from_arrays([total.index, [ALL_PDUS] * len(total)], names=["variant", "pdu"])
    wide = pd.concat([wide, total])
    out = pd.DataFrame(index=wide.index)
    for cell in CELLS:
        for figure in CELL_FIGURES:
            out[f"{cell}.{figure}"] = wide.get(f"{cell}.{figure}", np.nan)
        out[f"{cell}.coverage"] = _coverage(wide[f"{cell}.afforded_hours"] + wide[f"{cell}.partner_hours"], wide[f"{cell}.required_hours"])
    for metric in SCALAR_METRICS:
        out[metric] = wide.get(metric, np.nan)
    for dimension in GROUP_DIMENSIONS:
        names = sorted({c.split("/")[2] for c in wide.columns if c.startswith(f"_group/{dimension}/")})
        if not names:
            continue
        counts = pd.DataFrame({g: wide.get(group_metric(dimension, g, "cases"), 0.0) for g in names}, index=wide.index).fillna(0.0)
        shown, absorbs = small_cell_rule(counts, threshold)
        small = (counts > 0) & (counts < threshold) if threshold > 0 else counts < 0

        def figures(figure: str, cell: str | None = None) -> pd.DataFrame:
            return pd.DataFrame({g: wide.get(group_metric(dimension, g, figure, cell), 0.0) for g in names},
                                index=wide.index).fillna(0.0)

        required = figures("required_hours")
        small_required = required.where(small, 0.0).sum(axis=1)
        for name, (dim, group) in GROUPS.items():
            if dim != dimension:
                continue
            for cell in CELLS:
                if group not in names:
                    out[f"{cell}.coverage_{name}"] = np.nan
                    continue
                given = figures("given_hours", cell)
                extra = absorbs[group].astype(float)
                value = _coverage(given[group] + extra * given.where(small, 0.0).sum(axis=1),
                                  required[group] + extra * small_required)
                out[f"{cell}.coverage_{name}"] = pd.Series(value, index=wide.index).where(shown[group])
    for cell in CELLS:
        for name in GROUPS:
            if f"{cell}.coverage_{name}" not in out:
                out[f"{cell}.coverage_{name}"] = np.nan
    out = _suppress_few_contributors(out, wide, threshold)
    out = out[list(METRICS)]
    tidy = out.rename_axis(columns="metric").stack(future_stack=True).rename("value").reset_index()
    return tidy.sort_values(["variant", "pdu", "metric"], kind="stable").reset_index(drop=True)


def rank_grid_points(results: pd.DataFrame, variants: pd.DataFrame, metric: str, direction: str) -> pd.DataFrame:
    """Grid points ranked by the objective over all PDUs: its mean over draws, the 5th, 50th and 95th
    percentiles, and (with draws) ``share_best``, the share of draws in which the grid point is at least as
    good as every other (a tie counts for each tied grid point).

    Grid points whose objective is blank (a suppressed group) rank last.
    """
    rows = results[(results["pdu"] == ALL_PDUS) & (results["metric"] == metric)].set_index("variant")["value"]
    frame = variants[["grid_point", "draw"]].join(rows.rename("objective"))
    stats = frame.groupby("grid_point", sort=True)["objective"].agg(
        mean="mean",
        p05=lambda s: s.quantile(0.05),
        p50="median",
        p95=lambda s: s.quantile(0.95),
        variants="size",
    )
    if frame["draw"].notna().any():
        by_draw = frame.pivot_table(index="draw", columns="grid_point", values="objective", aggfunc="first", dropna=False)
        best = by_draw.max(axis=1) if direction == "max" else by_draw.min(axis=1)
        gap = (by_draw.sub(best, axis=0)).abs()
        is_best = gap.le(1e-9 * best.abs().clip(lower=1.0), axis=0)  # ties count as best for each tied point
        stats["share_best"] = is_best.sum().reindex(stats.index).fillna(0.0) / max(len(by_draw), 1)
    else:
        stats["share_best"] = np.nan
    ascending = direction == "min"
    order = stats["mean"].rank(method="min", ascending=ascending, na_option="bottom").astype(int)
    stats.insert(0, "rank", order)
    settings = variants.drop(columns=["draw"]).drop_duplicates("grid_point").set_index("grid_point")
    grid_keys = [c for c in settings.columns if variants.groupby("grid_point")[c].nunique(dropna=False).max() <= 1]
    stats = stats.join(settings[grid_keys])
    stats = stats.sort_values(["rank"], kind="stable")
    stats.insert(1, "objective", metric)
    return stats


# ----------------------------------------------------------------------------------------------------------
# the output folder


class SweepFolderError(SweepError):
    """``--out`` holds something other than this sweep."""


def _write_atomic(path: Path, text: str) -> None:
    """Write text through a temp file and ``os.replace``: readers see the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _csv_text(frame: pd.DataFrame, index: bool = True, float_format: str = "%.10g") -> str:
    """A sweep CSV's text. Text cells that a spreadsheet would run as a formula (starting with = + - @) get a
    leading quote (:func:`workload.safety.escape_formulas`); numbers, negative ones too, stay numbers."""
    return escape_formulas(frame).to_csv(index=index, float_format=float_format, lineterminator="\n")


def sweep_manifest(plan: SweepPlan, sweep_path: Path) -> dict[str, Any]:
    """``sweep.json``: what the folder holds, with the fingerprint a restart checks."""
    return {
        "fingerprint": plan.fingerprint,
        "scenario_fingerprint": plan.scenario_fingerprint,
        "sweep_fingerprint": plan.sweep_fingerprint,
        "version": __version__,
        "scenario": str(plan.scenario.path),
        "scenario_name": plan.scenario.spec.name,
        "sweep_file": str(sweep_path),
        "sweep_name": plan.spec.name,
        "seed": plan.seed,
        "draws": plan.n_draws,
        "grid_points": len({v.grid_point for v in plan.variants}),
        "variants": len(plan.variants),
        "pdus": plan.pdus,
        "tasks": len(plan.variants) * len(plan.pdus),
    }


SWEEP_FILES = frozenset({"sweep.json", "sweep.toml", "variants.csv", "results.csv", "ranking.csv", "sweep.html"})
"""The files a sweep folder holds besides tasks/ (which holds task files only)."""


def sweep_folder_is_ours(out: Path) -> bool:
    """Whether ``out`` holds only what ``workload sweep`` writes: :data:`SWEEP_FILES`, and task files in tasks/
    (temporaries of a write that was cut short included), no links, no other folders."""
    try:
        for entry in os.scandir(out):
            if entry.name == "tasks" and entry.is_dir(follow_symlinks=False):
                if not all(t.is_file(follow_symlinks=False) and (t.name.endswith(".csv") or TMP_MARK in t.name)
                           for t in os.scandir(entry.path)):
                    return False
            elif not (entry.is_file(follow_symlinks=False) and (entry.name in SWEEP_FILES or TMP_MARK in entry.name)):
                return False
    except OSError:
        return False
    return True


def prepare_folder(out: Path, plan: SweepPlan, force: bool = False) -> None:
    """Create ``out`` for this sweep, or check that it already holds this sweep (then it is resumed).

    A folder holding a sweep of a different scenario or sweep plan is refused (``--force`` starts it again);
    a folder that is not a sweep folder and not empty is always refused, and so is ``--force`` on a sweep folder
    holding anything the sweep did not write, so nothing else is ever deleted. The scenario's folder, the sweep
    file's folder, the working folder and any folder above them are never an ``--out``. Temporaries left by a
    killed sweep are removed.
    """
    manifest_path = out / "sweep.json"
    try:
        guard_location(out, [plan.scenario.folder, plan.spec.path.parent])
    except OutputError as exc:
        raise SweepFolderError([str(exc)]) from None
    if out.exists() and any(out.iterdir()):
        if regular_file_problem(manifest_path) is not None:
            raise SweepFolderError([f"{out} exists, is not empty and holds no sweep (no sweep.json); choose another --out"])
        if force and not sweep_folder_is_ours(out):
            raise SweepFolderError([
                f"--force deletes only a sweep folder holding nothing but what workload sweep wrote; {out} has other "
                "files in it. Nothing was changed; choose another --out"
            ])
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("fingerprint") != plan.fingerprint:
            if force:
                shutil.rmtree(out)
            else:
                what = []
                if old.get("scenario_fingerprint") != plan.scenario_fingerprint:
                    what.append(f"a different scenario ({old.get('scenario')}, or its files have changed)")
                if old.get("sweep_fingerprint") != plan.sweep_fingerprint:
                    what.append(f"a different sweep ({old.get('sweep_file')}, its grid, draws, --draws or seed)")
                if old.get("version") != __version__:
                    what.append(f"another version of workload ({old.get('version')})")
                raise SweepFolderError([
                    f"{out} holds a sweep of {' and '.join(what) or 'other inputs'}; choose another --out, "
                    "or add --force to delete it and start again"
                ])
        elif force:
            shutil.rmtree(out)
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out / "sweep.json")
    remove_stale_temporaries(out / "tasks" / "task.csv")
    if not manifest_path.exists():
        _write_atomic(manifest_path, json.dumps(sweep_manifest(plan, plan.spec.path), indent=2, sort_keys=True) + "\n")
        shutil.copyfile(plan.spec.path, out / "sweep.toml")
    _write_atomic(out / "variants.csv", _csv_text(plan.variants_table()))


TASK_HEADER = "metric,value"
"""First line of a task file."""

CONTRIBUTOR_METRICS: tuple[str, ...] = tuple(
    [f"{cell}.{CONTRIBUTOR_PREFIX}{figure}" for cell in CELLS for figure in CONTRIBUTORS if figure != "shortfall_hours"]
    + [f"{CONTRIBUTOR_PREFIX}statutory_shortfall_hours"]
)
"""How many cases each subset figure of a task comes from (working numbers for the disclosure rule, kept in
task files, never published)."""

TASK_METRICS: frozenset[str] = frozenset(
    [f"{cell}.{figure}" for cell in CELLS for figure in CELL_FIGURES] + list(SCALAR_METRICS) + list(CONTRIBUTOR_METRICS)
)
"""Metrics every task file holds, besides its groups' figures (``_group/...``, see :func:`task_metrics_problem`)."""

MAX_TASK_FILE_BYTES = 10 * 1024 * 1024
"""A task file larger than this is not one the sweep wrote (they are a few kilobytes)."""

_CHECKSUM = re.compile(r"# sha256:([0-9a-f]{64})")
_GROUP_METRIC = re.compile(r"_group/([^/]+)/([^/]+)/(?:([^/]+)/)?([^/]+)")


def task_metrics_problem(metrics: Sequence[str]) -> str | None:
    """Why ``metrics`` are not what a task writes, or None: each of :data:`TASK_METRICS` once, and for each
    group of each of :data:`GROUP_DIMENSIONS` its cases, assessed need and every cell's hours given."""
    names = list(metrics)
    if len(set(names)) != len(names):
        twice = sorted({m for m in names if names.count(m) > 1})
        return f"metric {twice[0]!r} is there twice"
    plain = {m for m in names if not m.startswith("_group/")}
    if missing := sorted(TASK_METRICS - plain):
        return f"{len(missing)} metric(s) missing, such as {missing[0]!r}"
    if extra := sorted(plain - TASK_METRICS):
        return f"metric {extra[0]!r} is not one a task writes"
    per_group: dict[tuple[str, str], set[str]] = {}
    for name in set(names) - plain:
        match = _GROUP_METRIC.fullmatch(name)
        if match is None or match.group(1) not in GROUP_DIMENSIONS:
            return f"metric {name!r} is not one a task writes"
        dimension, group, cell, figure = match.groups()
        per_group.setdefault((dimension, group), set()).add(f"{cell}/{figure}" if cell else figure)
    expected = {"cases", "required_hours"} | {f"{cell}/given_hours" for cell in CELLS}
    for (dimension, group), figures in sorted(per_group.items()):
        if figures != expected:
            return f"the figures of group {dimension}/{group} are not complete"
    return None


def task_file_text(rows: Sequence[tuple[str, float]]) -> str:
    """A task's rows as the text of its file: ``metric,value`` rows (values at full precision, ``nan`` for a
    blank figure), then a line ``# sha256:<hex>`` of everything before it, by which a resume knows the file
    is whole."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TASK_HEADER.split(","))
    for metric, value in rows:
        writer.writerow([metric, repr(float(value))])
    body = buffer.getvalue()
    return f"{body}# sha256:{hashlib.sha256(body.encode('utf-8')).hexdigest()}\n"


def read_task_file(path: Path) -> tuple[list[tuple[str, float]] | None, str | None]:
    """A task file's rows, or None and why the file is not whole. Never raises on what the file holds.

    A file is whole when it is a regular file, UTF-8, its last line is the checksum of the rest, the first
    line is ``metric,value``, every value is a number (finite, or ``nan`` for a blank figure), and the metrics
    are exactly those a task writes (:func:`task_metrics_problem`).
    """
    problem = regular_file_problem(path)
    if problem:
        return None, "is missing" if problem == "file not found" else problem
    try:
        if path.stat().st_size > MAX_TASK_FILE_BYTES:
            return None, "is larger than any task file"
        data = path.read_bytes()
    except OSError as exc:
        return None, f"could not be read ({exc.strerror or type(exc).__name__})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"
    if not text:
        return None, "is empty"
    body, _, last = text.removesuffix("\n").rpartition("\n")
    body += "\n"
    match = _CHECKSUM.fullmatch(last) if text.endswith("\n") else None
    if match is None:
        return None, "has no checksum line at its end (cut short?)"
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != match.group(1):
        return None, "does not match its checksum (changed since it was written)"
    lines = list(csv.reader(io.StringIO(body)))
    if not lines or lines[0] != TASK_HEADER.split(","):
        return None, f"does not start with the header {TASK_HEADER}"
    rows: list[tuple[str, float]] = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != 2 or not line[0]:
            return None, f"line {number} is not metric,value"
        try:
            value = float(line[1])
        except ValueError:
            return None, f"line {number}: {line[1]!r} is not a number"
        if math.isinf(value):
            return None, f"line {number}: {line[1]!r} is not a finite number"
        rows.append((line[0], value))
    problem = task_metrics_problem([m for m, _ in rows])
    return (None, problem) if problem else (rows, None)


def write_task_file(folder: Path, task: Task, rows: Sequence[tuple[str, float]]) -> Path:
    """A finished task's rows as ``tasks/<variant>__<pdu>.csv`` (full precision, checksummed), atomically.

    Metric names start with a letter or ``_`` (``_group/...``), so no cell can run as a spreadsheet formula.
    """
    path = folder / "tasks" / task.file_name
    _write_atomic(path, task_file_text(rows))
    return path


def finished_tasks(folder: Path, tasks: Sequence[Task]) -> tuple[list[Task], list[Task], list[Task]]:
    """Split ``tasks`` into those whose file in ``folder/tasks`` is whole (done) and those to run, and name
    the tasks to run again because their file is there but not whole (empty, cut short, garbled, not a
    regular file: :func:`read_task_file`). Such a file is removed, so the task's new file can take its place.

    Raises SweepFolderError when such a file cannot be removed (a folder, no permission).
    """
    done, todo, redo = [], [], []
    for task in tasks:
        path = folder / "tasks" / task.file_name
        if not os.path.lexists(path):
            todo.append(task)
            continue
        rows, _ = read_task_file(path)
        if rows is not None:
            done.append(task)
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                raise IsADirectoryError(21, "a folder where a task file belongs")
            path.unlink()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise SweepFolderError([f"{path} is not a whole task file and cannot be removed ({why}); remove it and run again"]) from None
        todo.append(task)
        redo.append(task)
    return done, todo, redo


def read_task_files(folder: Path, tasks: Sequence[Task]) -> pd.DataFrame:
    """Every task's rows as one long frame (variant, pdu, metric, value).

    Raises
    ------
    SweepTaskError
        When a task's file is missing or not whole (:func:`read_task_file`), naming each; running the sweep
        again redoes those tasks.
    """
    variants, pdus, metrics, values = [], [], [], []
    bad: list[tuple[str, str, str]] = []
    for task in tasks:
        path = folder / "tasks" / task.file_name
        rows, problem = read_task_file(path)
        if rows is None:
            bad.append((task.variant, task.pdu, f"its file tasks/{task.file_name} {problem}"))
            continue
        variants += [task.variant] * len(rows)
        pdus += [task.pdu] * len(rows)
        metrics += [m for m, _ in rows]
        values += [v for _, v in rows]
    if bad:
        raise SweepTaskError(bad)
    return pd.DataFrame({"variant": variants, "pdu": pdus, "metric": metrics,
                         "value": np.asarray(values, dtype=float)})


# ----------------------------------------------------------------------------------------------------------
# executors and progress


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[tuple[cf.Executor, list[str]]]:
    """A ``concurrent.futures`` executor and notes about it.

    ``scheduler`` None: a local process pool of ``workers`` spawned processes (default: the machine's cores),
    each with one BLAS / OpenMP thread (:data:`workload.workers.WORKER_THREAD_VARIABLES`).
    ``"local"``: a Dask LocalCluster of ``workers`` one-thread worker processes, started without Dask's
    ``MALLOC_TRIM_THRESHOLD_=65536`` (which slows these tasks; docs/sweep.md). Any other value: the address
    of a running Dask scheduler (``tcp://host:port``); its workers' environment is checked and a note given
    when they trim memory that eagerly.
    """
    notes: list[str] = []
    if scheduler is None:
        # fresh (spawned) workers with one BLAS / OpenMP thread each, as Dask's nanny starts its workers
        pool = spawn_pool(workers or os.cpu_count() or 1)
        try:
            yield pool, notes
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(["--scheduler needs Dask distributed: pip install 'workload[dask]'"]) from None
    cluster = None
    if scheduler == "local":
        # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536: None removes it from the config, so
        # glibc keeps its own adaptive threshold. The nanny spawns workers with this process's environment,
        # and writes its pre-spawn variables into it (so an earlier LocalCluster in the same Python session
        # leaves MALLOC_TRIM_THRESHOLD_ behind, and Dask lets the environment win): take it out while the
        # workers start, then put the environment back exactly as it was.
        saved = dict(os.environ)
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
                client = Client(cluster)
        finally:
            _restore_environ(saved)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError([f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})"]) from None
    try:
        settings = client.run(_worker_malloc_trim)
        if not settings:
            notes.append(f"the Dask scheduler at {scheduler} has no workers yet; tasks wait until workers join")
        eager = sorted(a for a, v in settings.items() if v is not None and v.isdigit() and int(v) < 16 * 1024 * 1024)
        if eager:
            notes.append(
                f"{len(eager)} of {len(settings)} Dask workers run with MALLOC_TRIM_THRESHOLD_="
                f"{settings[eager[0]]} (the Dask nanny's default), which slows these tasks (docs/sweep.md); start "
                "them with DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None or "
                "MALLOC_TRIM_THRESHOLD_ unset in their dask config"
            )
        yield client.get_executor(), notes
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Progress:
    """A one-line progress bar on a terminal: variants and tasks done out of total, and the time left.

    Quiet (writes nothing) when the stream is not a terminal, so logs and pipes stay clean.
    """

    def __init__(self, total_tasks: int, total_variants: int, stream: TextIO | None = None, enabled: bool | None = None,
                 already_tasks: int = 0, already_variants: int = 0, clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = bool(isatty()) if enabled is None else enabled
        self.total_tasks, self.total_variants = total_tasks, total_variants
        self.already = already_tasks
        self.tasks, self.variants = already_tasks, already_variants
        self.clock = clock
        self.start = clock()
        self.last_draw = -1.0

    def line(self, width: int = 24) -> str:
        """The bar's text, e.g. ``sweep 12/40 variants [######------]  300/1000 tasks  2m05s left``."""
        share = self.tasks / self.total_tasks if self.total_tasks else 1.0
        filled = int(round(share * width))
        done_now = self.tasks - self.already
        elapsed = self.clock() - self.start
        if done_now > 0 and self.tasks < self.total_tasks:
            left = elapsed / done_now * (self.total_tasks - self.tasks)
            eta = f"{int(left // 60)}m{int(left % 60):02d}s left"
        elif self.tasks >= self.total_tasks:
            eta = f"done in {int(elapsed // 60)}m{int(elapsed % 60):02d}s"
        else:
            eta = "estimating time left"
        return (f"sweep {self.variants}/{self.total_variants} variants [{'#' * filled}{'-' * (width - filled)}] "
                f"{self.tasks}/{self.total_tasks} tasks  {eta}")

    def update(self, tasks: int, variants: int) -> None:
        """Record progress and redraw (at most ten times a second, and always at the end)."""
        self.tasks, self.variants = tasks, variants
        if not self.enabled:
            return
        now = self.clock()
        if now - self.last_draw < 0.1 and tasks < self.total_tasks:
            return
        self.last_draw = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
            self.stream.flush()


# ----------------------------------------------------------------------------------------------------------
# the sweep


@dataclass
class SweepResult:
    """What a sweep wrote and did: the folder, the published table, the ranking and what ran this time."""

    out: Path
    plan: SweepPlan
    results: pd.DataFrame
    ranking: pd.DataFrame
    ran: int
    skipped: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def _submit_all(executor: cf.Executor, tasks: Sequence[Task]) -> dict[cf.Future, Task]:
    return {executor.submit(run_task, task): task for task in tasks}


def run_sweep(
    scenario: str | Path,
    sweep_file: str | Path,
    out: str | Path,
    *,
    draws: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    objective: tuple[str | None, str | None] = (None, None),
    progress_stream: TextIO | None = None,
    progress: bool | None = None,
    on_task_done: Callable[[Task], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run (or resume) a sweep and write its folder: tasks/, variants.csv, results.csv, ranking.csv, sweep.html.

    Parameters
    ----------
    scenario, sweep_file
        The scenario (scenario.toml or its folder) and the sweep file (TOML, docs/sweep.md).
    out
        The sweep folder. If it holds this same sweep, finished tasks are skipped; if it holds another, it is
        refused unless ``force`` (which deletes it and starts again).
    draws
        Monte Carlo draws per grid point (needs a ``[draws]`` table).
    workers, scheduler
        Executor: ``scheduler`` None for a local process pool of ``workers``, ``"local"`` for a Dask
        LocalCluster, else a Dask scheduler address.
    objective
        (metric, direction) overriding the sweep file's ``[objective]`` for the ranking; a metric other than
        the file's needs its direction.
    progress_stream, progress
        Where the progress bar goes (default stderr) and whether to show it (default: when it is a terminal).
    on_task_done
        Called in this process after each task's file is written (tests use it to stop a sweep half way).
    on_note
        Called with each note (about the plan or the executor) as soon as it is known, before tasks run.

    Raises
    ------
    ScenarioError, SweepError
        Bad scenario, sweep file, options or ``out`` folder (nothing is run).
    SweepTaskError
        Some tasks failed; the finished ones are kept for the next attempt.
    """
    started = time.perf_counter()
    loaded = load_scenario(scenario)
    spec = read_sweep_file(sweep_file, loaded)
    metric = objective[0] or spec.objective[0]
    direction = objective[1] or (spec.objective[1] if metric == spec.objective[0] else None)
    if direction is None:
        raise SweepError([f"--objective {metric} differs from the sweep file's objective ({spec.objective[0]}); "
                          "say whether higher or lower is better with --direction max or --direction min"])
    if problems := objective_problems("--objective", metric, direction):
        raise SweepError(problems)
    if workers is not None and workers < 1:
        raise SweepError([f"--workers must be 1 or more (found {workers})"])
    plan = plan_sweep(loaded, spec, draws)
    out = Path(out)
    prepare_folder(out, plan, force=force)

    tasks = plan.tasks
    _, todo, redo = finished_tasks(out, tasks)
    per_variant = {v.id: len(plan.pdus) for v in plan.variants}
    for t in tasks:
        per_variant[t.variant] -= 1
    for t in todo:
        per_variant[t.variant] += 1
    bar = Progress(len(tasks), len(plan.variants), stream=progress_stream, enabled=progress,
                   already_tasks=len(tasks) - len(todo), already_variants=sum(1 for n in per_variant.values() if n == 0))
    notes = list(plan.notes)
    if redo:
        notes.append(f"{len(redo)} task file(s) in {out / 'tasks'} were not whole (empty, cut short, changed since "
                     "they were written, or not a regular file) and are run again")
    for note in notes:
        if on_note is not None:
            on_note(note)
    failures: list[tuple[str, str, str]] = []
    if todo:
        bar.update(bar.tasks, bar.variants)
        with open_executor(workers=min(workers or os.cpu_count() or 1, len(todo)), scheduler=scheduler) as (executor, executor_notes):
            notes += executor_notes
            for note in executor_notes:
                if on_note is not None:
                    on_note(note)
            futures = _submit_all(executor, todo)
            try:
                for future in cf.as_completed(futures):
                    task = futures[future]
                    try:
                        rows = future.result()
                    except Exception as exc:  # one failed task does not stop the others
                        failures.append((task.variant, task.pdu, f"{type(exc).__name__}: {exc}"))
                        continue
                    write_task_file(out, task, rows)
                    per_variant[task.variant] -= 1
                    bar.update(bar.tasks + 1, bar.variants + (per_variant[task.variant] == 0))
                    if on_task_done is not None:
                        on_task_done(task)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                bar.close()
    if failures:
        raise SweepTaskError(sorted(failures))

    raw = read_task_files(out, tasks)
    results = tidy_results(raw, plan.scenario.spec.output.suppression_threshold)
    variants = plan.variants_table()
    ranking = rank_grid_points(results, variants, metric, direction)
    _write_atomic(out / "ranking.csv", _csv_text(ranking))
    from workload.sweep_report import sweep_report_html

    html = sweep_report_html(plan, results, variants, ranking, metric, direction, plan.notes)  # not the executor's: same bytes anywhere
    _write_atomic(out / "sweep.html", html)
    _write_atomic(out / "results.csv", _csv_text(results, index=False))
    seconds = time.perf_counter() - started
    return SweepResult(out=out, plan=plan, results=results, ranking=ranking, ran=len(todo), skipped=len(tasks) - len(todo),
                       seconds=seconds, notes=notes)


# ----------------------------------------------------------------------------------------------------------
# the command line


def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    from workload.cli import positive_int
    """Add ``workload sweep`` to the CLI's subparsers (it sets ``func`` to :func:`cmd_sweep`)."""
    p = subparsers.add_parser(
        "sweep",
        help="run many variants of a scenario (a grid and/or Monte Carlo draws); resumable",
        description="Run every (variant, PDU) of a sweep as an independent task on a process pool or a Dask "
                    "cluster, then write results.csv (variant, pdu, metric, value), ranking.csv and sweep.html. "
                    "Run the same command again to resume a sweep that was stopped.",
    )
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    p.add_argument("--grid", required=True, metavar="SWEEP.toml", help="sweep file: [grid], [draws], [objective] (docs/sweep.md)")
    p.add_argument("--draws", type=positive_int, metavar="N", help="Monte Carlo draws per grid point, from the file's [draws]")
    p.add_argument("--out", help="sweep folder (default sweeps/<scenario folder>-<sweep file name>)")
    p.add_argument("--workers", type=positive_int, help="worker processes, at least 1 (default: the machine's cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on Dask: a scheduler address (tcp://host:port) or 'local' for a LocalCluster on this machine")
    p.add_argument("--objective", metavar="METRIC", help="rank grid points by this metric (default: the file's [objective])")
    p.add_argument("--direction", choices=("max", "min"), help="whether the objective is better high or low")
    p.add_argument("--force", action="store_true", help="delete an --out folder holding another sweep and start again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    p.set_defaults(func=cmd_sweep)
    return p


def _problems(problems: Sequence[object], stream: TextIO) -> None:
    count = len(problems)
    print(f"{count} problem{'s' if count != 1 else ''} found:", file=stream)
    for problem in problems:
        print(f"  - {problem}", file=stream)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``workload sweep``: 0 done; 2 bad scenario, sweep file or options (nothing run); 1 some tasks failed;
    130 interrupted (finished tasks kept: the same command resumes)."""
    stream = sys.stderr
    scenario_path = Path(args.scenario)
    folder = scenario_path if scenario_path.is_dir() else scenario_path.parent
    out = Path(args.out) if args.out else Path("sweeps") / f"{folder.resolve().name}-{Path(args.grid).stem}"
    try:
        result = run_sweep(
            args.scenario, args.grid, out, draws=args.draws, workers=args.workers, scheduler=args.scheduler,
            force=args.force, objective=(args.objective, args.direction), progress=False if args.no_progress else None,
            on_note=lambda note: print(f"note: {note}", file=stream),
        )
    except ScenarioError as exc:
        _problems(exc.problems, stream)
        return 2
    except SweepError as exc:
        _problems(exc.problems, stream)
        return 2
    except SweepTaskError as exc:
        print(f"workload sweep: {exc} Finished tasks are kept in {out}/tasks; run the same command again to retry the rest.",
              file=stream)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; finished tasks are kept in {out}/tasks: run the same command again to resume", file=stream)
        return 130
    top = result.ranking.iloc[0]
    what = "resumed: " if result.skipped else ""
    print(
        f"Sweep written to {out}/ ({what}{result.ran} task(s) run, {result.skipped} already done; "
        f"{len(result.plan.variants)} variants x {len(result.plan.pdus)} PDUs). Best by {top['objective']}: "
        f"{top.name} (mean {top['mean']:.6g}). Open {out / 'sweep.html'}"
    )
    return 0
