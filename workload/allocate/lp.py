"""The LP allocator's entry point: every PDU's model solved, rounded and stacked into one allocation.

Per PDU (PDUs are independent and solve in parallel processes, :mod:`workload.allocate.parallel`, HiGHS on
one thread each; :func:`workload.allocate.pdu.solve_pdu` is one PDU's work):

1. :func:`workload.allocate.model.build_model` defines the model once, as arrays; the objective's pieces
   that rounding also prices are in :mod:`workload.allocate.objective`.
2. A hand-off (:mod:`workload.allocate.solvers`) solves it: :func:`solve_highs` passes the arrays straight
   to HiGHS (the default, fast; the projected LP by pricing pairs in, :mod:`workload.allocate.pricing`);
   :func:`solve_pulp` builds the same model in PuLP and hands it to CBC or HiGHS (portable to any solver
   PuLP drives, and :func:`export_model` writes it as .lp/.mps for an analyst to audit).
3. :func:`round_allocation` (:mod:`workload.allocate.rounding`) turns the LP relaxation into one
   practitioner per case: it keeps what the LP settles, places the split cases, re-optimises every
   practitioner's hours for that assignment (which repairs capacity), improves by single moves and
   exchanges (:mod:`workload.allocate.local_search`) and solves the hours exactly for the assignment
   (:mod:`workload.allocate.polish`) (docs/model.md, "The LP allocator", "Rounding"); with
   ``policy.exact`` the MIP is solved instead and its answer is kept as it is.
4. If a solver fails or stops at its time limit without a usable answer, the PDU falls back to CBC through
   PuLP, then to a solver-free greedy allocation by priority; the PDU's row and the warnings say so
   (:func:`workload.allocate.pdu.solve_with_fallbacks`).

Results do not depend on the order in which PDUs finish: inputs are sorted by id, each PDU's solve is
deterministic, and results are collected in PDU order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workload.allocate.arrays import capacity_hours, pdu_inputs
from workload.allocate.parallel import (
    MEMORY_SHARE,
    available_memory,
    fit_workers_to_memory,
    pdu_memory,
    solve_pdus,
    start_workers,
    worker_count,
    worker_pool,
)
from workload.allocate.pdu import PduResult, PduStatus, empty_case_frame, solve_pdu
from workload.allocate.polish import polish_hours
from workload.allocate.rounding import Rounded, lp_choice, round_allocation
from workload.allocate.solvers import (
    SolveResult,
    SolveStatus,
    export_model,
    solve_highs,
    solve_model,
    solve_pulp,
    to_pulp,
)
from workload.params import Parameters
from workload.scenario import Policy

__all__ = [
    "MEMORY_SHARE",
    "Allocation",
    "LpJob",
    "PduResult",
    "PduStatus",
    "Rounded",
    "SolveResult",
    "SolveStatus",
    "allocate_lp",
    "allocate_lp_many",
    "available_memory",
    "capacity_hours",
    "export_model",
    "fit_workers_to_memory",
    "lp_choice",
    "pdu_memory",
    "polish_hours",
    "round_allocation",
    "solve_highs",
    "solve_model",
    "solve_pdu",
    "solve_pulp",
    "start_workers",
    "to_pulp",
    "worker_count",
    "worker_pool",
]
"""The names importers use from here, re-exported from the modules that define them."""


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
        to meet public-protection minimums) and ``caseload`` (cases held).
    pdus
        Indexed by pdu (sorted): ``status`` (optimal, rounded, time-limit, fallback, no-model), ``solver``,
        ``objective`` (of the final one-practitioner allocation), ``bound`` (LP relaxation or MIP bound),
        ``gap`` (objective - bound, over max(|bound|, 1)), ``seconds`` (the PDU's wall time),
        ``solver_seconds`` (the solver's own run time, summed over any fallbacks and the polishing LP), ``cases``, ``shortfall_hours``
        (floor hours not met), ``overflow_hours``, ``practitioners_over_capacity`` and
        ``practitioners_over_cap`` (';'-joined ids), ``message``.
    warnings
        Plain-English notes: cases no one may hold, public-protection shortfalls, overflow, solver fallbacks.
    partners
        One row per (partner, PDU) contract share: ``partner_id``, ``pdu``, ``contract_hours``, ``used_hours``,
        ``price_per_hour``, ``hour_value``.

    ``practitioners`` and ``cases`` also hold ``hour_value``, and ``partners`` its own: the shadow price
    (:mod:`workload.allocate.shadow`) of one more hour of capacity, given to the case, or of contract, in the
    objective's weighted hours (NaN where the PDU's LP gave no duals: exact MIP, fallbacks, no model).
    """

    cases: pd.DataFrame
    practitioners: pd.DataFrame
    pdus: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    partners: pd.DataFrame = field(default_factory=pd.DataFrame)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Where one more hour of each practitioner's capacity or partner's contract goes: ``resource``, ``pdu``,
    ``case_id``, ``hours`` (:class:`workload.allocate.pdu.PduResult`)."""


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


def allocate_lp_many(
    jobs: list[LpJob], workers: int | None = None, meanwhile: Callable[[], None] | None = None
) -> list[Allocation]:
    """:func:`allocate_lp` for several jobs at once (e.g. the WMT- and needs-scored cells), one answer each.

    Every job's PDUs go to one pool of worker processes, largest first, so the workers start once and
    stay busy across jobs (two pools one after the other would each idle while their last, largest PDU
    finishes). Each PDU's solve is deterministic and results are collected in PDU order, so every answer
    is exactly what :func:`allocate_lp` gives for that job alone. ``workers`` defaults to the first job's
    ``policy.workers``, else the machine's cores. ``meanwhile``, if given, is called once while the workers
    solve (the caller's work that needs no answer from them), or before the solves when they run here.
    """
    if not jobs:
        if meanwhile is not None:
            meanwhile()
        return []
    all_inputs = [
        pdu_inputs(cases, practitioners, partners, params, policy)
        for cases, practitioners, partners, params, policy in jobs
    ]
    done, run_warnings = solve_pdus(all_inputs, [(job[3], job[4]) for job in jobs], workers, meanwhile)
    return [
        _assemble(jobs[j][0], jobs[j][1], jobs[j][3], [done[(j, pdu)] for pdu in inputs], run_warnings)
        for j, inputs in enumerate(all_inputs)
    ]


def _assemble(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    params: Parameters,
    results: list[PduResult],
    run_warnings: list[str],
) -> Allocation:
    """Stack the PDUs' answers (in PDU order) into one :class:`Allocation`."""
    case_frames = [r.cases for r in results]
    case_table = pd.concat(case_frames) if case_frames else empty_case_frame(pd.Index([], name="case_id"))
    case_table = case_table.reindex(cases.index)
    case_table.index.name = cases.index.name
    for column in ("practitioner_id", "partner_id"):
        ids = case_table[column].to_numpy(dtype=object, copy=True)
        ids[pd.isna(ids)] = None  # no id is None, not NaN, whichever way the frames were stacked
        case_table[column] = pd.Series(ids, index=case_table.index, dtype="object")
    case_table["moved"] = case_table["moved"].astype(bool)

    prac_table = pd.DataFrame(index=practitioners.index)
    prac_table["allocated_hours"] = 0.0
    prac_table["capacity_hours"] = capacity_hours(practitioners, params).to_numpy(dtype=float)
    prac_table["overflow_hours"] = 0.0
    prac_table["caseload"] = 0
    prac_table["hour_value"] = np.nan
    solved_columns = ["allocated_hours", "overflow_hours", "caseload", "hour_value"]
    if results:
        solved = pd.concat([r.practitioners[solved_columns] for r in results])
        prac_table.loc[solved.index, solved_columns] = solved.to_numpy()
    prac_table["caseload"] = prac_table["caseload"].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prac_table["utilisation"] = np.where(
            prac_table["capacity_hours"] > 0, prac_table["allocated_hours"] / prac_table["capacity_hours"], np.nan
        )
    prac_table = prac_table[
        ["allocated_hours", "capacity_hours", "utilisation", "overflow_hours", "caseload", "hour_value"]
    ]
    prac_table.index.name = practitioners.index.name

    pdus = pd.DataFrame([r.row for r in results], index=pd.Index([r.pdu for r in results], name="pdu"))
    warnings = list(run_warnings) + [w for r in results for w in r.warnings]
    contracts = [r.partners.reset_index() for r in results if len(r.partners)]
    partners = pd.concat(contracts, ignore_index=True) if contracts else pd.DataFrame()
    moved = [r.effects.assign(pdu=r.pdu) for r in results if len(r.effects)]
    effects = (
        pd.concat(moved, ignore_index=True)
        if moved
        else pd.DataFrame({"resource": [], "case_id": [], "hours": [], "pdu": []})
    )
    return Allocation(case_table, prac_table, pdus, warnings, partners, effects)
