"""Polishing: practitioner and partner hours solved exactly, by a small LP, for a fixed assignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workload.allocate.arrays import HOURS_TOL
from workload.allocate.grouped import lead_links
from workload.allocate.model import Model
from workload.allocate.objective import pair_hour_cost
from workload.allocate.perspective import moving_cases
from workload.allocate.solvers import highs_lp, new_highs


@dataclass(frozen=True)
class Polished:
    """The polishing LP's answer per case (positions in the model's arrays); when HiGHS did not reach its
    optimum, ``optimal`` is False and the arrays are empty."""

    optimal: bool
    hours: np.ndarray
    link: np.ndarray
    """Each case's partner link, -1 for none."""
    partner_hours: np.ndarray
    solver_seconds: float
    """HiGHS's own run time, summed over the LP's solves (one, or two when a case had two partners)."""


def polish_hours(model: Model, pair: np.ndarray, time_limit: float = 60.0) -> Polished:
    """Practitioner and partner hours, and each case's partner, solved for a fixed assignment.

    With every case's practitioner fixed, what is left is a small LP over the hours: the model with every
    other pair held at 0 (x fixed at 1 where present) and moves counted as constants (the projected form's
    per-hour continuity price is left out). Its answer is the best hours for that assignment under every
    row at once (capacity, floors, partner contracts, budget), which rules (best hours per practitioner with
    partner hours fixed, then partners' spare hours, then budget trimming) only approximate. Should it
    refer a case to two partners, the case keeps the one giving most hours and the LP is solved again with
    every case's partner fixed, so every case has at most one partner. Returns the hours, partner links and
    partner hours (not ``optimal`` when HiGHS does not reach the optimum) with HiGHS's run time.
    """
    import highspy

    a = model.arrays
    lay = model.layout
    C, Q = a.n_cases, a.n_links
    cost, lower, upper = model.cost.copy(), model.lower.copy(), model.upper.copy()
    y = lay.slice("y")
    cost[y] = pair_hour_cost(a)  # moves are constants here: no continuity price
    keep = np.ones(model.n_cols, dtype=bool)
    keep[y] = False
    keep[lay.cols("y", pair)] = True
    if model.explicit:
        keep[lay.slice("x")] = False
        chosen = lay.cols("x", pair)
        keep[chosen] = True
        lower[chosen] = upper[chosen] = 1.0
    if "m" in model.blocks:
        # who moved is fixed with the assignment: each moving case's share is 0 or 1
        moving = moving_cases(a)
        moved = (pair[moving] != a.current_pair[moving]).astype(float)
        m = lay.slice("m")
        lower[m] = upper[m] = moved
    run_times: list[float] = []
    for _ in range(2):
        active = np.flatnonzero(keep)
        h = new_highs(time_limit, 1)
        h.passModel(highs_lp(model, cost, lower, upper, active))
        h.run()
        run_times.append(float(h.getRunTime()))
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return Polished(False, np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0), float(sum(run_times)))
        values = np.zeros(model.n_cols)
        values[active] = np.array(h.getSolution().col_value)
        z = np.where(keep[lay.slice("z")], values[lay.slice("z")], 0.0)
        split = np.bincount(a.link_case[z > HOURS_TOL], minlength=C) > 1
        if not split.any():
            break
        # some case has two partners: every case keeps only the partner giving it most hours (the first on
        # a tie; none if it had none) and the LP is solved again, which can then split no case (fixing only
        # the split cases would not do: the LP has many optima and splits others instead)
        lead = lead_links(a, z)
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
        lead = lead_links(a, z)
        lead = lead[(lead >= 0) & (z[np.maximum(lead, 0)] > 0)]
        link[a.link_case[lead]] = lead
        partner_hours[a.link_case[lead]] = z[lead]
    partner_hours = np.clip(np.minimum(partner_hours, a.required - hours), 0.0, None)
    link = np.where(partner_hours > HOURS_TOL, link, -1)
    return Polished(True, hours, link, np.where(link >= 0, partner_hours, 0.0), float(sum(run_times)))
