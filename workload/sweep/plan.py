"""The sweep plan: variants from the grid and the draws, the tasks, the fingerprints of the inputs, and
every value checked against the scenario before anything runs."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from workload import __version__
from workload.load import Scenario, resolve_table_path
from workload.params import ParameterError, flatten_overrides
from workload.safety import regular_file_problem
from workload.scenario import Policy
from workload.sweep.problems import SweepError, SweepProblem
from workload.sweep.spec import Draw, SweepSpec, is_number, key_problem, split_key

MAX_VARIANTS = 10_000
"""A sweep with more variants than this is refused as a likely mistake (split it into several sweeps)."""


def _value_problem(label: str, section: str, key: str, value: Any, scenario: Scenario) -> SweepProblem | None:
    """Why ``value`` is not allowed for ``key`` (by the policy model or the parameter's rules), or None."""
    head, rest = split_key(key)
    where = f'[{section}] "{key}"'
    if head == "policy":
        try:
            Policy.model_validate({**scenario.spec.policy.model_dump(), rest: value})
        except ValidationError as exc:
            messages = "; ".join(e["msg"] for e in exc.errors())
            return SweepProblem(
                label, f"{where}: value {value!r} is not allowed: {messages}", code="sweep.value", key=key
            )
        return None
    try:
        scenario.params.with_overrides({rest: value})
    except ParameterError as exc:
        return SweepProblem(label, f"{where}: {exc}", code="sweep.value", key=key)
    return None


def _draws_problem(label: str, key: str, draw: Draw, values: Sequence[Any], scenario: Scenario) -> SweepProblem | None:
    """Every draw of a numeric distribution for a parameter, checked at once (vectorised) against the
    parameter's range: how many fall outside it, and the lowest and highest drawn. The type (a number for a
    number, not a whole table) is checked on the first draw."""
    rest = split_key(key)[1]
    where = f'[draws] "{key}"'
    if not len(values):
        return None
    if not is_number(scenario.params[rest]):  # a table or text: the first draw's problem says what it takes
        return _value_problem(label, "draws", key, values[0], scenario)
    found = scenario.params.values_problem(rest, values, what="draws")
    if found:
        return SweepProblem(
            label,
            f"{where}: {found}; choose a {draw.distribution} distribution whose draws stay "
            "inside it (or a choice of allowed values)",
            code="sweep.value",
            key=key,
        )
    return None


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
            values = (
                rng.triangular(a["low"], a["mode"], a["high"], size=n_draws)
                if a["low"] < a["high"]
                else np.full(n_draws, float(a["mode"]))
            )
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
        return hashlib.sha256(
            f"{self.scenario_fingerprint}|{self.sweep_fingerprint}|{__version__}".encode()
        ).hexdigest()

    @property
    def tasks(self) -> list[Task]:
        """Every (variant, PDU), variant by variant so whole variants finish early."""
        path, fingerprint = str(self.scenario.path), self.scenario_fingerprint
        return [Task(path, fingerprint, v.id, pdu, v.policy, v.parameters) for v in self.variants for pdu in self.pdus]

    def variants_table(self) -> pd.DataFrame:
        """``variants.csv``: one row per variant with its grid point, draw number and every swept value."""
        frame = pd.DataFrame(
            [v.settings for v in self.variants], index=pd.Index([v.id for v in self.variants], name="variant")
        )
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
    if bad := [
        SweepProblem(str(path), problem, code="sweep.scenario")
        for _, path in paths
        if (problem := regular_file_problem(path))
    ]:
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
    problems: list[SweepProblem] = []
    if n_draws is not None and n_draws < 1:
        problems.append(
            SweepProblem("--draws", f"must be 1 or more (found {n_draws})", code="sweep.option", joiner=" ")
        )
    if spec.draws and n_draws is None:
        problems.append(
            SweepProblem(
                label,
                f"has a [draws] table ({', '.join(spec.draws)}); give --draws N, the number of draws per grid point",
                code="sweep.option",
                joiner=" ",
            )
        )
    if n_draws is not None and not spec.draws:
        problems.append(
            SweepProblem(
                "--draws",
                f"{n_draws} was given but {label} has no [draws] table to draw from",
                code="sweep.option",
                joiner=" ",
            )
        )
    if problems:
        raise SweepError(problems)
    seed = spec.seed if spec.seed is not None else int(scenario.spec.seed)
    n = n_draws or 0

    bad_keys = set()
    for section, keys in (("grid", list(spec.grid)), ("draws", list(spec.draws))):
        for key in keys:
            problem = key_problem(label, section, key, scenario)
            if problem:
                problems.append(problem)
                bad_keys.add(key)
    points = grid_points({k: v for k, v in spec.grid.items()})
    n_variants = len(points) * max(n, 1)
    if n_variants > MAX_VARIANTS:
        problems.append(
            SweepProblem(
                label,
                f"the sweep makes {n_variants:,} variants, more than {MAX_VARIANTS:,}; split it into smaller sweeps",
                code="sweep.grid",
            )
        )
    if problems:
        raise SweepError(problems)

    drawn = draw_values(spec.draws, n, seed) if n else pd.DataFrame()
    checked: set[tuple[str, str]] = set()
    for section, key, values in [("grid", k, v) for k, v in spec.grid.items()] + [
        ("draws", k, drawn[k].tolist()) for k in drawn.columns
    ]:
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
                messages = "; ".join(e["msg"] for e in exc.errors())
                problems.append(
                    SweepProblem(label, f"[grid] the policy {settings} is not allowed: {messages}", code="sweep.value")
                )
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
        notes.append(
            "budget-neutral scoring is made neutral within each PDU in a sweep (each PDU is its own task), "
            "so its figures differ slightly from `workload run`, which scales over all PDUs together"
        )
    caps = spec.grid.get("policy.budget_cap_gbp", [policy.budget_cap_gbp])
    if any(c is not None for c in caps) or "policy.budget_cap_gbp" in spec.draws:
        notes.append(
            "a budget cap is split between PDUs in proportion to needs-scored required hours; the WMT-scored "
            "LP cell uses the same split (`workload run` splits it by WMT hours for that cell)"
        )
    return SweepPlan(
        scenario=scenario,
        spec=spec,
        n_draws=n,
        seed=seed,
        variants=variants,
        pdus=list(scenario.pdus),
        scenario_fingerprint=scenario_fingerprint(scenario),
        sweep_fingerprint=_sweep_fingerprint(spec, n, seed),
        notes=notes,
    )


def apply_variant(scenario: Scenario, policy: Mapping[str, Any], parameters: Mapping[str, Any]) -> Scenario:
    """The scenario with a variant's policy settings and parameter overrides (on top of the scenario's own)."""
    new_policy = (
        Policy.model_validate({**scenario.spec.policy.model_dump(), **policy}) if policy else scenario.spec.policy
    )
    params = scenario.params.with_overrides(dict(parameters)) if parameters else scenario.params
    spec_parameters = {**flatten_overrides(scenario.spec.parameters), **parameters}
    spec = scenario.spec.model_copy(update={"policy": new_policy, "parameters": spec_parameters})
    return replace(scenario, spec=spec, params=params)
