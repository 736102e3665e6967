"""The LP allocator: solve each PDU's model, round it to one practitioner per case, report what broke.

Per PDU (PDUs are independent and solve in parallel processes, HiGHS on one thread each):

1. :func:`workload.allocate.model.build_model` defines the model once, as arrays.
2. A hand-off solves it: :func:`solve_highs` passes the arrays straight to HiGHS (the default, fast);
   :func:`solve_pulp` builds the same model in PuLP and hands it to CBC or HiGHS (portable to any solver
   PuLP drives, and :func:`export_model` writes it as .lp/.mps for an analyst to audit).
3. :func:`round_allocation` turns the LP relaxation into one practitioner per case: it keeps what the LP
   settles, places the split cases, re-optimises every practitioner's hours for that assignment (which
   repairs capacity) and then improves by single moves and exchanges (docs/model.md, "The LP allocator",
   "Rounding"); with ``policy.exact`` the MIP is solved instead and its answer is kept as it is.
4. If a solver fails or stops at its time limit without a usable answer, the PDU falls back to CBC through
   PuLP, then to a solver-free greedy allocation by priority; the PDU's row and the warnings say so.

Results do not depend on the order in which PDUs finish: inputs are sorted by id, each PDU's solve is
deterministic, and results are collected in PDU order.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from workload.allocate.model import (
    HOURS_TOL,
    Model,
    PduArrays,
    PduInput,
    build_model,
    build_pdu_model,
    capacity_hours,
    pdu_arrays,
    pdu_inputs,
)
from workload.params import Parameters
from workload.scenario import Policy
from workload.workers import spawn_pool

SHARE_TOL = 1e-6
"""Numerical guard: an LP share of a case at or above 1 - SHARE_TOL counts as the whole case."""

SOLVER_LABELS = {"highs": "HiGHS", "pulp-highs": "HiGHS through PuLP", "pulp-cbc": "CBC through PuLP", "greedy": "greedy (no solver)"}


# ----------------------------------------------------------------------------------------------------------
# results


@dataclass
class Allocation:
    """The LP allocator's answer for a whole scenario.

    Attributes
    ----------
    cases
        Indexed by case_id (input order): ``practitioner_id`` (None when no practitioner may hold the case),
        ``afforded_hours`` (practitioner hours), ``partner_id`` (None when none), ``partner_hours``,
        ``unmet_hours``, ``floor_hours``, ``floor_shortfall_hours``, ``moved`` (the case had a current
        practitioner and now has another, or none). ``afforded + partner + unmet = required`` for every case.
    practitioners
        Indexed by practitioner_id (input order): ``allocated_hours``, ``capacity_hours``, ``utilisation``
        (allocated / capacity; NaN when capacity is 0), ``overflow_hours`` (hours above capacity, only ever
        to meet statutory floors) and ``caseload`` (cases held).
    pdus
        Indexed by pdu (sorted): ``status`` (optimal, rounded, time-limit, fallback, no-model), ``solver``,
        ``objective`` (of the final one-practitioner allocation), ``bound`` (LP relaxation or MIP bound),
        ``gap`` (objective - bound, over max(|bound|, 1)), ``seconds`` (the PDU's wall time),
        ``solver_seconds`` (the solver's own run time, summed over any fallbacks and the polishing LP), ``cases``, ``shortfall_hours``
        (floor hours not met), ``overflow_hours``, ``practitioners_over_capacity`` and
        ``practitioners_over_cap`` (';'-joined ids), ``message``.
    warnings
        Plain-English notes: cases no one may hold, statutory shortfalls, overflow, solver fallbacks.
    """

    cases: pd.DataFrame
    practitioners: pd.DataFrame
    pdus: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


@dataclass
class SolveResult:
    """What a hand-off returns: a status, the primal values when usable, and timings."""

    status: str
    """``optimal``, ``time-limit`` (values hold the last feasible solution, if any), or ``failed``."""
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    """Wall time of the hand-off: building the solver's copy, solving, reading the answer back."""
    solver_seconds: float
    """The solver's own run time (HiGHS's ``getRunTime``; equal to ``seconds`` for CBC)."""
    solver: str
    message: str = ""


@dataclass
class Rounded:
    """A one-practitioner allocation of a PDU's placeable cases (positions in the model's arrays)."""

    pair: np.ndarray
    hours: np.ndarray
    link: np.ndarray
    partner_hours: np.ndarray
    moves: int = 0
    solver_seconds: float = 0.0
    """HiGHS's own run time in the rounding (the polishing LP)."""


@dataclass
class PduResult:
    """One PDU's answer, ready to be stacked with the others."""

    pdu: str
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    row: dict
    warnings: list[str]


# ----------------------------------------------------------------------------------------------------------
# hand-offs


PRICING_START_PAIRS = 12
"""Solver setting, not a model number: with pricing, each case starts with its current practitioner's pair
and this many others (spread evenly over the PDU's practitioners). 12 and :data:`PRICING_ADD_PER_CASE` 10,
with HiGHS's presolve off, took 44% less HiGHS time than 8 and 5 with presolve on over ten national PDUs
(2,000-3,300 cases each) and a third less on the regional scenario, at the same optimum."""

PRICING_ADD_PER_CASE = 10
"""Solver setting: each pricing round adds at most this many pairs per case, those of most negative
reduced cost."""

PRICING_TOL = 1e-9
"""Numerical guard: a pair joins the model when its reduced cost is below -PRICING_TOL."""


def _columns(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's matrix by columns (CSC start, row index, value), from its CSR rows (made once per model)."""
    cached = model.__dict__.get("_csc")
    if cached is None:
        rows = np.repeat(np.arange(model.n_rows), np.diff(model.start))
        order = np.lexsort((rows, model.index))
        start = np.concatenate([[0], np.cumsum(np.bincount(model.index, minlength=model.n_cols))]).astype(np.int64)
        cached = (start, rows[order].astype(np.int32), model.value[order])
        model.__dict__["_csc"] = cached
    return cached


def _highs_lp(model: Model, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              active: np.ndarray | None = None) -> "highspy.HighsLp":
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
        col_start, col_index, col_value = _column_block(_columns(model), active)
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


def _column_block(csc: tuple[np.ndarray, np.ndarray, np.ndarray], cols: np.ndarray):
    """CSC (start, index, value) of the given columns, in that order."""
    start, index, value = csc
    lengths = start[cols + 1] - start[cols]
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    take = np.repeat(start[cols] - first, lengths) + np.arange(int(lengths.sum()))
    return first.astype(np.int32), index[take], value[take]


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


def _new_highs(time_limit: float, threads: int) -> "highspy.Highs":
    import highspy

    load_highs_quietly()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("time_limit", float(time_limit))
    return h


def solve_highs(model: Model, time_limit: float, threads: int = 1, pricing: bool | None = None) -> SolveResult:
    """Pass the model's arrays straight to HiGHS (``highspy``) and solve it.

    The CSR rows, bounds, costs and integrality go into one ``HighsLp`` (no per-variable Python objects).
    ``threads`` is 1 because PDUs already run in parallel processes.

    ``pricing`` (default: on for the projected LP, which has no x) solves the same LP by pricing pairs in:
    it starts from each case's current practitioner and :data:`PRICING_START_PAIRS` others, then adds the
    pairs whose reduced cost ``c_e - A_e' pi`` is negative at the current duals, warm-starting each
    round, until none is. The answer is the full LP's optimum (every left-out pair has a non-negative
    reduced cost), found about three times faster on a 2,500 x 90 PDU, whose many equal-cost pairs make
    the simplex method slow.
    """
    import highspy

    start = time.perf_counter()
    if pricing is None:
        pricing = not model.explicit and not model.integral
    h = _new_highs(time_limit, threads)
    y = model.blocks["y"]
    if pricing and y.stop > y.start:
        # the restricted LPs are small and re-solved warm from the last basis: presolve costs more than it saves
        h.setOptionValue("presolve", "off")
    if pricing and y.stop > y.start:
        csc = _columns(model)
        a = model.arrays
        counts = np.diff(a.pair_start)[a.pair_case]
        rank = (np.arange(a.n_pairs) - a.pair_start[a.pair_case] - (a.pair_case % np.maximum(counts, 1))) % np.maximum(counts, 1)
        keep = rank < PRICING_START_PAIRS
        keep[a.current_pair[a.current_pair >= 0]] = True
        active = np.concatenate([np.flatnonzero(keep) + y.start, np.arange(y.stop, model.n_cols)]).astype(np.int64)
        lp = _highs_lp(model, model.cost, model.lower, model.upper, active)
    else:
        active = np.arange(model.n_cols)
        lp = _highs_lp(model, model.cost, model.lower, model.upper)
    h.passModel(lp)
    if model.integral and model.integrality.any():
        cols = np.flatnonzero(model.integrality).astype(np.int32)
        h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))
    h.run()
    rounds = 1
    if pricing and y.stop > y.start:
        in_model = np.zeros(model.n_cols, dtype=bool)
        in_model[active] = True
        rows = np.repeat(np.arange(model.n_rows), np.diff(model.start))
        a = model.arrays
        while h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            duals = np.array(h.getSolution().row_dual)
            reduced = model.cost - np.bincount(model.index, weights=model.value * duals[rows], minlength=model.n_cols)
            pairs = np.flatnonzero((reduced[y] < -PRICING_TOL) & ~in_model[y])
            if not len(pairs):
                break
            # the most negative reduced costs of each case, in (case, reduced cost) order
            add = pairs[_first_per_group(a.pair_case[pairs], reduced[y][pairs], PRICING_ADD_PER_CASE)] + y.start
            col_start, col_index, col_value = _column_block(csc, add)
            h.addCols(len(add), model.cost[add], model.lower[add], model.upper[add], len(col_index), col_start, col_index, col_value)
            in_model[add] = True
            active = np.concatenate([active, add])
            h.setOptionValue("time_limit", max(float(time_limit) - (time.perf_counter() - start), 1e-6))
            h.run()
            rounds += 1
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
        label = "optimal"
        bound = float(info.mip_dual_bound) if model.integral else objective
    elif status == highspy.HighsModelStatus.kTimeLimit:
        label = "time-limit"
        bound = float(info.mip_dual_bound) if model.integral and math.isfinite(info.mip_dual_bound) else None
    else:
        label = "failed"
        values = None
    message = h.modelStatusToString(status) + (f" after {rounds} pricing round(s)" if pricing else "")
    return SolveResult(label, values, objective, bound, time.perf_counter() - start, float(h.getRunTime()), "highs", message)


def _safe_names(names: list[str]) -> list[str]:
    """Names PuLP and the LP/MPS formats accept, unique (ids may hold '-' that PuLP would rewrite)."""
    cleaned = [re.sub(r"[^A-Za-z0-9_.]", "_", n) for n in names]
    if len(set(cleaned)) != len(cleaned):
        cleaned = [f"{n}_{i}" for i, n in enumerate(cleaned)]
    return cleaned


def to_pulp(model: Model) -> tuple["pulp.LpProblem", list["pulp.LpVariable"]]:
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
        pulp.LpAffineExpression([(variables[j], float(model.cost[j])) for j in nz.tolist()], constant=float(model.offset))
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
            problem.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(expr), pulp.LpConstraintLE, f"{name}_hi", hi))
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
        return SolveResult("failed", None, None, None, time.perf_counter() - start, solver_seconds, name,
                           f"{pulp.LpStatus[problem.status]} (solution status {problem.sol_status})")
    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=float)
    values = np.clip(values, model.lower, model.upper)
    label = "optimal" if problem.sol_status == pulp.LpSolutionOptimal else "time-limit"
    objective = model.objective(values)
    bound = objective if label == "optimal" else None
    return SolveResult(label, values, objective, bound, time.perf_counter() - start, solver_seconds, name,
                       pulp.LpStatus[problem.status])


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
    except Exception as exc:  # a solver crash must not crash the run: it falls back
        elapsed = time.perf_counter() - start
        return SolveResult("failed", None, None, None, elapsed, elapsed, solver, f"{type(exc).__name__}: {exc}")


