"""One PDU's solve: build its model, solve it with fallbacks, round it, and report it as table rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from workload.allocate import decompose
from workload.allocate.arrays import HOURS_TOL, PduArrays, PduInput, pdu_arrays
from workload.allocate.continuity import eligible_at, move_reasons
from workload.allocate.model import Model, build_model
from workload.allocate.rounding import round_allocation
from workload.allocate.shadow import HourEffects, shadow_prices
from workload.allocate.solvers import (
    SOLVER_LABELS,
    SolveResult,
    SolveStatus,
    relative_gap,
    solve_model,
)
from workload.params import Parameters
from workload.scenario import Policy


class PduStatus(StrEnum):
    """How a PDU was solved: the ``status`` column of the PDU table (the values are the column's text)."""

    OPTIMAL = "optimal"
    """The exact MIP, solved to optimality (its answer kept as it is)."""
    ROUNDED = "rounded"
    """The LP relaxation solved to optimality, then rounded to one practitioner per case."""
    TIME_LIMIT = "time-limit"
    """A solver stopped at its time limit; its best (MIP) or last feasible (LP) solution was used."""
    FALLBACK = "fallback"
    """No solver answered: the greedy allocation by priority."""
    NO_MODEL = "no-model"
    """No case in the PDU has an eligible practitioner: nothing to solve."""


@dataclass(frozen=True)
class Solved:
    """What :func:`solve_with_fallbacks` settled on: the model, its values to round (None for the greedy
    fallback), how it went, and the notes, warnings and solver run times gathered on the way."""

    model: Model
    values: np.ndarray | None
    status: PduStatus
    solver: str
    bound: float | None
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    solver_seconds: tuple[float, ...]
    row_dual: np.ndarray | None = None
    """The LP relaxation's row duals when HiGHS solved it to optimality (the shadow prices read them)."""
    effects: HourEffects | None = None
    """Where one more hour of each capacity and contract row goes, case by case (same conditions)."""


@dataclass(frozen=True)
class PduResult:
    """One PDU's answer, ready to be stacked with the others.

    ``practitioners`` holds ``hour_value`` (:mod:`workload.allocate.shadow`: one more hour of capacity, in
    weighted hours; NaN without LP duals); ``cases`` holds ``hour_value`` for one hour given to the case;
    ``partners`` one row per partner contract in the PDU (contract, used hours, ``hour_value``).
    """

    pdu: str
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    row: dict
    warnings: tuple[str, ...]
    partners: pd.DataFrame = field(default_factory=pd.DataFrame)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Where one more hour goes: ``resource`` (a practitioner or partner id), ``case_id`` and ``hours`` (the
    case's practitioner plus partner hours per hour more of the resource; :class:`~workload.allocate.shadow.HourEffects`)."""


def empty_case_frame(index: pd.Index) -> pd.DataFrame:
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
            "previous_practitioner_id": pd.Series([None] * len(index), index=index, dtype=object),
            "move_reason": pd.Series([None] * len(index), index=index, dtype=object),
            "restart_hours": 0.0,
            "hour_value": np.nan,
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
        return (
            "no practitioner of a grade that may hold the tier, or in the hard women's specialist pool, has case hours"
        )
    return "no practitioner of a grade that may hold the tier (no A or B tier for PSOs) has case hours"


def solve_pdu(inp: PduInput, params: Parameters, policy: Policy) -> PduResult:
    """Build, solve, round and report one PDU (the unit of parallel work)."""
    start = time.perf_counter()
    a = pdu_arrays(inp, params, policy)
    warnings: list[str] = []
    notes: list[str] = []
    solver_warnings: list[str] = []
    cases_out = empty_case_frame(inp.cases.index)
    cases_out["floor_hours"] = inp.cases["floor_hours"].to_numpy(dtype=float)
    cases_out["unmet_hours"] = inp.cases["required_hours"].to_numpy(dtype=float)
    cases_out["floor_shortfall_hours"] = cases_out["floor_hours"]
    current = inp.cases["current_practitioner_id"]
    cases_out["previous_practitioner_id"] = current.where(current.notna(), None).astype(object)

    if len(a.unplaced):
        unplaced = inp.cases.loc[a.unplaced]
        # counts only: case ids stay in the case-level CSVs (allocations.csv: no practitioner_id)
        warnings.append(
            f"PDU {inp.pdu}: {len(a.unplaced)} case(s) have no eligible practitioner: "
            f"{_unplaced_reason(inp, unplaced, policy)}. They get no practitioner, so none of their required "
            "hours are met (allocations.csv lists them with no practitioner_id)."
        )

    status, solver_used, objective, bound = PduStatus.NO_MODEL, "", 0.0, None
    solver_time: list[float] = []
    prac_out = pd.DataFrame(index=inp.practitioners.index)
    prac_out["allocated_hours"] = 0.0
    prac_out["capacity_hours"] = inp.practitioners["capacity_hours"].to_numpy(dtype=float)
    prac_out["overflow_hours"] = 0.0
    prac_out["caseload"] = 0
    over_capacity: list[str] = []
    over_cap: list[str] = []
    prac_out["hour_value"] = np.nan
    partners_out = pd.DataFrame(
        {
            "pdu": inp.pdu,
            "contract_hours": a.contract,
            "used_hours": 0.0,
            "price_per_hour": a.price,
            "hour_value": np.nan,
        },
        index=pd.Index(a.partner_ids, name="partner_id"),
    )

    effects_out = pd.DataFrame({"resource": [], "case_id": [], "hours": []})
    if a.n_cases:
        solved = solve_with_fallbacks(a, policy)
        model, status, solver_used, bound = solved.model, solved.status, solved.solver, solved.bound
        a = model.arrays  # with candidate pairs, the solve may have added pairs
        notes += solved.notes
        solver_warnings += solved.warnings
        solver_time += solved.solver_seconds
        rounded = round_allocation(model, solved.values, neighbourhood=policy.neighbourhood)
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
        placed = cases_out.index.get_indexer(ids)  # positions, found once (not a label lookup per column)
        for name, column in (
            ("practitioner_id", practitioner),
            ("afforded_hours", rounded.hours),
            ("partner_id", partner),
            ("partner_hours", rounded.partner_hours),
            ("unmet_hours", np.maximum(a.required - rounded.hours - rounded.partner_hours, 0.0)),
            ("floor_shortfall_hours", np.maximum(a.floor - rounded.hours, 0.0)),
        ):
            cases_out.iloc[placed, cases_out.columns.get_loc(name)] = column

        load = np.bincount(a.pair_prac[rounded.pair], weights=rounded.hours, minlength=a.n_practitioners)
        count = np.bincount(a.pair_prac[rounded.pair], minlength=a.n_practitioners)
        prac_out["allocated_hours"] = load
        prac_out["caseload"] = count
        overflow = np.maximum(load - a.capacity, 0.0)
        overflow = np.where(overflow > HOURS_TOL, overflow, 0.0)
        prac_out["overflow_hours"] = overflow
        referred_hours = rounded.partner_hours[referred]
        partners_out["used_hours"] = np.bincount(
            a.link_partner[rounded.link[referred]], weights=referred_hours, minlength=len(a.partner_ids)
        )
        if solved.row_dual is not None:
            prices = shadow_prices(model, solved.row_dual)
            prac_out.loc[a.practitioner_ids, "hour_value"] = prices.practitioner
            partners_out["hour_value"] = prices.partner
            cases_out.loc[ids, "hour_value"] = prices.case
        if solved.effects is not None:
            effects_out = _effects_frame(model, solved.effects)
        over_capacity = [str(p) for p in a.practitioner_ids[overflow > 0]]
        if a.limit is not None:
            over_cap = [str(p) for p in a.practitioner_ids[count > np.floor(a.limit + 1e-9)]]

    moved, reason = move_reasons(inp, cases_out["practitioner_id"].to_numpy(dtype=object), params, policy)
    cases_out["moved"] = moved
    cases_out["move_reason"] = pd.Series(reason, index=cases_out.index, dtype=object)
    cases_out["restart_hours"] = np.where(moved, inp.cases["restart_hours"].to_numpy(dtype=float), 0.0)
    if a.n_cases and a.kept.any() and policy.continuity == "keep":
        off_grade = _kept_against_rules(inp, a, params, policy)
        if off_grade:
            warnings.append(
                f"PDU {inp.pdu}: continuity = keep leaves {off_grade} case(s) with a current practitioner "
                "today's rules would not give them (a PSO holding a tier A or B case, or a woman outside a hard "
                "specialist pool); moving them is the service's decision."
            )
    cases_out["floor_shortfall_hours"] = np.where(
        cases_out["floor_shortfall_hours"] > HOURS_TOL, cases_out["floor_shortfall_hours"], 0.0
    )
    shortfall = float(cases_out["floor_shortfall_hours"].sum())
    short = cases_out["floor_shortfall_hours"].to_numpy()[cases_out.index.get_indexer(a.case_ids)]
    short_placed = float(short.sum()) if a.n_cases else 0.0
    overflow_total = float(prac_out["overflow_hours"].sum())
    if short_placed > HOURS_TOL or overflow_total > HOURS_TOL:
        n_short = int((short > 0).sum()) if a.n_cases else 0
        limit_text = " within the budget cap" if policy.budget_cap_gbp is not None else ""
        parts = []
        if short_placed > HOURS_TOL:
            parts.append(f"{short_placed:,.1f} minimum hours short across {n_short} case(s)")
        if over_capacity:
            parts.append(
                f"{len(over_capacity)} practitioner(s) are planned above capacity to meet minimums "
                f"({overflow_total:,.1f} h in all, at most {float(prac_out['overflow_hours'].max()):,.1f} h each; "
                "the practitioners table names them)"
            )
        warnings.append(
            f"PDU {inp.pdu}: public-protection minimums need more hours than the practitioners who may hold the "
            f"cases can give{limit_text}: " + "; ".join(parts) + "."
        )
    if over_cap:
        warnings.append(
            f"PDU {inp.pdu}: the caseload cap of {policy.caseload_cap} per whole-time practitioner cannot be kept: "
            f"{len(over_cap)} practitioner(s) hold more cases than their cap (pdus.csv names them, in "
            "practitioners_over_cap)."
        )
    warnings += [f"PDU {inp.pdu}: {text}" for text in solver_warnings]
    with np.errstate(divide="ignore", invalid="ignore"):
        prac_out["utilisation"] = np.where(
            prac_out["capacity_hours"] > 0, prac_out["allocated_hours"] / prac_out["capacity_hours"], np.nan
        )
    gap = relative_gap(objective, bound, bound) if bound is not None else np.nan
    row = {
        "status": status.value,
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
    return PduResult(
        inp.pdu,
        cases_out,
        prac_out[["allocated_hours", "capacity_hours", "utilisation", "overflow_hours", "caseload", "hour_value"]],
        row,
        tuple(warnings),
        partners_out,
        effects_out,
    )


def _effects_frame(model: Model, effects: HourEffects) -> pd.DataFrame:
    """:class:`HourEffects` with ids: the practitioner (capacity row) or partner (contract row) and the case."""
    a = model.arrays
    names = np.empty(model.n_rows, dtype=object)
    capacity = model.families["capacity"]
    names[capacity] = a.practitioner_ids
    if "contract" in model.families:
        names[model.families["contract"]] = a.partner_ids
    return pd.DataFrame({"resource": names[effects.row], "case_id": a.case_ids[effects.case], "hours": effects.hours})


def _kept_against_rules(inp: PduInput, a: PduArrays, params: Parameters, policy: Policy) -> int:
    """Cases kept with a current practitioner that the grade rule or a hard pool would not give them."""
    kept = np.flatnonzero(a.kept)
    rows = inp.cases.index.get_indexer(a.case_ids[kept])
    return int(
        (~eligible_at(inp.cases, inp.practitioners, rows, a.pair_prac[a.current_pair[kept]], params, policy)).sum()
    )


def solve_with_fallbacks(a: PduArrays, policy: Policy) -> Solved:
    """Solve the PDU's model, falling back as the issue asks (:class:`Solved`).

    Exact: the MIP; at the time limit its best solution is used; with none, the LP route below.
    LP: the chosen hand-off; at the time limit a feasible LP point is rounded; a failure, or a time limit
    without a feasible point, tries CBC through PuLP; if that fails too, the greedy fallback (no solver).
    Every fallback is in ``notes`` (the PDU's message) and ``warnings``; each solve's own run time
    (``SolveResult.solver_seconds``) is in ``solver_seconds``.
    """
    notes: list[str] = []
    warnings: list[str] = []
    solver_time: list[float] = []

    def fall_back(text: str) -> None:
        notes.append(text)
        warnings.append(text)

    def solved(
        model: Model,
        values: np.ndarray | None,
        status: PduStatus,
        solver: str,
        bound: float | None,
        row_dual: np.ndarray | None = None,
        effects: HourEffects | None = None,
    ) -> Solved:
        return Solved(
            model, values, status, solver, bound, tuple(notes), tuple(warnings), tuple(solver_time), row_dual, effects
        )

    limit = float(policy.time_limit_seconds)
    if policy.exact:
        model = build_model(a, integral=True)
        result = solve_model(model, policy.solver, limit)
        solver_time.append(result.solver_seconds)
        if result.values is not None:
            if result.status == SolveStatus.OPTIMAL:
                notes.append(f"exact MIP solved to optimality by {SOLVER_LABELS[result.solver]}")
                return solved(model, result.values, PduStatus.OPTIMAL, result.solver, result.bound)
            fall_back(
                f"time limit: the exact MIP stopped at {limit:g} s; its best solution is used "
                f"(proven within {_gap_text(result)})"
            )
            return solved(model, result.values, PduStatus.TIME_LIMIT, result.solver, result.bound)
        fall_back(
            f"exact MIP gave no solution with {SOLVER_LABELS[result.solver]} ({result.message}); "
            "solved the LP relaxation and rounded instead"
        )
    if policy.solver == "highs" and decompose.applies(a):
        began = time.perf_counter()
        found = decompose.solve_in_blocks(a, limit)
        if found is not None:
            solver_time.append(found.solver_seconds)
            notes.append(found.message)
            return solved(found.model, found.values, PduStatus.ROUNDED, "highs", found.bound)
        notes.append("a block of the PDU was not solved in time: the LP was solved whole instead")
        limit = max(limit - (time.perf_counter() - began), 1.0)  # what is left of the time limit
    model = build_model(a)
    chain = [policy.solver] + (["pulp-cbc"] if policy.solver != "pulp-cbc" else [])
    for i, name in enumerate(chain):
        result = solve_model(model, name, limit)
        solver_time.append(result.solver_seconds)
        model = result.model or model  # pricing may have added pairs to candidate arrays
        if result.status == SolveStatus.OPTIMAL and result.values is not None:
            if i:
                fall_back(f"fallback: solved by {SOLVER_LABELS[name]}")
            bound = result.bound
            if model.arrays.rule is not None and name != "highs":
                # only HiGHS prices the eligible pairs beyond the candidates: this optimum is no bound
                fall_back(f"the LP over the candidate pairs only (no pricing with {SOLVER_LABELS[name]}): no bound")
                bound = None
            return solved(model, result.values, PduStatus.ROUNDED, name, bound, result.row_dual, result.effects)
        if result.status == SolveStatus.TIME_LIMIT and result.values is not None:
            fall_back(
                f"time limit: {SOLVER_LABELS[name]} stopped at {limit:g} s; rounded its last feasible LP solution"
                + (f" (proven within {_gap_text(result)} of the LP optimum)" if result.bound is not None else "")
            )
            return solved(model, result.values, PduStatus.TIME_LIMIT, name, result.bound)
        fall_back(
            f"fallback: {SOLVER_LABELS[name]} gave no usable solution ({result.message or result.status})"
            + (", trying CBC through PuLP" if i + 1 < len(chain) else "")
        )
    fall_back("fallback: no solver answered; greedy allocation by priority (current practitioner kept where eligible)")
    return solved(model, None, PduStatus.FALLBACK, "greedy", None)


def _gap_text(result: SolveResult) -> str:
    """The solver's own proven gap of its answer, relative to its objective, as a percentage."""
    if result.bound is None or result.objective is None:
        return "an unknown gap"
    return f"{100 * relative_gap(result.objective, result.bound, result.objective):.2f}%"
