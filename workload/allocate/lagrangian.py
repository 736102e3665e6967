"""A lower bound on the LP's optimum at any row prices: each case's stay-or-move choice solved exactly.

For a minimisation ``min c'x, l <= A x <= u, lo <= x <= hi`` and any row prices d (HiGHS's sign: >= 0 on a row
held at its lower side, <= 0 at its upper side), weak duality gives ``sum_r d_r b_r + min_x (c - A'd)'x`` as a
lower bound, with b_r the side of row r its price's sign points to and the minimum over any set that holds the
LP's feasible points. Here that set keeps, for every case c, the rows of c alone that make its choice
(:func:`workload.allocate.model.define_hours`; for a case that may move, its away_hours and component_bands
rows, :mod:`workload.allocate.perspective`), and prices every other row (capacity, shedding, partner
contracts, budget, the partner and floor rows). Then the minimum splits by case:

- a case that may move either stays (its hours from its current practitioner p0, its partner z, its unmet
  u_k and s) or moves (paying the moved share's price, its hours from any other practitioner, its partner
  hours z = za, its unmet ua_k and sa): the perspective form is the convex hull of the two, so a linear
  cost is least at one of them;
- each side is a continuous knapsack: fill R_c hours from the cheapest columns first, each up to its bound
  (a pair y[c,p] up to R_c);
- a pair the arrays do not hold (candidate pairs, :mod:`workload.allocate.candidates`) is priced from the
  row prices without being made (:func:`workload.allocate.pricing.outside_reduced_costs`): only each case's
  cheapest matters.

Columns that belong to no case (overflow o_p) take their cheaper bound. At an LP optimum's own duals the bound is
that optimum (tested); at prices from elsewhere (:mod:`workload.allocate.decompose`) it is a valid bound,
looser the further they are from the LP's.
"""

from __future__ import annotations

import numpy as np

from workload.allocate.arrays import PduArrays
from workload.allocate.candidates import case_chunks
from workload.allocate.model import Model
from workload.allocate.perspective import moving_cases, moving_links
from workload.allocate.pricing import columns, outside_pairs, outside_reduced_costs

KEPT_ROWS = ("hours", "away_hours", "component_bands")
"""Row families each case's own choice keeps (not priced)."""


