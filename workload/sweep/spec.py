"""The sweep file: reading it and checking its structure, its keys and its objective (docs/sweep.md)."""

from __future__ import annotations

import difflib
import json
import math
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workload.load import Scenario
from workload.outcomes import CELLS, REFORM
from workload.safety import regular_file_problem
from workload.scenario import CONTROL_CHARACTERS, CONTROL_CHARACTERS_BUT_LAYOUT, Policy
from workload.sweep.metrics import CELL_FIGURES, METRICS, SCALAR_METRICS
from workload.sweep.problems import SweepError, SweepProblem

DEFAULT_OBJECTIVE = (f"{REFORM}.coverage", "max")
"""Objective when the sweep file has no ``[objective]``: the reform's share of assessed need met, higher better."""


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


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_draw(label: str, key: str, spec: Any) -> tuple[Draw | None, list[SweepProblem]]:
    where = f'[draws] "{key}"'

    def draw_problem(message: str) -> SweepProblem:
        return SweepProblem(label, message, code="sweep.draws", key=key)

    allowed = ", ".join(DISTRIBUTIONS)
    if not isinstance(spec, Mapping):
        return None, [
            draw_problem(
                f'{where} must be a table such as {{ distribution = "uniform", low = 0.05, high = 0.3 }} (found {spec!r})'
            )
        ]
    name = spec.get("distribution")
    if name not in DISTRIBUTIONS:
        near = _nearest(str(name), list(DISTRIBUTIONS))
        hint = f"; did you mean {near}?" if near else ""
        return None, [draw_problem(f"{where}: distribution {name!r} is not known{hint} Allowed: {allowed}")]
    required, optional = DISTRIBUTIONS[name]
    args = {k: v for k, v in spec.items() if k != "distribution"}
    problems: list[SweepProblem] = []
    for extra in [k for k in args if k not in required + optional]:
        problems.append(
            draw_problem(
                f"{where}: {extra!r} is not an argument of a {name} distribution; it takes {', '.join(required + optional)}"
            )
        )
    for missing in [k for k in required if k not in args]:
        problems.append(
            draw_problem(f"{where}: a {name} distribution needs {', '.join(required)}; {missing!r} is missing")
        )
    if problems:
        return None, problems
    if name == "choice":
        values = args["values"]
        if not isinstance(values, list) or not values:
            return None, [draw_problem(f'{where}: values must be a non-empty list, e.g. values = ["off", "soft"]')]
        weights = args.get("weights")
        if weights is not None and (
            not isinstance(weights, list)
            or len(weights) != len(values)
            or not all(is_number(w) and w >= 0 for w in weights)
            or sum(weights) <= 0
        ):
            return None, [
                draw_problem(f"{where}: weights must be a list of {len(values)} numbers, 0 or more, not all 0")
            ]
        return Draw(key, name, dict(args)), []
    bad = [k for k in required if not is_number(args[k])]
    if bad:
        return None, [
            draw_problem(
                f"{where}: {', '.join(bad)} must be finite numbers (found {', '.join(repr(args[k]) for k in bad)})"
            )
        ]
    if name == "uniform" and not args["low"] < args["high"]:
        problems.append(
            draw_problem(f"{where}: low must be below high (found low = {args['low']}, high = {args['high']})")
        )
    if name == "triangular" and not (args["low"] <= args["mode"] <= args["high"] and args["low"] < args["high"]):
        problems.append(
            draw_problem(
                f"{where}: needs low <= mode <= high with low < high (found {args['low']}, {args['mode']}, {args['high']})"
            )
        )
    if name == "normal" and not args["sd"] > 0:
        problems.append(draw_problem(f"{where}: sd must be above 0 (found {args['sd']})"))
    if name == "lognormal" and not (args["median"] > 0 and args["sigma"] > 0):
        problems.append(
            draw_problem(f"{where}: median and sigma must be above 0 (found {args['median']}, {args['sigma']})")
        )
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
        raise SweepError([SweepProblem(str(path), "sweep file not found", code="sweep.file")])
    if problem:  # a named pipe or a device would hang the reader
        raise SweepError([SweepProblem(str(path), f"the sweep file {problem}", code="sweep.file")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise SweepError([SweepProblem(label, f"is not valid TOML: {exc}", code="sweep.file")]) from None
    except UnicodeDecodeError:
        raise SweepError([SweepProblem(label, "is not UTF-8 text", code="sweep.file")]) from None
    problems: list[SweepProblem] = []
    for key in [k for k in data if k not in SWEEP_KEYS]:
        near = _nearest(key, SWEEP_KEYS)
        hint = f"; did you mean {near}?" if near else ""
        problems.append(
            SweepProblem(
                label,
                f"{key!r} is not a sweep setting{hint} Allowed: {', '.join(SWEEP_KEYS)}",
                code="sweep.setting",
                key=key,
            )
        )

    grid_table = data.get("grid", {})
    if not isinstance(grid_table, Mapping):
        problems.append(SweepProblem(label, "grid must be a table ([grid]) of key = [values]", code="sweep.grid"))
        grid_table = {}
    grid: dict[str, list[Any]] = {}

    def grid_problem(key: str, message: str) -> SweepProblem:
        return SweepProblem(label, f'[grid] "{key}" {message}', code="sweep.grid", key=key)

    for key, values in _flatten_grid(grid_table).items():
        values = values if isinstance(values, list) else [values]
        if not values:
            problems.append(grid_problem(key, "has an empty list; give at least one value"))
            continue
        odd = [v for v in values if isinstance(v, (list, dict)) or v is None]
        if odd:
            problems.append(grid_problem(key, f"values must be numbers, text or true/false (found {odd[0]!r})"))
            continue
        seen = [json.dumps(v) for v in values]
        if len(set(seen)) != len(seen):
            problems.append(grid_problem(key, f"lists a value twice ({values}); each value makes its own variants"))
            continue
        grid[key] = list(values)

    draws_table = data.get("draws", {})
    if not isinstance(draws_table, Mapping):
        problems.append(
            SweepProblem(
                label, "draws must be a table ([draws]) of key = { distribution = ..., ... }", code="sweep.draws"
            )
        )
        draws_table = {}
    draws: dict[str, Draw] = {}
    flat_draws = _flatten_draws(draws_table)
    if scenario is not None:
        for section, keys in (("grid", list(_flatten_grid(grid_table))), ("draws", list(flat_draws))):
            problems += [p for p in (key_problem(label, section, k, scenario) for k in keys) if p]
    for key, spec in flat_draws.items():
        draw, found = _check_draw(label, key, spec)
        problems += found
        if draw is not None:
            draws[key] = draw
    for key in [k for k in draws if k in grid]:
        problems.append(
            SweepProblem(
                label,
                f'"{key}" is in both [grid] and [draws]; a key is either listed or drawn',
                code="sweep.draws",
                key=key,
            )
        )

    objective_table = data.get("objective", {})
    metric, direction = DEFAULT_OBJECTIVE
    if not isinstance(objective_table, Mapping):
        problems.append(
            SweepProblem(
                label,
                'objective must be a table: [objective] metric = "...", direction = "max" or "min"',
                code="sweep.objective",
            )
        )
    else:
        for key in [k for k in objective_table if k not in ("metric", "direction")]:
            problems.append(
                SweepProblem(
                    label,
                    f"[objective] {key!r} is not a setting; allowed: metric, direction",
                    code="sweep.objective",
                    key=key,
                )
            )
        metric = objective_table.get("metric", metric)
        direction = objective_table.get("direction", direction)
        problems += objective_problems(label, metric, direction)

    seed = data.get("seed")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problems.append(
            SweepProblem(
                label, f"seed must be a whole number, 0 or more (found {seed!r})", code="sweep.setting", key="seed"
            )
        )
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        problems.append(SweepProblem(label, "name must be text", code="sweep.setting", key="name"))
        name = path.stem
    elif (hidden := _hidden_character(name, CONTROL_CHARACTERS)) is not None:
        problems.append(
            SweepProblem(
                label,
                f"name has a control or invisible formatting character ({hidden}) "
                "in it (a tab, line break, escape, direction mark or similar); write it on one line of plain text",
                code="sweep.setting",
                key="name",
            )
        )
    description = str(data.get("description", ""))
    hidden = _hidden_character(description, CONTROL_CHARACTERS_BUT_LAYOUT)
    if hidden is not None:
        problems.append(
            SweepProblem(
                label,
                f"description has a control or invisible formatting character ({hidden}) in it (an escape, "
                "direction mark or similar; line breaks and tabs are fine); remove it",
                code="sweep.setting",
                key="description",
            )
        )
    if not grid and not draws and not problems:
        problems.append(
            SweepProblem(
                label,
                "nothing to sweep: give a [grid] of key = [values] and/or [draws] of key = { distribution = ... }",
                code="sweep.file",
            )
        )
    if problems:
        raise SweepError(problems)
    return SweepSpec(
        path=path.resolve(),
        name=name,
        description=description,
        grid=grid,
        draws=draws,
        objective=(metric, direction),
        seed=seed,
    )


def _hidden_character(text: str, control: Any) -> str | None:
    """The first character of ``text`` that ``control`` (a pattern) matches or that is a Unicode format character
    (category Cf: direction marks, zero-width spaces...), written as U+XXXX; None when there is none."""
    for char in text:
        if control.match(char) or unicodedata.category(char) == "Cf":
            return f"U+{ord(char):04X}"
    return None


def objective_problems(label: str, metric: Any, direction: Any) -> list[SweepProblem]:
    """Problems with an objective: the metric must be one of :data:`METRICS`, the direction max or min."""
    problems: list[SweepProblem] = []
    if metric not in METRICS:
        near = _nearest(str(metric), METRICS, cutoff=0.4)
        hint = f"; did you mean {near}?" if near else ""
        problems.append(
            SweepProblem(
                label,
                f"[objective] metric {metric!r} is not a sweep metric{hint} "
                f"Metrics are <cell>.<figure> (cells {', '.join(CELLS)}; figures {', '.join(CELL_FIGURES)}, "
                f"coverage_women, coverage_men, coverage_low_risk_complex) or {', '.join(SCALAR_METRICS)}",
                code="sweep.objective",
                key="metric",
            )
        )
    if direction not in ("max", "min"):
        problems.append(
            SweepProblem(
                label,
                f'[objective] direction must be "max" or "min" (found {direction!r})',
                code="sweep.objective",
                key="direction",
            )
        )
    return problems


def split_key(key: str) -> tuple[str, str]:
    """``policy.x`` -> ("policy", "x"); ``parameters.a.b`` -> ("parameters", "a.b")."""
    head, _, rest = key.partition(".")
    return head, rest


def key_problem(label: str, section: str, key: str, scenario: Scenario) -> SweepProblem | None:
    """Why ``key`` is no policy setting or parameter path of ``scenario`` (the nearest valid key named), or None."""
    head, rest = split_key(key)
    where = f'[{section}] "{key}"'

    def bad(message: str) -> SweepProblem:
        return SweepProblem(label, message, code="sweep.key", key=key)

    if head == "policy":
        if rest in POLICY_FIELDS_REFUSED:
            return bad(f"{where}: {POLICY_FIELDS_REFUSED[rest]}")
        if rest not in Policy.model_fields:
            near = _nearest(rest, list(Policy.model_fields))
            hint = f"; did you mean policy.{near}?" if near else ""
            return bad(f"{where} is not a policy setting{hint} Policy settings: {', '.join(Policy.model_fields)}")
        return None
    if head == "parameters":
        if rest not in scenario.params.paths():
            near = _nearest(rest, scenario.params.paths())
            hint = f"; did you mean parameters.{near}?" if near else ""
            return bad(f"{where} is not a parameter{hint} (docs/parameters.md lists them all)")
        return None
    if key in scenario.params.paths():
        return bad(f'{where}: keys start with "policy." or "parameters."; did you mean parameters.{key}?')
    if key in Policy.model_fields:
        return bad(f'{where}: keys start with "policy." or "parameters."; did you mean policy.{key}?')
    return bad(
        f'{where}: keys start with "policy." (a policy setting) or "parameters." (a parameter path, docs/parameters.md)'
    )
