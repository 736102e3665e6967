"""Pricing: the LP's (case, practitioner) pairs brought in as columns while their reduced cost at the duals is negative.

Two levels: :class:`Pricing` brings in the arrays' pairs (every eligible pair, usually); when the arrays hold
candidate pairs only (:mod:`workload.allocate.candidates`), :func:`outside_entering` prices every other
eligible pair in chunks of cases from the duals, without making it, and :func:`extend_model` adds those with a
negative reduced cost to the arrays and rebuilds the model around them.
"""

from __future__ import annotations

import numpy as np

from workload.allocate import candidates
from workload.allocate.arrays import PduArrays
from workload.allocate.candidates import case_chunks, closed_cases, with_pairs
from workload.allocate.grouped import first_per_group
from workload.allocate.model import Model, build_model
from workload.allocate.objective import staff_hour_cost, unmet_caps, unmet_weights
from workload.allocate.perspective import moving_cases, partner_bound

PRICING_START_PAIRS = 12
"""Solver setting, not a model number: with pricing, each case starts with its current practitioner's pair
and this many others (spread evenly over the PDU's practitioners). 12 and :data:`PRICING_ADD_PER_CASE` 10,
with HiGHS's presolve off, took 44% less HiGHS time than 8 and 5 with presolve on over ten national PDUs
(2,000-3,300 cases each) and a third less on the regional scenario, at the same optimum."""

PRICING_ADD_PER_CASE = 10
"""Solver setting: each pricing round adds at most this many pairs per case, those of most negative
reduced cost."""

OPEN_PER_ROUND = 4_000
"""Solver setting: at most this many closed cases open at one LP optimum, those that could gain most at its duals
(:func:`closed_gains`). Measured on the 30,000 x 1,150 PDU (needs-scored cell, one solve, quiet machine):
under ``free`` the first LP's duals say 16,235 cases could gain and its optimum moves 2,753; opened all at once,
the LP with their rows took 100-146 s; 4,000 at a time reached 0.02% of the optimum in 120 s. Under
``rebalance`` (7,049 could gain) 4,000 at a time took 57 s against 45 s all at once."""

OPEN_GAP = 1e-4
"""Solver setting: the LP stops opening closed cases when all of them together could lower its objective by at
most this share of it (:func:`opening`); it then reports the Lagrangian bound (its objective less that gain) as
its bound. Measured on the 30,000 x 1,150 PDU under ``free``: after its optimum is found, each further round
opened one to five cases and took about 80 s; under ``rebalance`` 2 cases could still gain 36.0 (0.008%)."""

PRICING_TOL = 1e-9
"""Numerical guard: a pair joins the model when its reduced cost is below -PRICING_TOL."""


