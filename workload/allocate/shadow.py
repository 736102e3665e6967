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
from typing import Any

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


@dataclass(frozen=True)
class HourEffects:
    """Where one more hour of a row's bound goes, case by case: for entry i, one more hour on row ``row[i]``
    (a capacity or contract row, numbered within the model) changes case ``case[i]``'s practitioner plus
    partner hours by ``hours[i]`` (sparse; rows with spare hours have no entries)."""

    row: np.ndarray
    case: np.ndarray
    hours: np.ndarray


def hour_effects(highs: Any, model: Model, active: np.ndarray, rows: np.ndarray) -> HourEffects:
    """The optimal basis's response to one more hour on each of ``rows``: ``B^-1 e_r``, scaled so the row's
    activity rises by one hour, read off the basic pair and partner columns as hours per case.

    ``highs`` holds the optimal LP of ``model`` restricted to the ``active`` columns (HiGHS column j is the
    model's column ``active[j]``). A row whose logical variable is basic (spare capacity) moves nothing. This
    is the marginal direction of the basis the duals come from: exact for a small change where the LP is not
    degenerate (tests/allocate/test_shadow.py holds it to finite differences).
    """
    a = model.arrays
    _, basic = highs.getBasicVariables()
    basic = np.asarray(basic, dtype=np.int64)
    structural = np.flatnonzero(basic >= 0)
    columns = active[basic[structural]]
    y, z = model.blocks["y"], model.blocks["z"]
    position = np.full(model.n_cols, -1, dtype=np.int64)
    position[columns] = np.arange(len(columns))
    is_y = (columns >= y.start) & (columns < y.stop)
    is_z = (columns >= z.start) & (columns < z.stop)
    case_of = np.full(len(columns), -1, dtype=np.int64)
    case_of[is_y] = a.pair_case[columns[is_y] - y.start]
    case_of[is_z] = a.link_case[columns[is_z] - z.start]
    gives = case_of >= 0
    out_row, out_case, out_hours = [], [], []
    for r in rows.tolist():
        _, direction = highs.getBasisInverseCol(int(r))
        change = np.asarray(direction, dtype=float)[structural]
        entries = slice(model.start[r], model.start[r + 1])
        at = position[model.index[entries]]
        found = at >= 0
        activity = float(np.dot(model.value[entries][found], change[at[found]]))
        if abs(activity) < 1e-9:
            continue
        per_case = np.bincount(case_of[gives], weights=change[gives] / activity, minlength=a.n_cases)
        moved = np.flatnonzero(np.abs(per_case) > 1e-9)
        out_row.append(np.full(len(moved), r, dtype=np.int64))
        out_case.append(moved)
        out_hours.append(per_case[moved])
    if not out_row:
        return HourEffects(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    return HourEffects(np.concatenate(out_row), np.concatenate(out_case), np.concatenate(out_hours))
