"""One task, a PDU of a variant: running it on a worker, the metrics of its run, and its file under
``<out>/tasks/`` (checksummed, so a resume knows which files are whole)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workload.load import Scenario, load_scenario
from workload.outcomes import CELLS, TOTAL
from workload.safety import regular_file_problem
from workload.sweep.folder import write_atomic
from workload.sweep.metrics import (
    CELL_FIGURES,
    CONTRIBUTOR_METRICS,
    GROUP_DIMENSIONS,
    SCALAR_METRICS,
    group_metric,
)
from workload.sweep.plan import Task, apply_variant, scenario_fingerprint
from workload.sweep.problems import SweepFolderError, SweepProblem, SweepTaskError


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
    with their contract hours for this PDU, its share of any budget cap, no small-cell suppression (the
    sweep suppresses when it publishes, after totalling PDUs) and no trade-off (it re-solves the LP)."""
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
    spec = scenario.spec.model_copy(
        update={
            "policy": policy.model_copy(update={"workers": 1}),
            "output": scenario.spec.output.model_copy(update={"suppression_threshold": 0, "tradeoff": False}),
        }
    )
    return replace(scenario, spec=spec, cases=cases, practitioners=staff, partners=partners, warnings=[])


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
    for key in (
        "net_whole_life_cost_reform_vs_baseline",
        "practitioners_red_current",
        "practitioners_red_baseline",
        "practitioners_red_reform",
        "statutory_shortfall_hours",
    ):
        out[key] = float(summary[key])
    for key in CONTRIBUTOR_METRICS:
        out[key] = float(result.contributors[key])
    by_group = result.tables["outcomes_by_group"]
    rows = by_group[by_group["dimension"].isin(GROUP_DIMENSIONS) & (by_group.index != TOTAL)]
    for (dimension, cell), part in rows.groupby(["dimension", "cell"], sort=True):
        for group, row in part.iterrows():
            out[group_metric(dimension, str(group), "cases")] = float(row["cases"])
            out[group_metric(dimension, str(group), "required_hours")] = float(row["required_hours"])
            out[group_metric(dimension, str(group), "given_hours", cell)] = float(row["afforded_hours"]) + float(
                row["partner_hours"]
            )
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
            raise RuntimeError(
                f"the scenario files at {path} differ from the ones the sweep was planned with "
                "(changed during the sweep, or another copy on this worker)"
            )
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
    key = json.dumps(
        [task.scenario_path, task.scenario_fingerprint, shared_policy, task.parameters], sort_keys=True, default=str
    )
    if key not in _SHARES:
        _SHARES[key] = pdu_shares(scenario)
        while len(_SHARES) > 8:
            _SHARES.popitem(last=False)
    result = run_scenario(pdu_scenario(scenario, task.pdu, _SHARES[key]), workers=1)
    rows = sorted(result_metrics(result).items())
    infinite = [m for m, v in rows if math.isinf(v)]
    if infinite:  # a task file holds finite numbers (or nan for a blank figure), nothing else
        raise ValueError(
            f"the run gave an infinite {infinite[0]}{f' (and {len(infinite) - 1} more)' if len(infinite) > 1 else ''}"
        )
    return rows


TASK_HEADER = "metric,value"
"""First line of a task file."""


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
    write_atomic(path, task_file_text(rows))
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
            raise SweepFolderError(
                [
                    SweepProblem(
                        str(path),
                        f"is not a whole task file and cannot be removed ({why}); remove it and run again",
                        code="sweep.folder",
                        joiner=" ",
                    )
                ]
            ) from None
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
    return pd.DataFrame({"variant": variants, "pdu": pdus, "metric": metrics, "value": np.asarray(values, dtype=float)})
