"""Solver hand-offs: one PDU's model to HiGHS directly or through PuLP (CBC, HiGHS), with a typed result."""

from __future__ import annotations

import math
import os
import re
import sys
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from workload.allocate.candidates import open_cases
from workload.allocate.model import Model, build_model, build_pdu_model
from workload.allocate.pricing import (
    OPEN_GAP,
    Pricing,
    column_block,
    columns,
    extend_model,
    opening,
    outside_entering,
    starting_columns,
)
from workload.allocate.shadow import HourEffects, hour_effects
from workload.params import Parameters
from workload.scenario import Policy

if TYPE_CHECKING:
    import highspy
    import pulp

SOLVER_LABELS = {
    "highs": "HiGHS",
    "pulp-highs": "HiGHS through PuLP",
    "pulp-cbc": "CBC through PuLP",
    "greedy": "greedy (no solver)",
}


class SolveStatus(StrEnum):
    """How a hand-off ended (its value is the text used in messages)."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time-limit"
    """Stopped at the time limit: values hold the last feasible solution, if any."""
    FAILED = "failed"
    """No usable answer (infeasible, unbounded, an error, or the solver crashed)."""


@dataclass(frozen=True)
class SolveResult:
    """What a hand-off returns: a status, the primal values when usable, and timings."""

    status: SolveStatus
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    """Wall time of the hand-off: building the solver's copy, solving, reading the answer back."""
    solver_seconds: float
    """The solver's own run time (HiGHS's ``getRunTime``; equal to ``seconds`` for CBC)."""
    solver: str
    message: str = ""
    row_dual: np.ndarray | None = None
    """The LP's row duals at its optimum (HiGHS's sign: d objective / d row bound, so <= 0 on a binding
    ``<=`` row of this minimisation); None for a MIP, a non-optimal answer or a hand-off through PuLP."""
    effects: HourEffects | None = None
    """Where one more hour of each capacity and contract row goes, case by case (same conditions)."""
    model: Model | None = None
    """The model ``values`` belong to when the arrays held candidate pairs and the solve added to them (pairs
    priced in from outside, :func:`workload.allocate.pricing.extend_model`, or closed cases opened to moves,
    :func:`workload.allocate.candidates.open_cases`); None: the model solved."""


def relative_gap(objective: float, bound: float, scale: float) -> float:
    """``(objective - bound) / max(|scale|, 1)``: how far an objective may be above the optimum.

    The PDU table's ``gap`` scales by the bound; a solver's own MIP gap (in messages) by its objective.
    """
    return (objective - bound) / max(abs(scale), 1.0)


def highs_lp(
    model: Model, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, active: np.ndarray | None = None
) -> highspy.HighsLp:
    """The model's LP as a ``HighsLp``: every column, by rows as built; or only the ``active`` columns (every
    other held at 0), by columns."""
    import highspy

    lp = highspy.HighsLp()
    if active is None:
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = model.start.astype(np.int32)
        lp.a_matrix_.index_ = model.index
        lp.a_matrix_.value_ = model.value
    else:
        col_start, col_index, col_value = column_block(columns(model), active)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.r_[col_start, len(col_index)].astype(np.int32)
        lp.a_matrix_.index_ = col_index
        lp.a_matrix_.value_ = col_value
        cost, lower, upper = cost[active], lower[active], upper[active]
    lp.num_col_ = lp.a_matrix_.num_col_ = len(cost)
    lp.num_row_ = lp.a_matrix_.num_row_ = model.n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = model.row_lower
    lp.row_upper_ = model.row_upper
    lp.offset_ = model.offset
    return lp


_HIGHS_GREETED = False


def load_highs_quietly() -> None:
    """Make this process's first HiGHS instance with standard output closed.

    HiGHS prints a two-line banner ("Running HiGHS ...") on stdout when the first instance in a process is
    made, whatever its options, which would land in the middle of a run's own output (and in anything
    piped from it). Later instances print nothing, so one quiet first instance is enough.
    """
    global _HIGHS_GREETED
    if _HIGHS_GREETED:
        return
    import highspy

    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no standard output to protect (closed, or never opened)
        highspy.Highs()
    else:
        try:
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.close(quiet)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    _HIGHS_GREETED = True


def new_highs(time_limit: float, threads: int) -> highspy.Highs:
    """A quiet HiGHS instance with this time limit and thread count."""
    import highspy

    load_highs_quietly()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("time_limit", float(time_limit))
    return h


class _Optimum(NamedTuple):
    """An optimum of the LP with some cases closed (:func:`solve_highs`), kept while more cases open."""

    model: Model
    values: np.ndarray
    objective: float
    unopened_gain: float
    opened: int


