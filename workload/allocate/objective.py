"""The objective's pieces, defined once: what an hour costs, and the bands of unmet hours with their weights.

The LP (:func:`workload.allocate.model.define_variables`), the rounding, the local search and the polishing
all price an allocation with these functions, so they optimise one objective::

    sum_c [ sum_k mu_k w_c u_(k+1),c + (mu_0 w_c + pi_s) s_c ] + sum_(c,p) (lambda g_p + pi_pool[c,p]) y[c,p]
      + lambda sum_(c,k) h_k z[c,k] + (continuity, overflow and cap-excess terms)

where a case's unmet hours ``R_c - y_c - z_c`` fall first inside its public-protection minimum (s_c, up to
F_c), then in K need bands by coverage: band k holds the unmet hours between coverage t_(k-1) and t_k of
R_c (``allocation.rationing.band_top``), weighted mu_k (``allocation.rationing.band_weight``), with
mu_0 > mu_1 > ... > mu_(K-1). The weights rise as coverage falls, so the cost is convex and piecewise linear
in a case's hours: the LP shares scarce hours out by coverage (the lowest-covered case's next hour is worth
most), scaled by each case's priority weight w_c, rather than all-or-nothing (docs/model.md, "Rationing
by need").
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
    """``lambda g_p + pi_pool[c,p] + pi_load[c,p]``: the cost of an hour on each pair (every pair, or ``pairs``),
    before any continuity price.

    pi_pool is the soft women's specialist pool's penalty (a woman's case with a non-specialist); pi_load the
    placement tie-break, ``allocation.penalties.placement_load_weight`` x the practitioner's load, on the pairs
    of cases the allocator places (:attr:`workload.allocate.arrays.PduArrays.pair_penalty`).
    """
    if pairs is None:
        return staff_hour_cost(a)[a.pair_prac] + a.pair_penalty
    return staff_hour_cost(a)[a.pair_prac[pairs]] + a.pair_penalty[pairs]


def partner_hour_cost(a: PduArrays) -> np.ndarray:
    """``lambda h_k``: the objective's cost of an hour of each partner (price, weighted)."""
    return a.cost_weight * a.price


@dataclass(frozen=True)
class UnmetBands:
    """Hours, caps or weights of each band of unmet hours: ``floor`` (one per case) and ``need`` (K x cases).

    ``floor`` is s (inside the public-protection minimum: the minimum's shortfall); ``need[k]`` is u_(k+1),
    the unmet hours whose coverage lies in band k, ``(t_(k-1) R_c, t_k R_c]`` (band 0 the lowest coverage).
    """

    floor: np.ndarray
    need: np.ndarray

    def take(self, cases: np.ndarray) -> UnmetBands:
        """The bands of these cases."""
        return UnmetBands(self.floor[cases], self.need[:, cases])

    def total(self) -> np.ndarray:
        """Every band added up, per case."""
        return self.floor + self.need.sum(axis=0)


def band_names(a: PduArrays) -> list[str]:
    """The need bands' variable blocks, lowest coverage first: ``u1`` ... ``uK``."""
    return [f"u{k + 1}" for k in range(len(a.band_top))]


def unmet_weights(a: PduArrays) -> UnmetBands:
    """The objective's weight of an unmet hour in each band: ``mu_k w_c`` in need band k, ``mu_0 w_c + pi_s``
    inside the minimum (mu_0 the lowest band's multiplier)."""
    need = a.band_weight[:, None] * a.weight[None, :]
    return UnmetBands(need[0] + a.shortfall_penalty, need)


def band_caps(required: np.ndarray, floor: np.ndarray, band_top: np.ndarray) -> np.ndarray:
    """Each need band's size, K x cases: ``max(t_k R_c - max(F_c, t_(k-1) R_c), 0)`` (t_(-1) = 0, t_(K-1) = 1).

    The bands above the minimum add up to ``R_c - F_c``: a minimum's hours are in s, not in a need band.
    """
    tops = band_top[:, None] * required[None, :]
    bottoms = np.vstack([np.zeros((1, len(required))), tops[:-1]])
    return np.maximum(tops - np.maximum(floor[None, :], bottoms), 0.0)


def unmet_caps(a: PduArrays) -> UnmetBands:
    """Each band's size: ``F_c`` inside the minimum, :func:`band_caps` above it (the bounds of s and u)."""
    return UnmetBands(a.floor, band_caps(a.required, a.floor, a.band_top))


def unmet_bands(
    required: np.ndarray, floor: np.ndarray, caps: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray
) -> UnmetBands:
    """Split each case's unmet hours ``max(R_c - y_c - z_c, 0)`` into the bands (``caps``: :func:`band_caps`).

    ``s_c = min(max(F_c - y_c, 0), unmet_c)`` (minimum hours practitioners do not give: partners never give
    the minimum); the rest fills the need bands from the top (highest coverage, the cheapest) down: an
    allocation's unmet hours fill the cheapest band first, as the LP's do.
    """
    unmet = np.maximum(required - hours - partner_hours, 0.0)
    short = np.minimum(np.maximum(floor - hours, 0.0), unmet)
    rest = unmet - short
    above = np.cumsum(caps[::-1], axis=0)[::-1] - caps  # caps of the bands above band k
    need = np.clip(rest[None, :] - above, 0.0, caps)
    return UnmetBands(short, need)


def unmet_cost(weights: UnmetBands, bands: UnmetBands) -> np.ndarray:
    """Each case's cost of unmet need: ``sum_k mu_k w_c u_k + (mu_0 w_c + pi_s) s_c``."""
    return weights.floor * bands.floor + (weights.need * bands.need).sum(axis=0)


def case_costs(
    a: PduArrays, cases: np.ndarray, pair: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray
) -> np.ndarray:
    """Each case's part of the objective given its practitioner hours: unmet need plus the hours' cost
    (:func:`unmet_cost` plus ``(lambda g_p + pi_pool) y_c``; partner cost and continuity not included)."""
    R = a.required[cases]
    floor = a.floor[cases]
    bands = unmet_bands(R, floor, band_caps(R, floor, a.band_top), hours, partner_hours)
    return unmet_cost(unmet_weights(a).take(cases), bands) + pair_hour_cost(a, pair) * hours


def hour_segments(a: PduArrays, cases: np.ndarray, partner_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A case's practitioner hours as K + 1 segments, in the order they meet need: (start, length), each
    (K + 1) x n.

    For case c with partner hours z_c (which count towards coverage first): hours in [0, F_c) meet the
    minimum; then segment k + 1 holds the hours that take coverage through need band k, from
    ``clip(t_(k-1) R_c - z_c, F_c, R_c - z_c)`` to ``clip(t_k R_c - z_c, F_c, R_c - z_c)`` (F_c here is
    min(F_c, R_c - z_c)).
    """
    R = a.required[cases]
    F = np.minimum(a.floor[cases], R - partner_hours)
    top = np.maximum(R - partner_hours, F)
    edges = np.clip(a.band_top[:, None] * R[None, :] - partner_hours[None, :], F[None, :], top[None, :])
    ends = np.vstack([F[None, :], edges])
    start = np.vstack([np.zeros((1, len(cases))), ends[:-1]])
    return start, np.maximum(ends - start, 0.0)


def segment_worth(weights: UnmetBands) -> np.ndarray:
    """What an hour in each segment of :func:`hour_segments` saves: ``mu_0 w_c + pi_s``, then ``mu_k w_c``
    ((K + 1) x n)."""
    return np.vstack([weights.floor[None, :], weights.need])


def segments(
    a: PduArrays, cases: np.ndarray, pair: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A case's practitioner hours as K + 1 segments (:func:`hour_segments`), each with its value per hour.

    An hour's value is what it saves (:func:`segment_worth`) net of its cost at that practitioner
    (:func:`pair_hour_cost`). Returns (start, length, value), each of shape (3, len(cases)); values fall along
    a case's segments.
    """
    start, length = hour_segments(a, cases, partner_hours)
    value = segment_worth(unmet_weights(a).take(cases)) - pair_hour_cost(a, pair)
    return start, length, value