def knapsack(case: np.ndarray, cost: np.ndarray, size: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Least cost of filling ``need[c]`` hours of each case from its items (``case``, cost per hour, most hours),
    cheapest first; inf for a case whose items cannot hold its need."""
    n = len(need)
    order = np.lexsort((cost, case))
    case, cost, size = case[order], cost[order], size[order]
    filled = np.cumsum(size)
    first = np.searchsorted(case, np.arange(n))
    before = filled - size - np.concatenate([[0.0], filled])[first][case]
    take = np.clip(need[case] - before, 0.0, size)
    spent = np.where(take > 0, take * np.where(np.isfinite(cost), cost, 0.0), 0.0)
    value = np.bincount(case, weights=spent, minlength=n)
    got = np.bincount(case, weights=take, minlength=n)
    # the running total is over every case: its rounding grows with the total, not with one case's need
    slack = 1e-9 * (1.0 + need) + 8 * np.finfo(float).eps * (float(filled[-1]) if len(filled) else 0.0)
    return np.where(got >= need - slack, value, np.inf)


def _cheapest_outside(model: Model, prices: np.ndarray) -> np.ndarray:
    """Each case's least reduced cost over the eligible pairs its arrays do not hold (inf when none)."""
    a = model.arrays
    out = np.full(a.n_cases, np.inf)
    if a.rule is None:
        return out
    for lo, hi in case_chunks(a.n_cases, a.n_practitioners):
        reduced = outside_reduced_costs(model, prices, lo, hi)
        out[lo:hi] = np.where(outside_pairs(a, lo, hi), reduced, np.inf).min(axis=1)
    return out


def stay_or_move_bound(model: Model, duals: np.ndarray) -> float:
    """The lower bound of the module docstring on ``model``'s LP (projected form) at the row prices ``duals``."""
    a: PduArrays = model.arrays
    C, lay = a.n_cases, model.layout
    kept = np.zeros(model.n_rows, dtype=bool)
    for family in KEPT_ROWS:
        if family in model.families:
            kept[model.families[family]] = True
    # a price must pull toward a side the row has: <= 0 on a row with no lower side, >= 0 with no upper side
    # (a solver's dual of +3e-14 on a `<=` row would otherwise make the bound -inf)
    prices = np.where(kept, 0.0, duals)
    prices = np.where(np.isfinite(model.row_lower), prices, np.minimum(prices, 0.0))
    prices = np.where(np.isfinite(model.row_upper), prices, np.maximum(prices, 0.0))
    start, index, value = columns(model)
    priced = np.add.reduceat(np.concatenate([value * prices[index], [0.0]]), start[:-1])
    reduced = model.cost - np.where(np.diff(start) > 0, priced, 0.0)
    side = np.where(prices > 0, model.row_lower, np.where(prices < 0, model.row_upper, 0.0))
    total = float(np.where(prices != 0, prices * side, 0.0).sum()) + model.offset

    owned = np.zeros(model.n_cols, dtype=bool)
    moving = moving_cases(a)
    may_move = np.zeros(C, dtype=bool)
    may_move[moving] = True
    current = np.where(a.current_pair >= 0, a.pair_prac[np.maximum(a.current_pair, 0)], -1)
    y = lay.cols("y", np.arange(a.n_pairs))
    owned[y] = True
    stays = (a.pair_prac == current[a.pair_case]) | ~may_move[a.pair_case]
    stay = [(a.pair_case[stays], reduced[y][stays], a.required[a.pair_case[stays]])]
    move = [(a.pair_case[~stays], reduced[y][~stays], a.required[a.pair_case[~stays]])]
    every = np.arange(C)
    for name in ["s", *[b for b in model.blocks if b[0] == "u" and b[1:].isdigit()]]:
        col = lay.cols(name, every)
        owned[col] = True
        stay.append((every, reduced[col], model.upper[col]))
    if a.n_links:
        z = lay.cols("z", np.arange(a.n_links))
        owned[z] = True
        stay.append((a.link_case, reduced[z], model.upper[z]))
    move_price = np.zeros(C)
    if len(moving):
        m = lay.cols("m", np.arange(len(moving)))
        owned[m] = True
        move_price[moving] = reduced[m]
        for name in ["sa", *[b for b in model.blocks if b.startswith("ua")]]:
            col = lay.cols(name, np.arange(len(moving)))
            owned[col] = True
            move.append((moving, reduced[col], model.upper[col]))
        links = moving_links(a, moving)
        if len(links):
            za = lay.cols("za", np.arange(len(links)))
            owned[za] = True
            # moved whole, the stay component has no partner hours: z = za
            zl = lay.cols("z", links)
            move.append((a.link_case[links], reduced[zl] + reduced[za], np.minimum(model.upper[zl], model.upper[za])))
    outside = _cheapest_outside(model, prices)
    stay.append((every[~may_move], outside[~may_move], a.required[~may_move]))
    move.append((moving, outside[moving], a.required[moving]))
    s_case, s_cost, s_size = (np.concatenate([item[i] for item in stay]) for i in range(3))
    m_case, m_cost, m_size = (np.concatenate([item[i] for item in move]) for i in range(3))
    stay_value = knapsack(s_case, s_cost, s_size, a.required)
    move_value = knapsack(m_case, m_cost, m_size, np.where(may_move, a.required, 0.0)) + move_price
    per_case = np.where(may_move, np.minimum(stay_value, move_value), stay_value)
    upper = np.where(np.isfinite(model.upper), model.upper, 0.0)
    lower = np.where(np.isfinite(model.lower), model.lower, 0.0)
    rest = np.minimum(reduced * lower, reduced * upper)
    # a column with no finite bound on the side its reduced cost pulls to: the bound is -inf
    unbounded = ~owned & (((reduced < 0) & ~np.isfinite(model.upper)) | ((reduced > 0) & ~np.isfinite(model.lower)))
    if unbounded.any() or not np.isfinite(per_case).all():
        return -np.inf
    return total + float(rest[~owned].sum()) + float(per_case.sum())