def solve_highs(model: Model, time_limit: float, threads: int = 1, pricing: bool | None = None) -> SolveResult:
    """Pass the model's arrays straight to HiGHS (``highspy``) and solve it.

    The CSR rows, bounds, costs and integrality go into one ``HighsLp`` (no per-variable Python objects).
    ``threads`` is 1 because PDUs already run in parallel processes.

    ``pricing`` (default: on for the projected LP, which has no x) solves the same LP by pricing pairs in
    (:mod:`workload.allocate.pricing`): it starts from each case's current practitioner and
    :data:`~workload.allocate.pricing.PRICING_START_PAIRS` others, then adds the pairs whose reduced cost
    ``c_e - A_e' pi`` is negative at the current duals, warm-starting each round, until none is. The answer
    is the full LP's optimum (every left-out pair has a non-negative reduced cost), found about three times
    faster on a 2,500 x 90 PDU, whose many equal-cost pairs make the simplex method slow. With candidate pairs
    (:mod:`workload.allocate.candidates`) it also prices every eligible pair outside the arrays
    (:func:`~workload.allocate.pricing.outside_entering`) and, at each optimum, opens the closed cases whose move
    could pay (:func:`~workload.allocate.pricing.opening`) and solves again with their rows (a new HiGHS
    instance: the rows change); ``SolveResult.model`` is then the model the answer belongs to.
    """
    import highspy

    start = time.perf_counter()
    if pricing is None:
        pricing = not model.explicit and not model.integral
    rounds, outside, opened, run_time, unopened_gain = 0, 0, 0, 0.0, 0.0
    grown: Model | None = None
    earlier: _Optimum | None = None  # the last optimum, before cases opened
    while True:
        h, active, model, more = _priced_run(model, time_limit - (time.perf_counter() - start), threads, pricing)
        rounds, outside = rounds + more[0], outside + more[1]
        run_time += float(h.getRunTime())
        if more[1]:
            grown = model
        if not (pricing and model.arrays.rule is not None):
            break
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        # closed cases whose move could pay at these duals are opened, and the LP solved again with their rows
        cases, unopened_gain = opening(model, np.array(h.getSolution().row_dual))
        if not len(cases) or unopened_gain <= OPEN_GAP * max(abs(h.getObjectiveValue()), 1.0):
            break
        point = np.zeros(model.n_cols)
        point[active] = np.array(h.getSolution().col_value)
        earlier = _Optimum(model, point, h.getObjectiveValue(), unopened_gain, opened)
        model = build_model(open_cases(model.arrays, cases))
        grown, opened, unopened_gain = model, opened + len(cases), 0.0
    status = h.getModelStatus()
    info = h.getInfo()
    feasible = info.primal_solution_status == 2
    values = None
    if feasible:
        values = np.zeros(model.n_cols)
        values[active] = np.array(h.getSolution().col_value)
    objective = h.getObjectiveValue() if feasible else None
    bound: float | None = None
    if status == highspy.HighsModelStatus.kOptimal:
        label = SolveStatus.OPTIMAL
        bound = float(info.mip_dual_bound) if model.integral else objective
        if bound is not None and unopened_gain > 0:
            bound -= unopened_gain  # cases left closed: the Lagrangian bound (pricing.opening)
    elif status == highspy.HighsModelStatus.kTimeLimit:
        label = SolveStatus.TIME_LIMIT
        bound = float(info.mip_dual_bound) if model.integral and math.isfinite(info.mip_dual_bound) else None
        if earlier is not None:
            # the time ran out with more cases opened: the optimum before them bounds the full LP (its Lagrangian
            # bound), and is a point of it (the cases then closed stay), used unless HiGHS has a better one now
            bound = earlier.objective - earlier.unopened_gain
            if values is None or objective is None or objective > earlier.objective:
                model, values, objective, unopened_gain, opened = earlier
                grown = model
    else:
        label = SolveStatus.FAILED
        values = None
    message = h.modelStatusToString(status) + (f" after {rounds} pricing round(s)" if pricing else "")
    if model.arrays.rule is not None and pricing:
        message += (
            f" ({model.arrays.n_pairs:,} candidate pairs, {outside:,} of them priced in from outside; "
            f"{opened:,} case(s) opened to moves"
            + (f", the others could gain at most {unopened_gain:,.1f} together" if unopened_gain > 0 else "")
            + ")"
        )
        if earlier is not None and label == SolveStatus.TIME_LIMIT:
            message += "; the bound is the LP optimum's before the last cases opened, less what they could gain"
    # the last restricted LP prices every left-out pair at a non-negative reduced cost, so its duals are the
    # full LP's (a left-out column at 0 is dual feasible): the shadow prices read them
    row_dual, effects = None, None
    if label == SolveStatus.OPTIMAL and not model.integral and info.dual_solution_status == 2 and not unopened_gain:
        row_dual = np.array(h.getSolution().row_dual, dtype=float)
        families = [model.families[f] for f in ("capacity", "contract") if f in model.families]
        rows = np.concatenate([np.arange(f.start, f.stop) for f in families]).astype(np.int64)
        # a row with no dual is not binding (or its hour is worth nothing): it is not followed
        effects = hour_effects(h, model, active, rows[np.abs(row_dual[rows]) > 1e-9])
    return SolveResult(
        label,
        values,
        objective,
        bound,
        time.perf_counter() - start,
        run_time,
        "highs",
        message,
        row_dual,
        effects,
        grown,
    )