def columns(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's matrix by columns (CSC start, row index, value), from its CSR rows (made once per model)."""
    cached = model.__dict__.get("_csc")
    if cached is None:
        rows = np.repeat(np.arange(model.n_rows), np.diff(model.start))
        order = np.lexsort((rows, model.index))
        start = np.concatenate([[0], np.cumsum(np.bincount(model.index, minlength=model.n_cols))]).astype(np.int64)
        cached = (start, rows[order].astype(np.int32), model.value[order])
        model.__dict__["_csc"] = cached
    return cached


def column_block(
    csc: tuple[np.ndarray, np.ndarray, np.ndarray], cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC (start, index, value) of the given columns, in that order."""
    start, index, value = csc
    lengths = start[cols + 1] - start[cols]
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    take = np.repeat(start[cols] - first, lengths) + np.arange(int(lengths.sum()))
    return first.astype(np.int32), index[take], value[take]


def starting_columns(model: Model) -> np.ndarray:
    """The columns the restricted LP starts with: each case's current pair and :data:`PRICING_START_PAIRS`
    others (spread evenly over its eligible practitioners; :data:`~workload.allocate.candidates.CANDIDATE_START_PAIRS`
    when the arrays hold candidate pairs), and every column that is not a pair."""
    y = model.blocks["y"]
    a = model.arrays
    start_pairs = PRICING_START_PAIRS if a.rule is None else candidates.CANDIDATE_START_PAIRS
    counts = np.diff(a.pair_start)[a.pair_case]
    rank = (np.arange(a.n_pairs) - a.pair_start[a.pair_case] - (a.pair_case % np.maximum(counts, 1))) % np.maximum(
        counts, 1
    )
    keep = rank < start_pairs
    keep[a.current_pair[a.current_pair >= 0]] = True
    return np.concatenate([np.flatnonzero(keep) + y.start, np.arange(y.stop, model.n_cols)]).astype(np.int64)


class Pricing:
    """Which pairs enter the restricted LP next, from its row duals.

    A left-out pair e's reduced cost is ``c_e - A_e' pi`` at the row duals pi; while some are negative, each
    case brings in at most :data:`PRICING_ADD_PER_CASE` of them, most negative first. When none is, the
    restricted LP's optimum is the full LP's.
    """

    def __init__(self, model: Model, active: np.ndarray) -> None:
        self.model = model
        self.csc = columns(model)
        self.in_model = np.zeros(model.n_cols, dtype=bool)
        self.in_model[active] = True
        self.rows = np.repeat(np.arange(model.n_rows), np.diff(model.start))

    def entering(self, duals: np.ndarray) -> np.ndarray:
        """Columns to add at these row duals (marked as in the model), in (case, reduced cost) order; empty
        when no left-out pair has a negative reduced cost."""
        model = self.model
        y = model.blocks["y"]
        reduced = model.cost - np.bincount(model.index, weights=model.value * duals[self.rows], minlength=model.n_cols)
        pairs = np.flatnonzero((reduced[y] < -PRICING_TOL) & ~self.in_model[y])
        if not len(pairs):
            return pairs
        # the most negative reduced costs of each case, in (case, reduced cost) order
        add = pairs[first_per_group(model.arrays.pair_case[pairs], reduced[y][pairs], PRICING_ADD_PER_CASE)] + y.start
        self.in_model[add] = True
        return add

    def block(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSC (start, index, value) of these columns, for ``Highs.addCols``."""
        return column_block(self.csc, cols)


def outside_reduced_costs(model: Model, duals: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Reduced costs at the row duals of every pair of cases ``lo:hi`` (dense, cases x practitioners; made or not).

    A pair column y[c,p] of the projected LP costs ``lambda g_p + pi[c,p]`` (:func:`~workload.allocate.objective.pair_hour_cost`,
    with pi from :class:`~workload.allocate.candidates.PairRule`) and has a 1 in case c's hours row, a 1 in p's
    capacity row, g_p in the budget row and, when c may move and p is not its current practitioner, a 1 in c's
    away_hours row (:func:`~workload.allocate.perspective.define_away_hours`): its reduced cost is
    ``lambda g_p + pi[c,p] - d_hours[c] - d_capacity[p] - g_p d_budget - d_away[c]``.
    """
    a = model.arrays
    assert a.rule is not None and not model.explicit
    fam = model.families
    prac_part = staff_hour_cost(a) - duals[fam["capacity"]]
    if "budget" in fam:
        prac_part = prac_part - a.staff_cost * float(duals[fam["budget"]][0])
    case_part = duals[fam["hours"]][lo:hi].copy()
    away_part = np.zeros(hi - lo)
    if "away_hours" in fam:
        moving = moving_cases(a)
        away = np.zeros(a.n_cases)
        away[moving] = duals[fam["away_hours"]]
        away_part = away[lo:hi]
    reduced = prac_part[None, :] + a.rule.penalty_block(lo, hi) - (case_part + away_part)[:, None]
    held = np.flatnonzero(a.current_pair[lo:hi] >= 0)
    # the current practitioner's hours are the stay component's: not in the away_hours row
    reduced[held, a.pair_prac[a.current_pair[lo + held]]] += away_part[held]
    return reduced


def outside_pairs(a: PduArrays, lo: int, hi: int) -> np.ndarray:
    """The eligible pairs of cases ``lo:hi`` the arrays do not hold (dense, cases x practitioners)."""
    assert a.rule is not None
    outside = a.rule.eligible[lo:hi].copy()
    held = slice(a.pair_start[lo], a.pair_start[hi])
    outside[a.pair_case[held] - lo, a.pair_prac[held]] = False
    return outside


def outside_entering(model: Model, duals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eligible pairs outside the arrays whose reduced cost at the row duals is below -:data:`PRICING_TOL`:
    (case, practitioner), at most :data:`PRICING_ADD_PER_CASE` per case, most negative first (empty when the
    arrays hold every eligible pair). Closed cases (:func:`~workload.allocate.candidates.closed_cases`) are
    left to :func:`opening`."""
    a = model.arrays
    if a.rule is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    closed = np.zeros(a.n_cases, dtype=bool)
    closed[closed_cases(a)] = True  # their other pairs come with their rows (:func:`opening`)
    found_case, found_prac, found_cost = [], [], []
    for lo, hi in case_chunks(a.n_cases, a.n_practitioners):
        reduced = outside_reduced_costs(model, duals, lo, hi)
        wanted = outside_pairs(a, lo, hi) & (reduced < -PRICING_TOL) & ~closed[lo:hi, None]
        case, prac = np.nonzero(wanted)
        found_case.append(case + lo)
        found_prac.append(prac)
        found_cost.append(reduced[case, prac])
    case, prac, cost = np.concatenate(found_case), np.concatenate(found_prac), np.concatenate(found_cost)
    keep = np.sort(first_per_group(case, cost, PRICING_ADD_PER_CASE))
    return case[keep].astype(np.int64), prac[keep].astype(np.int64)


def extend_model(model: Model, active: np.ndarray, case: np.ndarray, prac: np.ndarray) -> tuple[Model, np.ndarray]:
    """The model rebuilt with these pairs added to its arrays (:func:`~workload.allocate.candidates.with_pairs`),
    and ``active`` (columns of ``model``) as columns of the new one.

    The rows are the same, and only the pair block y (the first) grows, so a column after it moves by the
    number of pairs added and a pair column is found by its (case, practitioner).
    """
    a = model.arrays
    grown = with_pairs(a, case, prac)
    new = build_model(grown, explicit=model.explicit, integral=model.integral, explicit_partner=model.explicit_partner)
    if new.n_rows != model.n_rows or model.blocks["y"].start != 0:
        raise AssertionError("adding pairs changed the model's rows or its column order")
    y = model.blocks["y"]
    P = a.n_practitioners
    mapped = active + (grown.n_pairs - a.n_pairs)
    is_pair = active < y.stop
    pair = active[is_pair]
    mapped[is_pair] = np.searchsorted(grown.pair_case * P + grown.pair_prac, a.pair_case[pair] * P + a.pair_prac[pair])
    return new, mapped


def closed_gains(model: Model, duals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed cases (:func:`~workload.allocate.candidates.closed_cases`) and what each could gain by moving at
    these row duals (0 for those that could not).

    A closed case c stays with its current practitioner p0; the full model would also give it the moved share
    m_c, the move component's columns (its other pairs, ua_k, sa, za) and its rows (away_hours, the component
    bands and floors, the partner split). Give those rows the dual 0, except away_hours, whose dual d (an
    equality) is free: every left-out column then has a non-negative reduced cost, and the LP's optimum is the
    full model's, when some d satisfies

    - m_c (cost pi_c; -R_c in away_hours, min(R_c, D_p0) in p0's shedding row, 1 in the move budget):
      ``pi_c + R_c d - min(R_c, D_p0) d_shed - d_budget >= 0``;
    - each other pair y[c,p]: ``rc0[c,p] - d >= 0`` (:func:`outside_reduced_costs` without the away_hours row);
    - each sized band ua_k and sa (costs mu_k w_c, mu_0 w_c + pi_s; 1 in the hours and away_hours rows):
      ``weight - d_hours[c] - d >= 0``;
    - each partner link's za (cost 0; 1 in away_hours, -1 in p0's shedding row): ``d_shed - d >= 0``.

    So c is opened when the lower limit on d from m_c is above the least upper limit from the rest.

    What c could gain is ``R_c (lower - upper)``: the reduced cost, at these duals, of moving it whole with all
    its hours on its cheapest column, which (keeping its away_hours row and dropping its other new rows, a
    relaxation) is the least reduced cost of its new columns together. So the full LP's optimum is at least this
    LP's less the sum over every closed case (the Lagrangian bound of column generation): what the solve
    reports as its bound when it stops with cases still closed (:data:`OPEN_GAP`).
    """
    a = model.arrays
    assert a.rule is not None
    closed = closed_cases(a)
    if not len(closed):
        return closed, np.zeros(0)
    fam = model.families
    hours_dual = duals[fam["hours"]]
    upper = np.full(a.n_cases, np.inf)
    is_closed = np.zeros(a.n_cases, dtype=bool)
    is_closed[closed] = True
    current = np.where(a.current_pair >= 0, a.pair_prac[np.maximum(a.current_pair, 0)], -1)
    for lo, hi in case_chunks(a.n_cases, a.n_practitioners):
        rows = np.flatnonzero(is_closed[lo:hi])
        if not len(rows):
            continue
        reduced = outside_reduced_costs(model, duals, lo, hi)[rows]
        reduced[~a.rule.eligible[lo + rows]] = np.inf
        reduced[np.arange(len(rows)), current[lo + rows]] = np.inf
        upper[lo + rows] = reduced.min(axis=1)
    caps, weights = unmet_caps(a), unmet_weights(a)
    bands = np.vstack([caps.floor[None, :], caps.need]) > 0
    worth = np.vstack([weights.floor[None, :], weights.need]) - hours_dual[None, :]
    upper = np.minimum(upper, np.where(bands, worth, np.inf).min(axis=0))
    # p0's shedding row (a practitioner over capacity with today's caseload) and its dual
    held = np.flatnonzero(a.current_pair >= 0)
    excess = np.bincount(current[held], weights=a.required[held], minlength=a.n_practitioners) - a.capacity
    shed_dual = np.zeros(a.n_practitioners)
    if "shedding" in fam:
        over = np.flatnonzero(excess > 1e-9)
        shed_dual[over] = duals[fam["shedding"]]
    p0 = current[closed]
    linked = np.bincount(a.link_case[partner_bound(a) > 0], minlength=a.n_cases) > 0
    upper[closed] = np.where(linked[closed], np.minimum(upper[closed], shed_dual[p0]), upper[closed])
    budget = float(duals[fam["move_budget"]][0]) if "move_budget" in fam else 0.0
    coef = np.minimum(a.required[closed], np.maximum(excess[p0], 0.0))
    lower = (coef * shed_dual[p0] + budget - a.move_price[closed]) / a.required[closed]
    gain = np.where(lower > upper[closed] + PRICING_TOL, (lower - upper[closed]) * a.required[closed], 0.0)
    return closed, gain


def opening(model: Model, duals: np.ndarray) -> tuple[np.ndarray, float]:
    """Closed cases that could gain by moving at these row duals (:func:`closed_gains`), those to open: at most
    :data:`OPEN_PER_ROUND`, most gain first; and what all of them could gain together (0: the LP's optimum is
    the full model's, every case free to move)."""
    closed, gain = closed_gains(model, duals)
    wanted = np.flatnonzero(gain > 0)
    chosen = wanted[np.argsort(-gain[wanted], kind="stable")[:OPEN_PER_ROUND]]
    return np.sort(closed[chosen]), float(gain[wanted].sum())
