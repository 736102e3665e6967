"""The rounding's last step where cases may move: the exact one-practitioner problem, solved on the LP's
neighbourhood of the rounded allocation.

When cases may move (``rebalance``, ``free``), which cases move, and to whom, is a choice rules and single
moves make poorly: moving one case usually pays only with another moved back, and the move budget binds. So
after rounding, the exact MIP (binary responsibility and referral, every row of the model) is solved with
each case's practitioners restricted to its *neighbourhood*: those the LP gave it hours, its rounded
practitioner and its current one. Cases the LP and the rounding agree on have one practitioner there and
only their hours are re-chosen. The rounded allocation is the MIP's starting solution, so its answer is never
worse; it is kept when it is better (docs/model.md, "Rounding").

The search is bounded by nodes, not seconds (:data:`NEIGHBOURHOOD_NODES`), so the answer does not depend on
the machine's speed; :data:`NEIGHBOURHOOD_SECONDS` is only a safety net.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from workload.allocate.arrays import HOURS_TOL, PduArrays
from workload.allocate.grouped import lead_links
from workload.allocate.model import Model, build_model
from workload.allocate.solvers import highs_lp, new_highs

NEIGHBOURHOOD_NODES = 200
"""Solver setting, not a model number: most branch-and-bound nodes the neighbourhood MIP explores. On the
region's PDUs under ``rebalance`` and ``free`` its answers after 1 node and after 500 were the same in 39 of 40
(its root, with HiGHS's cuts and heuristics, finds them)."""

NEIGHBOURHOOD_GAP = 0.01
"""Solver setting: the step runs only when the rounded allocation is more than this share above the LP
bound (within it, the answer is already as close as the target of 1% asks)."""

NEIGHBOURHOOD_SECONDS = 60.0
"""Solver setting: a safety limit on the neighbourhood MIP's time (the node limit normally stops it first).
An answer found by the time it is reached is not used, so the allocation never depends on the machine's
speed (only whether the step helped can)."""

NEIGHBOURHOOD_MAX_CASES = 5_000
"""Solver setting: the step is skipped in a PDU of more cases than this (its MIP's root alone would take
minutes; the rounded allocation stands). National PDUs have about 2,500 cases, the region's at most 1,707."""


@dataclass(frozen=True)
class Improved:
    """The neighbourhood MIP's allocation (positions in the full model's arrays), or ``better`` False."""

    better: bool
    pair: np.ndarray
    hours: np.ndarray
    link: np.ndarray
    partner_hours: np.ndarray
    changed: int
    """Cases whose practitioner changed from the rounded allocation."""
    solver_seconds: float


def restrict_pairs(a: PduArrays, keep: np.ndarray) -> tuple[PduArrays, np.ndarray]:
    """The PDU's arrays with only the pairs ``keep`` marks (every case's current pair must be among them),
    and each kept pair's position in the full arrays."""
    kept = np.flatnonzero(keep)
    counts = np.bincount(a.pair_case[kept], minlength=a.n_cases)
    position = np.full(a.n_pairs, -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    has = a.current_pair >= 0
    current = np.full(a.n_cases, -1, dtype=np.int64)
    current[has] = position[a.current_pair[has]]
    sub = dataclasses.replace(
        a,
        pair_case=a.pair_case[kept],
        pair_prac=a.pair_prac[kept],
        pair_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        pair_penalty=a.pair_penalty[kept],
        current_pair=current,
    )
    return sub, kept


def neighbourhood(model: Model, values: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """The pairs of each case's neighbourhood: LP hours on them, the rounded pair ``pair``, the current pair."""
    a = model.arrays
    keep = values[model.layout.slice("y")] > HOURS_TOL
    keep[pair] = True
    keep[a.current_pair[a.current_pair >= 0]] = True
    return keep


def improve_in_neighbourhood(
    model: Model,
    values: np.ndarray,
    pair: np.ndarray,
    hours: np.ndarray,
    link: np.ndarray,
    partner_hours: np.ndarray,
    objective: float,
) -> Improved:
    """Solve the exact MIP on the LP's neighbourhood of a rounded allocation (``pair``, ``hours``, ``link``,
    ``partner_hours``, whose objective is ``objective``), started from it; ``better`` when its answer's
    objective in the full model is lower."""
    import highspy

    a = model.arrays
    none = Improved(False, pair, hours, link, partner_hours, 0, 0.0)
    bound = model.objective(values)
    if objective - bound <= NEIGHBOURHOOD_GAP * max(abs(bound), 1.0):
        return none
    keep = neighbourhood(model, values, pair)
    choices = np.bincount(a.pair_case[keep], minlength=a.n_cases)
    if not (choices > 1).any() or a.n_cases > NEIGHBOURHOOD_MAX_CASES:
        return none
    sub, kept = restrict_pairs(a, keep)
    exact = build_model(sub, integral=True)
    at = np.full(a.n_pairs, -1, dtype=np.int64)
    at[kept] = np.arange(len(kept))
    start = exact.solution_vector(at[pair], hours, link, partner_hours)
    h = new_highs(NEIGHBOURHOOD_SECONDS, 1)
    h.setOptionValue("mip_max_nodes", NEIGHBOURHOOD_NODES)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.passModel(highs_lp(exact, exact.cost, exact.lower, exact.upper))
    cols = np.flatnonzero(exact.integrality).astype(np.int32)
    h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))
    solution = highspy.HighsSolution()
    solution.col_value = start.tolist()
    solution.value_valid = True
    h.setSolution(solution)
    began = time.perf_counter()
    h.run()
    seconds = float(h.getRunTime()) or time.perf_counter() - began
    if h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit or h.getInfo().primal_solution_status != 2:
        return dataclasses.replace(none, solver_seconds=seconds)
    found = np.array(h.getSolution().col_value)
    x = found[exact.layout.slice("x")]
    # the chosen pair of each case: its x closest to 1 (x is binary; the first on a tie)
    best = np.maximum.reduceat(x, sub.pair_start[:-1])
    first = np.minimum.reduceat(
        np.where(x >= best[sub.pair_case] - 1e-9, np.arange(sub.n_pairs), sub.n_pairs), sub.pair_start[:-1]
    )
    new_pair = kept[first]
    y = found[exact.layout.slice("y")]
    new_hours = np.clip(y[first], 0.0, a.required)
    z = np.clip(found[exact.layout.slice("z")], 0.0, None)
    new_link = np.full(a.n_cases, -1, dtype=np.int64)
    new_partner = np.zeros(a.n_cases)
    if a.n_links:
        # one partner per case (the referral variables say so); the one giving most hours on a numerical tie
        lead = lead_links(a, z)
        lead = lead[(lead >= 0) & (z[np.maximum(lead, 0)] > HOURS_TOL)]
        new_link[a.link_case[lead]] = lead
        new_partner[a.link_case[lead]] = z[lead]
    new_partner = np.clip(np.minimum(new_partner, a.required - new_hours), 0.0, None)
    new_link = np.where(new_partner > HOURS_TOL, new_link, -1)
    new_partner = np.where(new_link >= 0, new_partner, 0.0)
    vector = model.solution_vector(new_pair, new_hours, new_link, new_partner)
    if model.integral_objective(vector, new_pair) >= objective - 1e-9 * max(1.0, abs(objective)):
        return dataclasses.replace(none, solver_seconds=seconds)
    if a.move_budget is not None:
        moved = int(((a.current_pair >= 0) & (new_pair != a.current_pair)).sum())
        if moved > a.move_budget + 1e-9:
            return dataclasses.replace(none, solver_seconds=seconds)
    changed = int((new_pair != pair).sum())
    return Improved(True, new_pair, new_hours, new_link, new_partner, changed, seconds)