# ----------------------------------------------------------------------------------------------------------
# rounding


def _take(group: np.ndarray, amount: np.ndarray, priority: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Greedy within groups: take from items in ascending ``priority`` until each group's budget is used.

    ``group[i]`` indexes ``budget``; returns how much is taken from each item (0..amount[i]). Ties go to
    the earlier item. Vectorised: one lexsort and a cumulative sum per group.
    """
    n = len(amount)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((np.arange(n), priority, group))
    g = group[order]
    amt = np.maximum(amount[order], 0.0)
    cum_before = np.cumsum(amt) - amt
    first = np.r_[True, g[1:] != g[:-1]]
    first_pos = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    before = cum_before - cum_before[first_pos]
    taken = np.clip(np.maximum(budget[g], 0.0) - before, 0.0, amt)
    out = np.zeros(n)
    out[order] = taken
    return out


def _segments(
    a: PduArrays, cases: np.ndarray, pair: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A case's practitioner hours as three segments, each with its value per hour to the objective.

    For case c held through pair e with partner hours z_c: hours in [0, F_c) save the floor shortfall and
    unmet need below the target (``pi_s + m w_c`` an hour); hours up to the coverage target,
    [F_c, max(F_c, theta R_c - z_c)), save ``m w_c``; hours above it, up to R_c - z_c, save ``w_c``. Each
    value is net of the hour's cost at that practitioner (``lambda g_p`` plus any soft-pool penalty).
    Returns (start, length, value), each of shape (3, len(cases)); values fall along a case's segments.
    """
    R = a.required[cases]
    F = np.minimum(a.floor[cases], R - partner_hours)
    top = np.maximum(R - partner_hours, F)
    target = np.clip(a.coverage_target * R - partner_hours, F, top)
    start = np.vstack([np.zeros(len(cases)), F, target])
    end = np.vstack([F, target, top])
    w = a.weight[cases]
    m = a.below_target_multiplier
    unit = a.cost_weight * a.staff_cost[a.pair_prac[pair]] + a.pair_pool_penalty[pair]
    value = np.vstack([a.shortfall_penalty + m * w, m * w, w]) - unit
    return start, np.maximum(end - start, 0.0), value


def _best_hours(a: PduArrays, cases: np.ndarray, pair: np.ndarray, partner_hours: np.ndarray) -> np.ndarray:
    """The best practitioner hours for these cases given who holds them: a fractional knapsack per practitioner.

    Each practitioner's capacity K_p goes to the segments of their cases (:func:`_segments`) of highest
    value first, and only to segments worth more than their cost; then up to rho K_p of overflow goes to
    segments worth more than the overflow penalty (in practice only floors). With the assignment fixed this
    is exactly the LP's choice of hours (partner hours held fixed).
    """
    n = len(cases)
    if n == 0:
        return np.zeros(0)
    _, length, value = _segments(a, cases, pair, partner_hours)
    prac = a.pair_prac[pair]
    group = np.tile(prac, 3)
    amount = np.where(value > 0, length, 0.0).ravel()
    priority = -value.ravel()
    first = _take(group, amount, priority, a.capacity)
    rest = np.where(value.ravel() > a.overflow_penalty, amount - first, 0.0)
    second = _take(group, rest, priority, a.overflow_limit)
    return (first + second).reshape(3, n).sum(axis=0)


def _case_costs(a: PduArrays, cases: np.ndarray, pair: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray) -> np.ndarray:
    """Each case's part of the objective given its practitioner hours: unmet pieces plus the hours' cost."""
    R = a.required[cases]
    unmet = np.maximum(R - hours - partner_hours, 0.0)
    short = np.minimum(np.maximum(a.floor[cases] - hours, 0.0), unmet)
    rest = unmet - short
    u1 = np.minimum(rest, R - np.maximum(a.floor[cases], a.coverage_target * R))
    u2 = rest - u1
    w = a.weight[cases]
    m = a.below_target_multiplier
    unit = a.cost_weight * a.staff_cost[a.pair_prac[pair]] + a.pair_pool_penalty[pair]
    return w * u1 + m * w * u2 + (m * w + a.shortfall_penalty) * short + unit * hours


@dataclass
class _CostTables:
    """Per-case and per-pair quantities the local search reads, computed once for it (partner hours are
    fixed while it runs), each by the same expression as in :func:`_segments` and :func:`_case_costs`."""

    R: np.ndarray
    z: np.ndarray
    floor: np.ndarray
    w: np.ndarray
    mw: np.ndarray
    mw_short: np.ndarray
    above_target: np.ndarray
    start: np.ndarray
    length: np.ndarray
    base: np.ndarray
    unit: np.ndarray


def _cost_tables(a: PduArrays, partner_hours: np.ndarray) -> _CostTables:
    R, z, floor, w = a.required, partner_hours, a.floor, a.weight
    m = a.below_target_multiplier
    F = np.minimum(floor, R - z)
    top = np.maximum(R - z, F)
    target = np.clip(a.coverage_target * R - z, F, top)
    start = np.vstack([np.zeros(len(R)), F, target])
    length = np.maximum(np.vstack([F, target, top]) - start, 0.0)
    mw = m * w
    base = np.vstack([a.shortfall_penalty + mw, mw, w])
    unit = a.cost_weight * a.staff_cost[a.pair_prac] + a.pair_pool_penalty
    return _CostTables(R, z, floor, w, mw, mw + a.shortfall_penalty, R - np.maximum(floor, a.coverage_target * R),
                       start, length, base, unit)


def _caseload_costs(
    a: PduArrays, t: _CostTables, owner: np.ndarray, group: np.ndarray, members: np.ndarray, member_pair: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Objective part of many caseloads at their best hours, in one pass: (cost per caseload, hours per member).

    Caseload g is held by practitioner ``owner[g]`` and is the cases ``members[group == g]``, each held
    through the pair ``member_pair``. Its hours are its own fractional knapsack, as :func:`_best_hours`
    (capacity to the most valuable segments first, then up to rho K_p of overflow for segments worth more
    than the overflow penalty), and its cost is :func:`_case_costs` summed plus the overflow penalty. The
    local search prices hundreds of candidate caseloads a round: one sort over all their segments costs
    what one numpy call per caseload would cost in overhead alone.
    """
    G, n = len(owner), len(members)
    capacity = a.capacity[owner]
    if n == 0:
        return a.overflow_penalty * np.maximum(-capacity, 0.0), np.zeros(0)
    unit = t.unit[member_pair]
    value = (t.base[:, members] - unit).ravel()
    amount = np.where(value > 0, t.length[:, members].ravel(), 0.0)
    items = np.tile(group, 3)
    # within a caseload: most valuable first, ties to the earlier segment (as _take's stable order)
    order = np.lexsort((np.arange(3 * n), -value, items))
    g = items[order]
    first_item = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], np.arange(3 * n), 0))

    def fill(amt: np.ndarray, budget: np.ndarray) -> np.ndarray:
        before = np.cumsum(amt) - amt
        before = before - before[first_item]
        return np.clip(np.maximum(budget[g], 0.0) - before, 0.0, amt)

    amt = amount[order]
    first = fill(amt, capacity)
    second = fill(np.where(value[order] > a.overflow_penalty, amt - first, 0.0), a.overflow_limit[owner])
    filled = np.empty(3 * n)
    filled[order] = first + second
    hours = filled.reshape(3, n).sum(axis=0)
    R, floor = t.R[members], t.floor[members]
    unmet = np.maximum(R - hours - t.z[members], 0.0)
    short = np.minimum(np.maximum(floor - hours, 0.0), unmet)
    rest = unmet - short
    u1 = np.minimum(rest, t.above_target[members])
    cost = t.w[members] * u1 + t.mw[members] * (rest - u1) + t.mw_short[members] * short + unit * hours
    load = np.bincount(group, weights=hours, minlength=G)
    return np.bincount(group, weights=cost, minlength=G) + a.overflow_penalty * np.maximum(load - capacity, 0.0), hours


EXCHANGE_PAIRS = 10
"""Search setting, not a model number: when no single move helps, exchanges are tried between the this many
most promising (p, q) pairs of practitioners, :data:`EXCHANGES_PER_PAIR` each."""

EXCHANGES_PER_PAIR = 3
SWAP_BACK_TRIES = 3
"""Search setting: a case away from its current practitioner is tried back in exchange for this many of
their cases, those closest in hours."""

SPARE_MOVES_PER_PRACTITIONER = 5
"""Search setting: each practitioner whose hours are worth less is offered this many cases a round, those
of best optimistic estimate; :data:`SPARE_MOVES_WHEN_STUCK` when a round makes no move."""

SPARE_MOVES_WHEN_STUCK = 20
"""Search setting: how deep down each practitioner's list of cases the search looks before it gives up on
single moves (the estimate is optimistic, so the best moves are not always at the top)."""


@dataclass
class _Holdings:
    """Who holds what during the local search: cases sorted by holder, with each holder's slice."""

    by_holder: np.ndarray
    start: np.ndarray

    @classmethod
    def of(cls, prac: np.ndarray, P: int) -> "_Holdings":
        return cls(np.argsort(prac, kind="stable"), np.r_[0, np.cumsum(np.bincount(prac, minlength=P))])

    def size(self, p: np.ndarray) -> np.ndarray:
        return self.start[p + 1] - self.start[p]

    def cases(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every case held by each of ``p``: (position in ``p``, case), in ``p``'s order then ascending."""
        sizes = self.size(p)
        owner = np.repeat(np.arange(len(p)), sizes)
        offset = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return owner, self.by_holder[np.repeat(self.start[p], sizes) + offset]


_SUBSETS = np.array([[(k >> i) & 1 for i in range(3)] for k in range(1, 8)], dtype=float)
"""The seven non-empty subsets of a case's three hour segments, as rows of 0/1."""


def _gain_threshold(length: np.ndarray, value: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Per case, the price T_c below which its hours could be worth more than ``need_c``.

    ``Gamma_c(theta) = sum_k length_kc max(value_kc - theta, 0)`` is what case c's three segments are worth
    at a price theta an hour. It is the largest of the partial sums ``sum_(k in S) length_kc (value_kc -
    theta)`` over subsets S, each a line falling in theta, so ``Gamma_c(theta) > need_c`` exactly when theta
    is below one of their roots: T_c is the largest root (+inf when need_c < 0, -inf when the case has no
    hours to give). ``length`` and ``value`` are 3 x C.
    """
    lengths = _SUBSETS @ length
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.where(lengths > 0, (_SUBSETS @ (length * value) - need) / lengths, -np.inf)
    return np.where(need < 0, np.inf, roots.max(axis=0))


def _first_per_group(group: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` items of lowest ``rank`` in each group (ties to the earlier item)."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(group)), rank, group))
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]]
    position = np.arange(len(g)) - np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    return order[position < k]


def _improve(a: PduArrays, pair: np.ndarray, prac: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray,
             count: np.ndarray, limit: np.ndarray | None) -> int:
    """Local search: moves and exchanges of cases that lower the objective, in rounds, until none does.

    Each round gathers candidates and prices them all exactly in one pass (:func:`_caseload_costs`: both
    practitioners' hours re-optimised, the continuity penalty counted whole):

    - **back to the current practitioner**: the LP prices a move at pi / R_c an hour, so it undercharges
      moving a case it cannot fully meet; each case away from an eligible current practitioner is tried
      back with them, alone or in exchange for one of their cases of similar hours (the three closest);
    - **to a practitioner whose hours are worth less**: rounding can leave a practitioner with spare
      hours, or giving hours of less value than another practitioner's unmet need; for each such
      practitioner, every case held elsewhere that they may hold is scored by an optimistic estimate
      (what its practitioner can give other cases with the hours freed, plus what the case is worth at the
      new practitioner, in spare hours or in place of their least valuable hours, minus continuity) and
      the best five are priced (twenty once a round makes no move); a pair is estimated only when a bound
      on what its case could gain there leaves it a chance, and estimates are kept between rounds,
      refreshed only where a practitioner's caseload changed;
    - **exchanges**, when no single move helps: two cases swapped between a practitioner whose unmet need
      is worth more and one whose hours are worth less, the larger going to the latter.

    The improving candidates are made best first, at most one per practitioner a round, so each one's
    price stays exact; the objective falls with every move, so the search ends. A candidate already
    priced is not priced again until the case is held by someone else or one of its two practitioners'
    caseloads changes. Arrays are updated
    in place; returns the number of moves made.
    """
    C, P = a.n_cases, a.n_practitioners
    pi = a.continuity_penalty
    t = _cost_tables(a, partner_hours)
    key = a.pair_case * P + a.pair_prac  # ascending: pairs are sorted by case, then practitioner

    def pair_index(cases: np.ndarray, pracs: np.ndarray) -> np.ndarray:
        """The pair (case, practitioner), or -1 where that practitioner may not hold the case."""
        wanted = cases * P + pracs
        at = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
        return np.where(key[at] == wanted, at, -1)

    cost = _caseload_costs(a, t, np.arange(P), prac, np.arange(C), pair)[0]
    version = np.zeros(P, dtype=np.int64)
    priced: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    room = (lambda q: count[q] < limit[q]) if limit is not None else (lambda q: np.ones(len(q), dtype=bool))
    none = np.zeros(0, dtype=np.int64)
    moves = 0

    def moves_back(held: _Holdings) -> tuple[np.ndarray, ...]:
        if pi <= 0:
            return none, none, none, none
        away = np.flatnonzero((a.current_pair >= 0) & (pair != a.current_pair))
        home = a.current_pair[away]
        alone = away[room(a.pair_prac[home])]
        # in exchange for one of the current practitioner's cases closest in hours that may go the other way
        i, other = held.cases(a.pair_prac[home])
        case = away[i]
        back = pair_index(other, prac[case])
        ok = back >= 0
        i, case, other, back = i[ok], case[ok], other[ok], back[ok]
        pick = _first_per_group(i, np.abs(hours[other] - hours[case]), SWAP_BACK_TRIES)
        return (np.r_[alone, case[pick]], np.r_[a.current_pair[alone], a.current_pair[case[pick]]],
                np.r_[np.full(len(alone), -1), other[pick]], np.r_[np.full(len(alone), -1), back[pick]])

    def worth() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per practitioner: spare hours, the best value an hour more would add (open), unmet hours worth
        having, and the value of the least valuable hour given (marginal); per case, the value it has now."""
        spare = a.capacity - np.bincount(prac, weights=hours, minlength=P)
        value = t.base - t.unit[pair]
        filled = np.clip(hours[None, :] - t.start, 0.0, t.length)
        open_value = np.where((value > 0) & (t.length - filled > HOURS_TOL), value, 0.0)
        best_open = np.zeros(P)
        np.maximum.at(best_open, prac, open_value.max(axis=0))
        open_hours = np.bincount(prac, weights=np.where(value > 0, t.length - filled, 0.0).sum(axis=0), minlength=P)
        marginal = np.full(P, np.inf)
        np.minimum.at(marginal, prac, np.where(filled > HOURS_TOL, value, np.inf).min(axis=0))
        marginal = np.where(np.isfinite(marginal), marginal, 0.0)
        have = (filled * value).sum(axis=0)
        return spare, best_open, open_hours, marginal, have

    estimate = np.zeros(a.n_pairs)
    stale = np.ones(P, dtype=bool)  # practitioners whose caseload changed since the estimates were made
    staff_unit = a.cost_weight * a.staff_cost

    def moves_to_spare(depth: int) -> tuple[np.ndarray, ...]:
        spare, best_open, open_hours, marginal, have = worth()
        # an estimate depends only on the case's holder and the receiving practitioner: refresh those
        e = np.flatnonzero(stale[prac[a.pair_case]] | stale[a.pair_prac])
        stale[:] = False
        # Bound first, price the few that pass. A pair's gain is at most Gamma_c(theta_q) =
        # sum_k L_ck max(b_ck - theta_q, 0), with theta_q q's staff cost plus, when q has no spare hours,
        # the value of q's least valuable hour. Gamma_c is the largest of its partial sums over subsets of
        # the three segments, so Gamma_c(theta) > need_c exactly when theta < T_c, the largest root over
        # subsets. Pairs with theta_q >= T_c cannot have a positive estimate (a move back to the current
        # practitioner, worth pi more, is always priced).
        freed_all = np.minimum(hours, open_hours[prac]) * best_open[prac]
        need = HOURS_TOL - (freed_all - have) + pi * (pair == a.current_pair)
        T = _gain_threshold(t.length, t.base, need)
        theta = staff_unit + np.where(spare > 0, np.minimum(marginal, 0.0), marginal)
        c_all = a.pair_case[e]
        worth_pricing = (theta[a.pair_prac[e]] <= T[c_all] + HOURS_TOL) | (e == a.current_pair[c_all])
        estimate[e[~worth_pricing]] = -np.inf
        e = e[worth_pricing]
        c, q = a.pair_case[e], a.pair_prac[e]
        p = prac[c]
        value = t.base[:, c] - t.unit[e]
        within = np.clip(np.maximum(spare[q], 0.0) - t.start[:, c], 0.0, t.length[:, c])
        gain = (within * np.maximum(value, 0.0) + (t.length[:, c] - within) * np.maximum(value - marginal[q], 0.0)).sum(axis=0)
        continuity = pi * ((pair[c] == a.current_pair[c]).astype(float) - (e == a.current_pair[c]).astype(float))
        estimate[e] = np.where(p != q, freed_all[c] + gain - have[c] - continuity, -np.inf)
        hope = (spare > HOURS_TOL) | (marginal < best_open.max() - HOURS_TOL)
        e = np.flatnonzero(estimate > HOURS_TOL)
        q = a.pair_prac[e]
        e = e[hope[q] & room(q)]
        pick = e[_first_per_group(a.pair_prac[e], -estimate[e], depth)]
        return a.pair_case[pick], pick, np.full(len(pick), -1), np.full(len(pick), -1)

    def exchanges(held: _Holdings) -> tuple[np.ndarray, ...]:
        spare, best_open, _, marginal, _ = worth()
        edge = best_open[:, None] - np.where(spare > HOURS_TOL, 0.0, marginal)[None, :]
        np.fill_diagonal(edge, 0.0)
        found: list[tuple[int, int, int, int]] = []
        for p, q in zip(*np.unravel_index(np.argsort(-edge, axis=None, kind="stable")[:EXCHANGE_PAIRS], edge.shape)):
            p, q = int(p), int(q)
            if edge[p, q] <= HOURS_TOL:
                break
            cs = held.cases(np.array([p]))[1]
            ds = held.cases(np.array([q]))[1]
            cq, dp = pair_index(cs, np.full(len(cs), q)), pair_index(ds, np.full(len(ds), p))
            cs, cq, ds, dp = cs[cq >= 0], cq[cq >= 0], ds[dp >= 0], dp[dp >= 0]
            if not (len(cs) and len(ds)):
                continue
            shift = hours[cs][:, None] - hours[ds][None, :]
            stay_c = (pair[cs] == a.current_pair[cs]).astype(float) - (cq == a.current_pair[cs]).astype(float)
            stay_d = (pair[ds] == a.current_pair[ds]).astype(float) - (dp == a.current_pair[ds]).astype(float)
            promise = np.clip(shift, 0.0, None) * edge[p, q] - pi * (stay_c[:, None] + stay_d[None, :])
            for k in np.argsort(-promise, axis=None, kind="stable")[:EXCHANGES_PER_PAIR].tolist():
                i, j = divmod(k, len(ds))
                if promise[i, j] <= HOURS_TOL:
                    break
                found.append((int(cs[i]), int(cq[i]), int(ds[j]), int(dp[j])))
        if not found:
            return none, none, none, none
        return tuple(np.array(column, dtype=np.int64) for column in zip(*found))

    def make(held: _Holdings, c: np.ndarray, e: np.ndarray, d: np.ndarray, f: np.ndarray) -> int:
        """Price the candidates (case c to pair e and, for an exchange, case d to pair f) and make the
        improving ones, best first, one per practitioner."""
        nonlocal moves
        p, q = prac[c], a.pair_prac[e]
        fresh = []
        for i, (ci, ei, di, pi_, qi) in enumerate(zip(c.tolist(), e.tolist(), d.tolist(), p.tolist(), q.tolist())):
            stamp = (pi_, int(version[pi_]), int(version[qi]))  # the holder too: c may have moved since
            if pi_ != qi and priced.get((ci, ei, di)) != stamp:
                priced[(ci, ei, di)] = stamp
                fresh.append(i)
        if not fresh:
            return 0
        sel = np.array(fresh, dtype=np.int64)
        c, e, d, f, p, q = c[sel], e[sel], d[sel], f[sel], p[sel], q[sel]
        G = len(c)
        owner = np.r_[p, q]
        group, members = held.cases(owner)
        drop = np.r_[c, d]
        keep = members != drop[group]
        group, members = group[keep], members[keep]
        add, add_pair = np.r_[d, c], np.r_[f, e]
        extra = np.flatnonzero(add >= 0)
        group = np.r_[group, extra]
        member_pair = np.r_[pair[members], add_pair[extra]]
        members = np.r_[members, add[extra]]
        after, new_hours = _caseload_costs(a, t, owner, group, members, member_pair)
        swap = d >= 0
        dd = np.maximum(d, 0)
        continuity = pi * ((pair[c] == a.current_pair[c]).astype(float) - (e == a.current_pair[c]).astype(float)
                           + np.where(swap, (pair[dd] == a.current_pair[dd]).astype(float) - (f == a.current_pair[dd]).astype(float), 0.0))
        delta = after[:G] + after[G:] - cost[p] - cost[q] + continuity
        better = np.flatnonzero(delta < -HOURS_TOL)
        if not len(better):
            return 0
        used = np.zeros(P, dtype=bool)
        chosen = []
        for i in better[np.lexsort((better, delta[better]))].tolist():
            if not (used[p[i]] or used[q[i]]):
                used[p[i]] = used[q[i]] = True
                chosen.append(i)
        k = np.array(chosen, dtype=np.int64)
        prac[c[k]], pair[c[k]] = q[k], e[k]
        s = k[swap[k]]
        prac[d[s]], pair[d[s]] = p[s], f[s]
        single = k[~swap[k]]
        np.subtract.at(count, p[single], 1)
        np.add.at(count, q[single], 1)
        cost[p[k]], cost[q[k]] = after[k], after[G + k]
        version[p[k]] += 1
        version[q[k]] += 1
        stale[p[k]] = stale[q[k]] = True
        taken = np.zeros(2 * G, dtype=bool)
        taken[k] = taken[G + k] = True
        hours[members[taken[group]]] = new_hours[taken[group]]
        moves += len(k)
        return len(k)

    depth = SPARE_MOVES_PER_PRACTITIONER
    while True:
        held = _Holdings.of(prac, P)
        singles = [np.r_[x, y] for x, y in zip(moves_back(held), moves_to_spare(depth))]
        if make(held, *singles):
            depth = SPARE_MOVES_PER_PRACTITIONER
        elif depth < SPARE_MOVES_WHEN_STUCK:
            depth = SPARE_MOVES_WHEN_STUCK
        elif make(held, *exchanges(held)):
            depth = SPARE_MOVES_PER_PRACTITIONER
        else:
            return moves


def lp_choice(
    model: Model, values: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read an LP answer per case: practitioner hours, partner hours per link, and the practitioner it leans to.

    Returns ``(hours, z, score, chosen, settled)``: each case's total practitioner hours; partner hours by
    link; each pair's share of its case (x in the explicit form, y / hours in the projected form); the
    pair with the largest share per case (the current practitioner's on a tie); and whether that share is
    the whole case (>= 1 - 1e-6, with some hours in the projected form).
    """
    a = model.arrays
    C, E, Q = a.n_cases, a.n_pairs, a.n_links
    lay = model.layout
    if values is None:
        y, z, x = np.zeros(E), np.zeros(Q), None
    else:
        y = np.clip(values[lay.slice("y")], 0.0, None)
        z = np.clip(values[lay.slice("z")], 0.0, None)
        x = values[lay.slice("x")] if model.explicit else None
    y = np.where(y > HOURS_TOL, y, 0.0)
    hours = np.bincount(a.pair_case, weights=y, minlength=C)
    if x is not None:
        score = np.clip(x, 0.0, 1.0)
    else:
        denom = hours[a.pair_case]
        score = np.divide(y, denom, out=np.zeros(E), where=denom > HOURS_TOL)
    starts = a.pair_start[:-1]
    best = np.maximum.reduceat(score, starts)
    is_best = score >= best[a.pair_case] - 1e-9
    first = np.minimum.reduceat(np.where(is_best, np.arange(E), E), starts)
    current_ok = (a.current_pair >= 0) & is_best[np.maximum(a.current_pair, 0)]
    chosen = np.where(current_ok, a.current_pair, first)
    settled = best >= 1.0 - SHARE_TOL
    if x is None:
        settled &= hours > HOURS_TOL
    return hours, z, score, chosen, settled


def round_allocation(model: Model, values: np.ndarray | None, improve: bool = True, polish: bool = True) -> Rounded:
    """Round an LP (or MIP) answer to one practitioner and at most one partner per case, within capacity.

    1. **Choose**: a case the LP gives wholly to one practitioner (share >= 1 - 1e-6) keeps them. Split
       cases (about 1%), and cases the LP gave no practitioner hours, are placed one at a time, highest
       weighted need first, on the eligible practitioner with the largest LP share among those with room
       for the case's LP hours (and under any caseload cap), ties to the current practitioner, then to the
       most spare hours; if none has room, on the one with most spare hours.
    2. **Partner**: keep the partner with the most LP hours (capped at R_c - F_c: partners never give the
       floor); hours from any other partner are given up.
    3. **Caseload cap**: cases over a practitioner's cap move (smallest first, current holders last) to an
       eligible practitioner under their cap, if there is one.
    4. **Hours**: with every case's practitioner fixed, each practitioner's hours go where they are worth
       most (:func:`_best_hours`: floors, then need below the coverage target, then above it; overflow up
       to rho K_p only for floors). This is the LP's own answer for a fixed assignment, so capacity is
       repaired by trimming the least valuable hours, never by guesswork.
    5. **Improve**: moves and exchanges of cases while they lower the objective (:func:`_improve`); this
       also moves cases whose floors cannot be met where they are.
    6. **Partners and budget**: partners' spare contract hours go to cases with need left in areas the
       partner delivers and, with a budget, hours are trimmed by least value per pound until the PDU's
       share of the cap holds. When there are partners or a budget, and a solver's answer is being
       rounded, practitioner and partner hours are also solved exactly for the assignment by a small LP
       (:func:`polish_hours`), and that answer is kept if it is better (it nearly always is: the rules
       hold partner hours fixed while practitioners' hours are chosen). ``polish=False`` skips the LP.

    ``values`` None (no solver answered) is the greedy fallback: every case is placed by step 1 with no LP
    hours (current practitioner first), then steps 2-6 run, step 6 by rule. An exact MIP answer
    (``model.integral``) is already whole: it keeps its practitioners and hours, and only step 6's rules run.
    """
    a = model.arrays
    C, P, Q = a.n_cases, a.n_practitioners, a.n_links
    lp_hours, z, score, chosen, settled = lp_choice(model, values)

    pair = np.where(settled, chosen, -1)
    prac = np.where(settled, a.pair_prac[np.maximum(pair, 0)], -1)
    load = np.bincount(prac[settled], weights=lp_hours[settled], minlength=P)
    count = np.bincount(prac[settled], minlength=P)
    limit = np.floor(a.limit + 1e-9) if a.limit is not None else None
    moves = 0

    # 1. place split cases, highest weighted need first
    split = np.flatnonzero(~settled)
    if len(split):
        order = np.lexsort((split, -(a.weight[split] * a.required[split])))
        for c in split[order].tolist():
            lo, hi = int(a.pair_start[c]), int(a.pair_start[c + 1])
            pr = a.pair_prac[lo:hi]
            rem = a.capacity[pr] - load[pr]
            room = count[pr] < limit[pr] if limit is not None else np.ones(hi - lo, dtype=bool)
            fits = (rem >= max(lp_hours[c], a.floor[c]) - HOURS_TOL) & room
            is_current = np.arange(lo, hi) == a.current_pair[c]
            tie = -np.arange(hi - lo)
            if fits.any():
                j = int(np.lexsort((tie, rem, is_current, score[lo:hi], fits))[-1])
            else:
                j = int(np.lexsort((tie, rem, room))[-1])
            pair[c] = lo + j
            p = int(pr[j])
            prac[c] = p
            load[p] += max(lp_hours[c], a.floor[c])
            count[p] += 1

    # 2. partner: keep the one with most LP hours
    link = np.full(C, -1, dtype=np.int64)
    partner_hours = np.zeros(C)
    if Q:
        lead = _lead_links(a, z)
        lead = lead[(lead >= 0) & (z[np.maximum(lead, 0)] > HOURS_TOL)]
        link[a.link_case[lead]] = lead
        partner_hours[a.link_case[lead]] = np.minimum(z[lead], a.link_hours[lead])
    partner_hours = np.clip(np.minimum(partner_hours, a.required - a.floor), 0.0, None)

    # 3. caseload cap
    if limit is not None and (count > limit).any():
        for p in np.flatnonzero(count > limit).tolist():
            mine = np.flatnonzero(prac == p)
            mine = mine[np.lexsort((mine, lp_hours[mine], pair[mine] == a.current_pair[mine]))]
            for c in mine.tolist():
                if count[p] <= limit[p]:
                    break
                lo, hi = int(a.pair_start[c]), int(a.pair_start[c + 1])
                pr = a.pair_prac[lo:hi]
                ok = (count[pr] < limit[pr]) & (pr != p)
                if not ok.any():
                    continue
                rem = a.capacity[pr] - load[pr]
                j = int(np.lexsort((-np.arange(hi - lo), rem, ok))[-1])
                q = int(pr[j])
                load[p] -= lp_hours[c]
                load[q] += lp_hours[c]
                count[p] -= 1
                count[q] += 1
                pair[c], prac[c] = lo + j, q
                moves += 1

    # 4. hours, given the assignment (an exact MIP answer keeps its own hours: they already respect the budget)
    if model.integral and values is not None:
        hours = np.minimum(lp_hours, a.required - partner_hours)
    else:
        hours = _best_hours(a, np.arange(C), pair, partner_hours)

    # 5. improving moves
    if improve and not (model.integral and values is not None):
        moves += _improve(a, pair, prac, hours, partner_hours, count, limit)

    # 6. partners' spare contract hours by rule, then the budget; and, with a solver's answer to round,
    # hours and partner hours solved exactly for the assignment, if that is better (without partners or
    # a budget, step 4's hours already are the exact answer)
    if Q:
        link, partner_hours = _partner_refill(a, hours, link, partner_hours)
    if a.budget is not None:
        hours, link, partner_hours = _keep_budget(a, pair, hours, link, partner_hours)
    hours = np.clip(hours, 0.0, a.required)
    partner_hours = np.clip(np.minimum(partner_hours, a.required - hours), 0.0, None)
    link = np.where(partner_hours > HOURS_TOL, link, -1)
    partner_hours = np.where(link >= 0, partner_hours, 0.0)
    polish = polish and values is not None and not model.integral and (Q > 0 or a.budget is not None)
    polish_time: list[float] = []
    try:
        polished = polish_hours(model, pair, solver_time=polish_time) if polish else None
    except Exception:  # a solver failure must not lose the allocation: step 6's rules stand
        polished = None
    if polished is not None:
        def objective(h: np.ndarray, l: np.ndarray, z: np.ndarray) -> float:
            return model.integral_objective(model.solution_vector(pair, h, l, z), pair)

        if objective(*polished) < objective(hours, link, partner_hours):
            hours, link, partner_hours = polished
    return Rounded(pair=pair.astype(np.int64), hours=hours, link=link, partner_hours=partner_hours, moves=moves,
                   solver_seconds=float(sum(polish_time)))


def _lead_links(a: PduArrays, score: np.ndarray) -> np.ndarray:
    """Each case's link of highest ``score`` (one value per link; the first on a tie), -1 for a case with none."""
    lead = _first_per_group(a.link_case, -score, 1)
    lead_link = np.full(a.n_cases, -1, dtype=np.int64)
    lead_link[a.link_case[lead]] = lead
    return lead_link


def polish_hours(
    model: Model, pair: np.ndarray, time_limit: float = 60.0, solver_time: list[float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Practitioner and partner hours, and each case's partner, solved for a fixed assignment.

    With every case's practitioner fixed, what is left is a small LP over the hours: the model with every
    other pair held at 0 (x fixed at 1 where present) and moves counted as constants (the projected form's
    per-hour continuity price is left out). Its answer is the best hours for that assignment under every
    row at once (capacity, floors, partner contracts, budget), which rules (best hours per practitioner with
    partner hours fixed, then partners' spare hours, then budget trimming) only approximate. Should it
    refer a case to two partners, the case keeps the one giving most hours and the LP is solved again with
    every case's partner fixed, so every case has at most one partner. Returns (hours, link, partner_hours),
    or None when HiGHS does not reach the optimum; HiGHS's run time of each solve is appended to
    ``solver_time``.
    """
    import highspy

    a = model.arrays
    lay = model.layout
    C, Q = a.n_cases, a.n_links
    cost, lower, upper = model.cost.copy(), model.lower.copy(), model.upper.copy()
    y = lay.slice("y")
    cost[y] = model._y_cost_without_continuity()
    keep = np.ones(model.n_cols, dtype=bool)
    keep[y] = False
    keep[lay.cols("y", pair)] = True
    if model.explicit:
        keep[lay.slice("x")] = False
        chosen = lay.cols("x", pair)
        keep[chosen] = True
        lower[chosen] = upper[chosen] = 1.0
    for _ in range(2):
        active = np.flatnonzero(keep)
        h = _new_highs(time_limit, 1)
        h.passModel(_highs_lp(model, cost, lower, upper, active))
        h.run()
        if solver_time is not None:
            solver_time.append(float(h.getRunTime()))
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = np.zeros(model.n_cols)
        values[active] = np.array(h.getSolution().col_value)
        z = np.where(keep[lay.slice("z")], values[lay.slice("z")], 0.0)
        split = np.bincount(a.link_case[z > HOURS_TOL], minlength=C) > 1
        if not split.any():
            break
        # some case has two partners: every case keeps only the partner giving it most hours (the first on
        # a tie; none if it had none) and the LP is solved again, which can then split no case (fixing only
        # the split cases would not do: the LP has many optima and splits others instead)
        lead = _lead_links(a, z)
        lead = lead[lead >= 0]
        drop = np.ones(Q, dtype=bool)
        drop[lead[z[lead] > HOURS_TOL]] = False
        keep[lay.cols("z", np.flatnonzero(drop))] = False
        if model.explicit_partner:
            v_position = np.cumsum(a.choice_links) - 1
            keep[lay.cols("v", v_position[np.flatnonzero(drop & a.choice_links)])] = False
    hours = np.clip(values[lay.cols("y", pair)], 0.0, a.required)
    z = np.where(z > HOURS_TOL, z, 0.0)
    link = np.full(C, -1, dtype=np.int64)
    partner_hours = np.zeros(C)
    if Q:
        lead = _lead_links(a, z)
        lead = lead[(lead >= 0) & (z[np.maximum(lead, 0)] > 0)]
        link[a.link_case[lead]] = lead
        partner_hours[a.link_case[lead]] = z[lead]
    partner_hours = np.clip(np.minimum(partner_hours, a.required - hours), 0.0, None)
    link = np.where(partner_hours > HOURS_TOL, link, -1)
    return hours, link, np.where(link >= 0, partner_hours, 0.0)


def _partner_refill(
    a: PduArrays, hours: np.ndarray, link: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Give partners' spare contract hours to cases with need left in areas they deliver, most valuable first.

    A referred case can get more from its partner (up to D_ck and R_c - F_c); a case not referred can be
    referred to the partner that could deliver most for it. Within each partner, hours go to the highest
    marginal weight (below the coverage target first).
    """
    C = a.n_cases
    used = np.bincount(a.link_partner[link[link >= 0]], weights=partner_hours[link >= 0], minlength=len(a.partner_ids))
    spare = np.maximum(a.contract - used, 0.0)
    gap = np.maximum(a.required - hours - partner_hours, 0.0)
    if not ((spare > HOURS_TOL).any() and (gap > HOURS_TOL).any()):
        return link, partner_hours
    candidate = np.where(link >= 0, link, _lead_links(a, a.link_hours))
    has = candidate >= 0
    ceiling = np.minimum(a.link_hours[np.maximum(candidate, 0)], a.required - a.floor)
    amount = np.where(has, np.clip(np.minimum(gap, ceiling - partner_hours), 0.0, None), 0.0)
    covered = hours + partner_hours
    target = a.coverage_target * a.required
    below = np.clip(np.minimum(covered + amount, target) - covered, 0.0, None)
    above = amount - below
    group = np.concatenate([a.link_partner[np.maximum(candidate, 0)]] * 2)
    weights = np.concatenate([a.below_target_multiplier * a.weight, a.weight])
    unit = a.cost_weight * np.concatenate([a.price[group[:C]]] * 2)
    worth = np.concatenate([below, above]) * (weights > unit)
    add = _take(group, worth, -(weights - unit), spare)
    extra = add[:C] + add[C:]
    got = extra > HOURS_TOL
    link = np.where(got & (link < 0), candidate, link)
    return link, partner_hours + np.where(got, extra, 0.0)


def _keep_budget(
    a: PduArrays, pair: np.ndarray, hours: np.ndarray, link: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trim hours, least value per pound first, until staff plus partner cost is within the PDU's budget."""
    C = a.n_cases
    unit = a.staff_cost[a.pair_prac[pair]]
    price = np.zeros(C)
    referred = link >= 0
    price[referred] = a.price[a.link_partner[link[referred]]]
    over = float(unit @ hours + price @ partner_hours) - float(a.budget)  # type: ignore[arg-type]
    if over <= HOURS_TOL:
        return hours, link, partner_hours
    start, length, value = _segments(a, np.arange(C), pair, partner_hours)
    filled = np.clip(hours[None, :] - start, 0.0, length)
    m = a.below_target_multiplier
    partner_value = a.weight * np.where(hours + partner_hours <= a.coverage_target * a.required, m, 1.0)
    amounts = np.concatenate([filled.ravel() * np.tile(unit, 3), partner_hours * price])
    per_pound = np.concatenate([np.tile(unit, 3), price])
    worth = np.concatenate([value.ravel(), partner_value])
    priority = np.divide(worth, per_pound, out=np.full(len(worth), np.inf), where=per_pound > 0)
    taken = _take(np.zeros(len(amounts), dtype=np.int64), np.where(per_pound > 0, amounts, 0.0), priority, np.array([over]))
    cut = np.divide(taken, per_pound, out=np.zeros(len(taken)), where=per_pound > 0)
    hours = hours - cut[: 3 * C].reshape(3, C).sum(axis=0)
    partner_hours = partner_hours - cut[3 * C:]
    link = np.where(partner_hours > HOURS_TOL, link, -1)
    return np.clip(hours, 0.0, None), link, np.clip(partner_hours, 0.0, None)


def _empty_case_frame(index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "practitioner_id": pd.Series([None] * len(index), index=index, dtype=object),
            "afforded_hours": 0.0,
            "partner_id": pd.Series([None] * len(index), index=index, dtype=object),
            "partner_hours": 0.0,
            "unmet_hours": 0.0,
            "floor_hours": 0.0,
            "floor_shortfall_hours": 0.0,
            "moved": False,
        },
        index=index,
    )


def _unplaced_reason(inp: PduInput, cases: pd.DataFrame, policy: Policy) -> str:
    practs = inp.practitioners
    if len(practs) == 0:
        return "the PDU has no practitioners"
    if not (practs["capacity_hours"] > 0).any():
        return "no practitioner in the PDU has case hours (capacity 0: SPOs, or reductions equal to contracted hours)"
    if policy.women_specialist_pool == "hard" and (cases["sex"].astype(str) == "female").any():
        return "no practitioner of a grade that may hold the tier, or in the hard women's specialist pool, has case hours"
    return "no practitioner of a grade that may hold the tier (no A or B tier for PSOs) has case hours"


def solve_pdu(inp: PduInput, params: Parameters, policy: Policy) -> PduResult:
    """Build, solve, round and report one PDU (the unit of parallel work)."""
    start = time.perf_counter()
    a = pdu_arrays(inp, params, policy)
    warnings: list[str] = []
    notes: list[str] = []
    solver_warnings: list[str] = []
    cases_out = _empty_case_frame(inp.cases.index)
    cases_out["floor_hours"] = inp.cases["floor_hours"].to_numpy(dtype=float)
    cases_out["unmet_hours"] = inp.cases["required_hours"].to_numpy(dtype=float)
    cases_out["floor_shortfall_hours"] = cases_out["floor_hours"]
    current = inp.cases["current_practitioner_id"]
    cases_out["moved"] = current.notna().to_numpy()

    if len(a.unplaced):
        unplaced = inp.cases.loc[a.unplaced]
        # counts only: case ids stay in the case-level CSVs (allocations.csv: no practitioner_id)
        warnings.append(
            f"PDU {inp.pdu}: {len(a.unplaced)} case(s) have no eligible practitioner: "
            f"{_unplaced_reason(inp, unplaced, policy)}. They get no practitioner, so none of their required "
            "hours are met (allocations.csv lists them with no practitioner_id)."
        )

    status, solver_used, objective, bound = "no-model", "", 0.0, None
    solver_time: list[float] = []
    prac_out = pd.DataFrame(index=inp.practitioners.index)
    prac_out["allocated_hours"] = 0.0
    prac_out["capacity_hours"] = inp.practitioners["capacity_hours"].to_numpy(dtype=float)
    prac_out["overflow_hours"] = 0.0
    prac_out["caseload"] = 0
    over_capacity: list[str] = []
    over_cap: list[str] = []

    if a.n_cases:
        model, values, status, solver_used, bound = _solve_with_fallbacks(a, policy, notes, solver_warnings, solver_time)
        rounded = round_allocation(model, values)
        solver_time.append(rounded.solver_seconds)
        vector = model.solution_vector(rounded.pair, rounded.hours, rounded.link, rounded.partner_hours)
        objective = model.integral_objective(vector, rounded.pair)
        if rounded.moves:
            notes.append(f"rounding: {rounded.moves} improving move(s) after the LP")

        ids = a.case_ids
        practitioner = a.practitioner_ids[a.pair_prac[rounded.pair]]
        partner = np.full(a.n_cases, None, dtype=object)
        referred = rounded.link >= 0
        partner[referred] = a.partner_ids[a.link_partner[rounded.link[referred]]]
        cases_out.loc[ids, "practitioner_id"] = practitioner
        cases_out.loc[ids, "afforded_hours"] = rounded.hours
        cases_out.loc[ids, "partner_id"] = partner
        cases_out.loc[ids, "partner_hours"] = rounded.partner_hours
        cases_out.loc[ids, "unmet_hours"] = np.maximum(a.required - rounded.hours - rounded.partner_hours, 0.0)
        cases_out.loc[ids, "floor_shortfall_hours"] = np.maximum(a.floor - rounded.hours, 0.0)
        has_current = pd.notna(a.current_id)
        cases_out.loc[ids, "moved"] = has_current & (practitioner != a.current_id)

        load = np.bincount(a.pair_prac[rounded.pair], weights=rounded.hours, minlength=a.n_practitioners)
        count = np.bincount(a.pair_prac[rounded.pair], minlength=a.n_practitioners)
        prac_out["allocated_hours"] = load
        prac_out["caseload"] = count
        overflow = np.maximum(load - a.capacity, 0.0)
        overflow = np.where(overflow > HOURS_TOL, overflow, 0.0)
        prac_out["overflow_hours"] = overflow
        over_capacity = [str(p) for p in a.practitioner_ids[overflow > 0]]
        if a.limit is not None:
            over_cap = [str(p) for p in a.practitioner_ids[count > np.floor(a.limit + 1e-9)]]

    cases_out["floor_shortfall_hours"] = np.where(cases_out["floor_shortfall_hours"] > HOURS_TOL, cases_out["floor_shortfall_hours"], 0.0)
    shortfall = float(cases_out["floor_shortfall_hours"].sum())
    short_placed = float(cases_out.loc[a.case_ids, "floor_shortfall_hours"].sum()) if a.n_cases else 0.0
    overflow_total = float(prac_out["overflow_hours"].sum())
    if short_placed > HOURS_TOL or overflow_total > HOURS_TOL:
        n_short = int((cases_out.loc[a.case_ids, "floor_shortfall_hours"] > 0).sum()) if a.n_cases else 0
        over_text = (
            "; practitioners over capacity: "
            + ", ".join(f"{p} (+{h:,.1f} h)" for p, h in zip(over_capacity, prac_out.loc[over_capacity, "overflow_hours"]))
            if over_capacity else ""
        )
        limit_text = " within the budget cap" if policy.budget_cap_gbp is not None else ""
        warnings.append(
            f"PDU {inp.pdu}: statutory floors need more hours than the practitioners who may hold the cases "
            f"can give{limit_text}: {short_placed:,.1f} floor hours short across {n_short} case(s){over_text}."
        )
    if over_cap:
        warnings.append(
            f"PDU {inp.pdu}: the caseload cap of {policy.caseload_cap} per whole-time practitioner cannot be kept: "
            f"{', '.join(over_cap)} hold more cases than their cap."
        )
    warnings += [f"PDU {inp.pdu}: {text}" for text in solver_warnings]
    with np.errstate(divide="ignore", invalid="ignore"):
        prac_out["utilisation"] = np.where(prac_out["capacity_hours"] > 0, prac_out["allocated_hours"] / prac_out["capacity_hours"], np.nan)
    gap = (objective - bound) / max(abs(bound), 1.0) if bound is not None else np.nan
    row = {
        "status": status,
        "solver": solver_used,
        "objective": objective,
        "bound": bound if bound is not None else np.nan,
        "gap": gap,
        "seconds": time.perf_counter() - start,
        "solver_seconds": float(sum(solver_time)),
        "cases": len(inp.cases),
        "shortfall_hours": shortfall,
        "overflow_hours": overflow_total,
        "practitioners_over_capacity": ";".join(over_capacity),
        "practitioners_over_cap": ";".join(over_cap),
        "message": "; ".join(notes),
    }
    return PduResult(inp.pdu, cases_out, prac_out[["allocated_hours", "capacity_hours", "utilisation", "overflow_hours", "caseload"]], row, warnings)


def _solve_with_fallbacks(
    a: PduArrays, policy: Policy, notes: list[str], warnings: list[str], solver_time: list[float] | None = None
) -> tuple[Model, np.ndarray | None, str, str, float | None]:
    """Solve the PDU's model, falling back as the issue asks; returns (model, values, status, solver, bound).

    Exact: the MIP; at the time limit its best solution is used; with none, the LP route below.
    LP: the chosen hand-off; at the time limit a feasible LP point is rounded; a failure, or a time limit
    without a feasible point, tries CBC through PuLP; if that fails too, the greedy fallback (no solver).
    Every fallback is added to ``notes`` (the PDU's message) and ``warnings``; each solve's own run time
    (``SolveResult.solver_seconds``) is appended to ``solver_time``.
    """
    solver_time = solver_time if solver_time is not None else []

    def fall_back(text: str) -> None:
        notes.append(text)
        warnings.append(text)

    limit = float(policy.time_limit_seconds)
    if policy.exact:
        model = build_model(a, integral=True)
        result = solve_model(model, policy.solver, limit)
        solver_time.append(result.solver_seconds)
        if result.values is not None:
            if result.status == "optimal":
                notes.append(f"exact MIP solved to optimality by {SOLVER_LABELS[result.solver]}")
                return model, result.values, "optimal", result.solver, result.bound
            fall_back(
                f"time limit: the exact MIP stopped at {limit:g} s; its best solution is used "
                f"(proven within {_gap_text(result)})"
            )
            return model, result.values, "time-limit", result.solver, result.bound
        fall_back(
            f"exact MIP gave no solution with {SOLVER_LABELS[result.solver]} ({result.message}); "
            "solved the LP relaxation and rounded instead"
        )
    model = build_model(a)
    chain = [policy.solver] + (["pulp-cbc"] if policy.solver != "pulp-cbc" else [])
    for i, name in enumerate(chain):
        result = solve_model(model, name, limit)
        solver_time.append(result.solver_seconds)
        if result.status == "optimal" and result.values is not None:
            if i:
                fall_back(f"fallback: solved by {SOLVER_LABELS[name]}")
            return model, result.values, "rounded", name, result.bound
        if result.status == "time-limit" and result.values is not None:
            fall_back(
                f"time limit: {SOLVER_LABELS[name]} stopped at {limit:g} s; rounded its last feasible LP solution"
            )
            return model, result.values, "time-limit", name, None
        fall_back(
            f"fallback: {SOLVER_LABELS[name]} gave no usable solution ({result.message or result.status})"
            + (", trying CBC through PuLP" if i + 1 < len(chain) else "")
        )
    fall_back("fallback: no solver answered; greedy allocation by priority (current practitioner kept where eligible)")
    return model, None, "fallback", "greedy", None


def _gap_text(result: SolveResult) -> str:
    if result.bound is None or result.objective is None:
        return "an unknown gap"
    return f"{100 * (result.objective - result.bound) / max(abs(result.objective), 1.0):.2f}%"


# ----------------------------------------------------------------------------------------------------------
# the public entry points


def allocate_lp(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    partners: pd.DataFrame | None,
    params: Parameters,
    policy: Policy,
    workers: int | None = None,
) -> Allocation:
    """Allocate every case to one practitioner (and at most one partner) by solving an LP per PDU.

    Parameters
    ----------
    cases
        Case table indexed by case_id, with the needs model's ``required_hours`` and ``hours_need_<area>``
        columns and the WMT baseline's ``wmt_hours`` (plus pdu, sex, tier, current_practitioner_id and the
        flags the priority rules read).
    practitioners
        Practitioner table indexed by practitioner_id.
    partners
        Partner table indexed by partner_id (or None / empty for none).
    params
        Model parameters (``allocation.*``, ``costs.staff_cost_per_hour``, the grade rule in
        ``wmt.baseline_allocation.highest_protect_level``).
    policy
        The scenario's ``[policy]``.
    workers
        Parallel PDU solves (processes); default ``policy.workers``, else the machine's cores. Workers are
        started fresh ("spawn"), so a script must call this under ``if __name__ == "__main__":``; if the
        workers cannot start, PDUs are solved one after another and a warning says so.

    Returns
    -------
    Allocation
        Case, practitioner and PDU tables and plain-English warnings (see :class:`Allocation`).
    """
    return allocate_lp_many([(cases, practitioners, partners, params, policy)], workers=workers)[0]


LpJob = tuple[pd.DataFrame, pd.DataFrame, "pd.DataFrame | None", Parameters, Policy]
"""One :func:`allocate_lp` call's arguments: (cases, practitioners, partners, params, policy)."""


def worker_count(workers: int | None, n_tasks: int) -> int:
    """How many worker processes solve ``n_tasks`` PDUs: as asked (default: the machine's cores), at most one per PDU."""
    return max(1, min(int(workers or os.cpu_count() or 1), n_tasks))


PAIR_BYTES = 240.0
"""Solver setting, not a model number: memory a PDU's solve takes per possible (case, practitioner) pair, in
bytes (the pair arrays, the model's columns and rows, the pricing and the local search). Measured: a
10,000 x 440 PDU peaked 0.98 GB above its process's start (233 bytes a pair). At this rate a national PDU
(about 2,500 x 110) needs about 70 MB."""

WORKER_BYTES = 200e6
"""Solver setting: a worker process's own memory (interpreter, numpy, pandas, HiGHS), in bytes."""

MEMORY_SHARE = 0.7
"""Solver setting: the share of the memory free when the LP starts that its solves may plan to use."""


def available_memory() -> float | None:
    """Bytes of memory free for new work (Linux's MemAvailable; else all physical memory; None if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def pdu_memory(inp: PduInput) -> float:
    """Bytes a PDU's solve is expected to take (:data:`PAIR_BYTES` per possible pair, plus a worker)."""
    return PAIR_BYTES * len(inp.cases) * len(inp.practitioners) + WORKER_BYTES


def fit_workers_to_memory(
    all_inputs: list[dict[str, PduInput]], n_workers: int, memory: float | None
) -> tuple[int, list[str]]:
    """Fewer workers when the largest PDUs, solved at once, would not fit in memory; warnings that say so.

    Workers take PDUs largest first, so the ``n`` largest are solved together at the start: ``n`` is cut
    until their expected memory (:func:`pdu_memory`) fits in :data:`MEMORY_SHARE` of ``memory``. A PDU too
    big to fit even alone is named, with its size: PDUs hold a few thousand cases, and one of tens of
    thousands usually means the pdu column holds regions.
    """
    if memory is None:
        return n_workers, []
    budget = MEMORY_SHARE * memory
    sizes = sorted(((pdu_memory(inp), pdu, inp) for inputs in all_inputs for pdu, inp in inputs.items()),
                   key=lambda item: (-item[0], item[1]))
    warnings: list[str] = []
    fitted = n_workers
    while fitted > 1 and sum(size for size, _, _ in sizes[:fitted]) > budget:
        fitted -= 1
    if fitted < n_workers:
        largest = sorted({pdu for _, pdu, _ in sizes[:n_workers]})
        warnings.append(
            f"PDUs {', '.join(largest)} are large: solving {n_workers} of them at once would take about "
            f"{sum(size for size, _, _ in sizes[:n_workers]) / 2**30:.1f} GiB against {memory / 2**30:.1f} GiB free, "
            f"so PDUs were solved {fitted} at a time."
        )
    too_big: dict[str, tuple[float, PduInput]] = {}
    for size, pdu, inp in sizes:
        if size > budget and pdu not in too_big:
            too_big[pdu] = (size, inp)
    for pdu, (size, inp) in sorted(too_big.items()):
        C, P = len(inp.cases), len(inp.practitioners)
        warnings.append(
            f"PDU {pdu} has {C:,} cases and {P:,} practitioners ({C * P / 1e6:,.0f} million possible pairs): its solve "
            f"needs about {size / 2**30:.1f} GiB, more than the {memory / 2**30:.1f} GiB free, and may fail or swap. "
            "PDUs hold a few thousand cases each; if the pdu column holds regions, give each case its PDU."
        )
    return fitted, warnings


def allocate_lp_many(jobs: list[LpJob], workers: int | None = None) -> list[Allocation]:
    """:func:`allocate_lp` for several jobs at once (e.g. the WMT- and needs-scored cells), one answer each.

    Every job's PDUs go to one pool of worker processes, largest first, so the workers start once and
    stay busy across jobs (two pools one after the other would each idle while their last, largest PDU
    finishes). Each PDU's solve is deterministic and results are collected in PDU order, so every answer
    is exactly what :func:`allocate_lp` gives for that job alone. ``workers`` defaults to the first job's
    ``policy.workers``, else the machine's cores.
    """
    if not jobs:
        return []
    all_inputs = [pdu_inputs(cases, practitioners, partners, params, policy) for cases, practitioners, partners, params, policy in jobs]
    tasks = [(j, pdu) for j, inputs in enumerate(all_inputs) for pdu in inputs]
    n_workers = worker_count(workers or jobs[0][4].workers, len(tasks))
    n_workers, run_warnings = fit_workers_to_memory(all_inputs, n_workers, available_memory())
    if n_workers == 1:  # solving here: idle workers a run started would only hold memory
        for size in list(_POOLS):
            _discard_pool(size)
    done: dict[tuple[int, str], PduResult] | None = None
    if n_workers > 1:
        try:
            done = _solve_in_parallel(all_inputs, [(job[3], job[4]) for job in jobs], n_workers)
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            run_warnings.append(
                f"parallel PDU solves failed ({type(exc).__name__}); PDUs were solved one after another. In a "
                "script, call allocate_lp under `if __name__ == \"__main__\":` so worker processes can start."
            )
    if done is None:
        done = {(j, pdu): solve_pdu(all_inputs[j][pdu], jobs[j][3], jobs[j][4]) for j, pdu in tasks}
    return [
        _assemble(jobs[j][0], jobs[j][1], jobs[j][3], [done[(j, pdu)] for pdu in inputs], run_warnings)
        for j, inputs in enumerate(all_inputs)
    ]


def _assemble(cases: pd.DataFrame, practitioners: pd.DataFrame, params: Parameters, results: list[PduResult],
              run_warnings: list[str]) -> Allocation:
    """Stack the PDUs' answers (in PDU order) into one :class:`Allocation`."""
    case_frames = [r.cases for r in results]
    case_table = pd.concat(case_frames) if case_frames else _empty_case_frame(pd.Index([], name="case_id"))
    case_table = case_table.reindex(cases.index)
    case_table.index.name = cases.index.name
    for column in ("practitioner_id", "partner_id"):
        case_table[column] = pd.Series(
            np.where(pd.notna(case_table[column].to_numpy(dtype=object)), case_table[column].to_numpy(dtype=object), None),
            index=case_table.index, dtype=object,
        )
    case_table["moved"] = case_table["moved"].astype(bool)

    prac_table = pd.DataFrame(index=practitioners.index)
    prac_table["allocated_hours"] = 0.0
    prac_table["capacity_hours"] = capacity_hours(practitioners, params).to_numpy(dtype=float)
    prac_table["overflow_hours"] = 0.0
    prac_table["caseload"] = 0
    if results:
        solved = pd.concat([r.practitioners[["allocated_hours", "overflow_hours", "caseload"]] for r in results])
        prac_table.loc[solved.index, ["allocated_hours", "overflow_hours", "caseload"]] = solved.to_numpy()
    prac_table["caseload"] = prac_table["caseload"].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prac_table["utilisation"] = np.where(
            prac_table["capacity_hours"] > 0, prac_table["allocated_hours"] / prac_table["capacity_hours"], np.nan
        )
    prac_table = prac_table[["allocated_hours", "capacity_hours", "utilisation", "overflow_hours", "caseload"]]
    prac_table.index.name = practitioners.index.name

    pdus = pd.DataFrame([r.row for r in results], index=pd.Index([r.pdu for r in results], name="pdu"))
    warnings = list(run_warnings) + [w for r in results for w in r.warnings]
    return Allocation(case_table, prac_table, pdus, warnings)


_POOLS: dict[int, ProcessPoolExecutor] = {}
if hasattr(os, "register_at_fork"):  # a forked child cannot use its parent's pool
    os.register_at_fork(after_in_child=_POOLS.clear)
_WORKER_SETTINGS: dict[int, list[tuple[Parameters, Policy]]] = {}
_SETTINGS_TOKENS = itertools.count()


def _init_worker() -> None:
    """Pool initializer: load the solver once, so a worker's first PDU is not charged for it."""
    load_highs_quietly()


def worker_pool(n_workers: int) -> ProcessPoolExecutor:
    """This process's pool of ``n_workers`` fresh ("spawn") worker processes, started on first use and kept.

    Spawned, with one BLAS thread each (:func:`workload.workers.spawn_pool`). Starting a worker
    costs about half a second (a new interpreter importing numpy, pandas and HiGHS); keeping the pool means
    that is paid once per process, not once per call (a sweep, a comparison or a benchmark calls the
    allocator many times), and :func:`start_workers` lets a caller start them while it does other work.
    """
    pool = _POOLS.get(n_workers)
    if pool is not None and getattr(pool, "_broken", False):  # a worker died while the pool sat idle
        _discard_pool(n_workers)
        pool = None
    if pool is None:
        for other in list(_POOLS):  # one pool at a time: idle workers of another size only hold memory
            _discard_pool(other)
        pool = spawn_pool(n_workers, initializer=_init_worker)
        _POOLS[n_workers] = pool
    return pool


def start_workers(n_workers: int) -> None:
    """Start the pool's workers now, without waiting for them (a run does so before scoring)."""
    if n_workers > 1:
        worker_pool(n_workers)


def _discard_pool(n_workers: int) -> None:
    pool = _POOLS.pop(n_workers, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _solve_task(token: int, settings: bytes, job: int, inp: PduInput) -> PduResult:
    """One PDU in a worker; the call's parameters and policies arrive pickled once per call (``token``)."""
    if token not in _WORKER_SETTINGS:
        _WORKER_SETTINGS.clear()
        _WORKER_SETTINGS[token] = pickle.loads(settings)
    params, policy = _WORKER_SETTINGS[token][job]
    return solve_pdu(inp, params, policy)


def _solve_in_parallel(all_inputs: list[dict[str, PduInput]], settings: list[tuple[Parameters, Policy]],
                       n_workers: int) -> dict[tuple[int, str], PduResult]:
    """Solve every job's PDUs on the pool of ``n_workers`` processes (:func:`worker_pool`), largest first.

    Each PDU's solve is deterministic, so the order in which they finish does not matter; answers are
    keyed by (job, pdu).
    """
    tasks = [(j, pdu) for j, inputs in enumerate(all_inputs) for pdu in inputs]

    def size(task: tuple[int, str]) -> tuple[int, int, str]:
        inp = all_inputs[task[0]][task[1]]
        return (-len(inp.cases) * max(len(inp.practitioners), 1), task[0], task[1])

    token, blob = next(_SETTINGS_TOKENS), pickle.dumps(settings)
    pool = worker_pool(n_workers)
    try:
        futures = {task: pool.submit(_solve_task, token, blob, task[0], all_inputs[task[0]][task[1]]) for task in sorted(tasks, key=size)}
        return {task: future.result() for task, future in futures.items()}
    except BaseException:
        # a broken pool (a worker killed), or an interrupt: the next call starts a fresh one
        _discard_pool(n_workers)
        raise


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
