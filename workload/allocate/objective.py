"""The objective's pieces, defined once: what an hour costs, and the bands of unmet hours with their weights.

The LP (:func:`workload.allocate.model.define_variables`), the rounding, the local search and the polishing
all price an allocation with these functions, so they optimise one objective::

    sum_c [ w_c u1_c + m w_c u2_c + (m w_c + pi_s) s_c ] + sum_(c,p) (lambda g_p + pi_pool[c,p]) y[c,p]
      + lambda sum_(c,k) h_k z[c,k] + (continuity, overflow and cap-excess terms)

where a case's unmet hours ``R_c - y_c - z_c`` fall first inside its statutory floor (s_c, up to F_c), then
between the floor and the coverage target (u2_c, up to max(theta R_c - F_c, 0)), then above the target
(u1_c, up to R_c - max(F_c, theta R_c)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workload.allocate.arrays import PduArrays


def staff_hour_cost(a: PduArrays) -> np.ndarray:
    """``lambda g_p``: the objective's cost of an hour of each practitioner (staff cost, weighted)."""
    return a.cost_weight * a.staff_cost


def pair_hour_cost(a: PduArrays, pairs: np.ndarray | None = None) -> np.ndarray:
    """``lambda g_p + pi_pool[c,p]``: the cost of an hour on each pair (every pair, or ``pairs``), before
    any continuity price.

    pi_pool is the soft women's specialist pool's penalty (a woman's case with a non-specialist).
    """
    if pairs is None:
        return staff_hour_cost(a)[a.pair_prac] + a.pair_pool_penalty
    return staff_hour_cost(a)[a.pair_prac[pairs]] + a.pair_pool_penalty[pairs]


def partner_hour_cost(a: PduArrays) -> np.ndarray:
    """``lambda h_k``: the objective's cost of an hour of each partner (price, weighted)."""
    return a.cost_weight * a.price


@dataclass(frozen=True)
class UnmetBands:
    """One number per case for each band of unmet hours: hours, caps or weights.

    ``above`` is u1 (above the coverage target), ``below`` u2 (from the floor to the target) and ``floor``
    s (inside the statutory floor: the floor shortfall).
    """

    above: np.ndarray
    below: np.ndarray
    floor: np.ndarray

    def take(self, cases: np.ndarray) -> UnmetBands:
        """The bands of these cases."""
        return UnmetBands(self.above[cases], self.below[cases], self.floor[cases])


def unmet_weights(a: PduArrays) -> UnmetBands:
    """The objective's weight of an unmet hour in each band: ``w_c`` above the target, ``m w_c`` below it,
    ``m w_c + pi_s`` inside the floor."""
    mw = a.below_target_multiplier * a.weight
    return UnmetBands(a.weight, mw, mw + a.shortfall_penalty)


def above_target_cap(required: np.ndarray, floor: np.ndarray, coverage_target: float) -> np.ndarray:
    """``R_c - max(F_c, theta R_c)``: the most unmet hours that fall above the coverage target (u1's bound)."""
    return required - np.maximum(floor, coverage_target * required)


def unmet_caps(a: PduArrays) -> UnmetBands:
    """Each band's size: ``R_c - max(F_c, theta R_c)`` above the target, ``max(theta R_c - F_c, 0)`` below
    it, ``F_c`` inside the floor (the bounds of u1, u2 and s)."""
    R = a.required
    return UnmetBands(
        above_target_cap(R, a.floor, a.coverage_target), np.maximum(a.coverage_target * R - a.floor, 0.0), a.floor
    )


def unmet_bands(
    required: np.ndarray, floor: np.ndarray, above_cap: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray
) -> UnmetBands:
    """Split each case's unmet hours ``max(R_c - y_c - z_c, 0)`` into the bands.

    ``s_c = min(max(F_c - y_c, 0), unmet_c)`` (floor hours practitioners do not give: partners never give
    the floor), then ``u1_c = min(unmet_c - s_c, above_cap_c)`` and ``u2_c`` the rest: an allocation's unmet
    hours fill the cheapest band first, as the LP's do.
    """
    unmet = np.maximum(required - hours - partner_hours, 0.0)
    short = np.minimum(np.maximum(floor - hours, 0.0), unmet)
    rest = unmet - short
    u1 = np.minimum(rest, above_cap)
    return UnmetBands(u1, rest - u1, short)


def unmet_cost(weights: UnmetBands, bands: UnmetBands) -> np.ndarray:
    """Each case's cost of unmet need: ``w_c u1_c + m w_c u2_c + (m w_c + pi_s) s_c``."""
    return weights.above * bands.above + weights.below * bands.below + weights.floor * bands.floor


def case_costs(
    a: PduArrays, cases: np.ndarray, pair: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray
) -> np.ndarray:
    """Each case's part of the objective given its practitioner hours: unmet need plus the hours' cost
    (:func:`unmet_cost` plus ``(lambda g_p + pi_pool) y_c``; partner cost and continuity not included)."""
    R = a.required[cases]
    floor = a.floor[cases]
    bands = unmet_bands(R, floor, above_target_cap(R, floor, a.coverage_target), hours, partner_hours)
    return unmet_cost(unmet_weights(a).take(cases), bands) + pair_hour_cost(a, pair) * hours


def hour_segments(a: PduArrays, cases: np.ndarray, partner_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A case's practitioner hours as three segments, in the order they meet need: (start, length), each 3 x n.

    For case c with partner hours z_c: hours in [0, F_c) meet the floor; hours in [F_c, max(F_c, theta R_c -
    z_c)) meet need below the coverage target; hours above it, up to R_c - z_c, need above the target (F_c
    here is min(F_c, R_c - z_c)).
    """
    R = a.required[cases]
    F = np.minimum(a.floor[cases], R - partner_hours)
    top = np.maximum(R - partner_hours, F)
    target = np.clip(a.coverage_target * R - partner_hours, F, top)
    start = np.vstack([np.zeros(len(cases)), F, target])
    return start, np.maximum(np.vstack([F, target, top]) - start, 0.0)


def segment_worth(weights: UnmetBands) -> np.ndarray:
    """What an hour in each segment of :func:`hour_segments` saves: ``m w_c + pi_s``, ``m w_c``, ``w_c`` (3 x n)."""
    return np.vstack([weights.floor, weights.below, weights.above])


def segments(
    a: PduArrays, cases: np.ndarray, pair: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A case's practitioner hours as three segments (:func:`hour_segments`), each with its value per hour.

    An hour's value is what it saves (:func:`segment_worth`) net of its cost at that practitioner
    (:func:`pair_hour_cost`). Returns (start, length, value), each of shape (3, len(cases)); values fall along
    a case's segments.
    """
    start, length = hour_segments(a, cases, partner_hours)
    value = segment_worth(unmet_weights(a).take(cases)) - pair_hour_cost(a, pair)
    return start, length, value
