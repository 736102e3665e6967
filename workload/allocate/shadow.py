"""Shadow prices: what one more hour of a practitioner's capacity, or of a partner's contract, is worth.

At the LP's optimum each capacity row ``sum_c y[c,p] - o_p <= K_p`` and each contract row
``sum_c z[c,k] <= H_k`` has a dual: the rate at which the optimal objective (weighted unmet hours, plus the
weighted staff and partner cost) falls as K_p or H_k rises. HiGHS reports ``d objective / d bound``, which is
<= 0 on a binding ``<=`` row of a minimisation, so the value of one more hour is its negation (>= 0; 0 for a
practitioner with spare hours). Likewise the dual of case c's hours row ``sum y + sum z + sum u + s = R_c``
is the value of one hour given to case c from outside the PDU's practitioners (from a new practitioner, say).

The duals are read from the relaxation the rounding starts from (:func:`workload.allocate.solvers.solve_highs`):
with pricing, its last restricted LP leaves out only pairs with a non-negative reduced cost, so its duals are
those of the full LP. They are marginal: exact for a small change, and a bound when the LP is degenerate (the
one-sided differences of a finite change then bracket them; tests/test_shadow.py checks both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workload.allocate.model import Model


@dataclass(frozen=True)
class ShadowPrices:
    """The value of one more hour, in the objective's weighted hours, from one PDU's LP duals.

    ``practitioner[p]``: one more hour of p's capacity; ``partner[k]``: one more hour of partner k's
    contract for this PDU; ``case[c]``: one hour given to case c from outside (the case's hours-row dual).
    """

    practitioner: np.ndarray
    partner: np.ndarray
    case: np.ndarray


def shadow_prices(model: Model, row_dual: np.ndarray) -> ShadowPrices:
    """The model's shadow prices from its row duals (HiGHS's sign; see the module docstring).

    Values within 1e-9 of zero become 0, so a practitioner with spare hours shows exactly 0.
    """
    a = model.arrays

    def value(family: str, size: int, sign: float) -> np.ndarray:
        rows = model.families.get(family)
        if rows is None:
            return np.zeros(size)
        out = sign * np.asarray(row_dual[rows], dtype=float)
        return np.where(np.abs(out) > 1e-9, out, 0.0)

    return ShadowPrices(
        practitioner=value("capacity", a.n_practitioners, -1.0),
        partner=value("contract", len(a.partner_ids), -1.0),
        case=value("hours", a.n_cases, 1.0),
    )