def _priced_run(
    model: Model, time_limit: float, threads: int, pricing: bool
) -> tuple[highspy.Highs, np.ndarray, Model, tuple[int, int]]:
    """One HiGHS instance on ``model``, with pairs priced in (from outside the arrays too, rebuilding the model
    around them: :func:`workload.allocate.pricing.extend_model`). Returns the instance, the model's columns in
    HiGHS's order, the model they belong to, and (pricing rounds, pairs priced in from outside)."""
    import highspy

    start = time.perf_counter()
    h = new_highs(max(time_limit, 1e-6), threads)
    y = model.blocks["y"]
    priced = pricing and y.stop > y.start
    if priced:
        # the restricted LPs are small and re-solved warm from the last basis: presolve costs more than it saves
        h.setOptionValue("presolve", "off")
        active = starting_columns(model)
        lp = highs_lp(model, model.cost, model.lower, model.upper, active)
    else:
        active = np.arange(model.n_cols)
        lp = highs_lp(model, model.cost, model.lower, model.upper)
    h.passModel(lp)
    if model.integral and model.integrality.any():
        cols = np.flatnonzero(model.integrality).astype(np.int32)
        h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))
    h.run()
    rounds, outside = 1, 0
    if priced:
        entering = Pricing(model, active)
        while h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            duals = np.array(h.getSolution().row_dual)
            add = entering.entering(duals)
            if not len(add) and model.arrays.rule is not None:
                # the arrays' pairs are priced out: price every other eligible pair, and rebuild around those in
                case, prac = outside_entering(model, duals)
                if len(case):
                    model, active = extend_model(model, active, case, prac)
                    outside += len(case)
                    entering = Pricing(model, active)
                    add = entering.entering(duals)
            if not len(add):
                break
            col_start, col_index, col_value = entering.block(add)
            h.addCols(
                len(add),
                model.cost[add],
                model.lower[add],
                model.upper[add],
                len(col_index),
                col_start,
                col_index,
                col_value,
            )
            active = np.concatenate([active, add])
            # HiGHS counts its time limit against its run time over every run of this instance
            remaining = max(float(time_limit) - (time.perf_counter() - start), 1e-6)
            h.setOptionValue("time_limit", float(h.getRunTime()) + remaining)
            h.run()
            rounds += 1
    return h, active, model, (rounds, outside)


def _safe_names(names: list[str]) -> list[str]:
    """Names PuLP and the LP/MPS formats accept, unique (ids may hold '-' that PuLP would rewrite)."""
    cleaned = [re.sub(r"[^A-Za-z0-9_.]", "_", n) for n in names]
    if len(set(cleaned)) != len(cleaned):
        cleaned = [f"{n}_{i}" for i, n in enumerate(cleaned)]
    return cleaned


def to_pulp(model: Model) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The model as a PuLP problem, from the same arrays: one variable per column, one row at a time.

    Rows with both bounds finite and different become two constraints (``_lo`` and ``_hi``); empty rows
    that any value satisfies are left out. Returns ``(problem, variables)`` with ``variables`` in column
    order.
    """
    import pulp

    names = _safe_names(model.column_names())
    problem = pulp.LpProblem(_safe_names([f"workload_{model.arrays.pdu}"])[0], pulp.LpMinimize)
    integer = (model.integrality > 0).tolist() if model.integral else [False] * model.n_cols
    variables = [
        problem.add_variable(
            name,
            lowBound=float(lo) if math.isfinite(lo) else None,
            upBound=float(hi) if math.isfinite(hi) else None,
            cat=pulp.LpInteger if whole else pulp.LpContinuous,
        )
        for name, lo, hi, whole in zip(names, model.lower.tolist(), model.upper.tolist(), integer)
    ]
    nz = np.flatnonzero(model.cost)
    problem.setObjective(
        pulp.LpAffineExpression(
            [(variables[j], float(model.cost[j])) for j in nz.tolist()], constant=float(model.offset)
        )
    )
    row_names = _safe_names(model.row_names())
    index = model.index.tolist()
    value = model.value.tolist()
    start = model.start.tolist()
    for i, (name, lo, hi) in enumerate(zip(row_names, model.row_lower.tolist(), model.row_upper.tolist())):
        a, b = start[i], start[i + 1]
        if a == b and lo <= 0.0 <= hi:
            continue
        expr = pulp.LpAffineExpression([(variables[j], v) for j, v in zip(index[a:b], value[a:b])])
        if lo == hi:
            problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, name, lo))
            continue
        if math.isfinite(lo) and math.isfinite(hi):
            problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"{name}_lo", lo))
            problem.addConstraint(
                pulp.LpConstraint(pulp.LpAffineExpression(expr), pulp.LpConstraintLE, f"{name}_hi", hi)
            )
        elif math.isfinite(hi):
            problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, name, hi))
        elif math.isfinite(lo):
            problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, name, lo))
    return problem, variables


def solve_pulp(model: Model, solver: Literal["highs", "cbc"], time_limit: float, threads: int = 1) -> SolveResult:
    """Build the model in PuLP (:func:`to_pulp`) and solve it with HiGHS or CBC."""
    import pulp

    start = time.perf_counter()
    problem, variables = to_pulp(model)
    if solver == "highs":
        load_highs_quietly()
        engine = pulp.HiGHS(msg=False, timeLimit=float(time_limit), threads=int(threads))
    else:
        with catch_warnings():
            # PuLP 3.x warns that the bundled CBC goes in 4.0; pyproject pins pulp<4 for exactly this binary
            simplefilter("ignore", DeprecationWarning)
            engine = pulp.PULP_CBC_CMD(msg=False, timeLimit=float(time_limit), threads=int(threads))
    solve_start = time.perf_counter()
    problem.solve(engine)
    solver_seconds = time.perf_counter() - solve_start
    name = f"pulp-{solver}"
    usable = problem.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if not usable:
        return SolveResult(
            SolveStatus.FAILED,
            None,
            None,
            None,
            time.perf_counter() - start,
            solver_seconds,
            name,
            f"{pulp.LpStatus[problem.status]} (solution status {problem.sol_status})",
        )
    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=float)
    values = np.clip(values, model.lower, model.upper)
    label = SolveStatus.OPTIMAL if problem.sol_status == pulp.LpSolutionOptimal else SolveStatus.TIME_LIMIT
    objective = model.objective(values)
    bound = objective if label == SolveStatus.OPTIMAL else None
    return SolveResult(
        label,
        values,
        objective,
        bound,
        time.perf_counter() - start,
        solver_seconds,
        name,
        pulp.LpStatus[problem.status],
    )


def solve_model(model: Model, solver: str, time_limit: float) -> SolveResult:
    """Solve with the named hand-off (``highs``, ``pulp-highs`` or ``pulp-cbc``); exceptions become ``failed``."""
    start = time.perf_counter()
    try:
        if solver == "highs":
            return solve_highs(model, time_limit)
        if solver == "pulp-highs":
            return solve_pulp(model, "highs", time_limit)
        if solver == "pulp-cbc":
            return solve_pulp(model, "cbc", time_limit)
        raise ValueError(f"unknown solver {solver!r}; expected highs, pulp-highs or pulp-cbc")
    except Exception as exc:  # noqa: BLE001 - a solver crash must not crash the run: it falls back
        elapsed = time.perf_counter() - start
        return SolveResult(
            SolveStatus.FAILED, None, None, None, elapsed, elapsed, solver, f"{type(exc).__name__}: {exc}"
        )


def export_model(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    partners: pd.DataFrame | None,
    params: Parameters,
    policy: Policy,
    pdu: str,
    path: str | Path,
) -> Path:
    """Write one PDU's model as an .lp or .mps file (by the suffix of ``path``) for an analyst to audit.

    The file is written through PuLP from the same arrays both hand-offs use, so names are readable:
    ``y_<case>_<practitioner>`` hours, ``u1_<case>``/``u2_<case>`` unmet hours, ``capacity_<practitioner>``
    rows and so on (docs/model.md, "The LP allocator" lists them). With ``policy.exact`` the file is the MIP.
    """
    path = Path(path)
    model = build_pdu_model(cases, practitioners, partners, params, policy, pdu)
    problem, _ = to_pulp(model)
    suffix = path.suffix.lower()
    if suffix == ".lp":
        problem.writeLP(str(path))
    elif suffix == ".mps":
        problem.writeMPS(str(path))
    else:
        raise ValueError(f"{path.name}: the model can be written as .lp or .mps, not {path.suffix!r}")
    return path
