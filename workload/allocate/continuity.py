"""Eligibility and continuity: which practitioner may hold a case (grade, capacity, a hard women's pool) and
given who holds it today (``policy.continuity``), how many cases a PDU may move, what a move costs, and why
a case moved.

Under ``keep`` (the default) a case stays with its current practitioner when they can keep it; under
``rebalance`` cases may move within a budget, never those in their relationship-building window or with an
abuse or trauma history (unless the policy says so); under ``free`` any case may move. A move is priced whole:
``continuity_penalty`` plus the relationship-building hours it restarts at the case's weight
(docs/model.md, "Continuity").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from workload.allocate.baseline import highest_protect_level, protect_level
from workload.allocate.blocks import Layout, RowBlock, _one_row
from workload.params import Parameters
from workload.scenario import Policy

if TYPE_CHECKING:
    from workload.allocate.arrays import PduArrays, PduInput

WOMEN_SPECIALISM = "women"
"""The specialism that admits a practitioner to the women's specialist pool."""


def eligible_pairs(cases: pd.DataFrame, practitioners: pd.DataFrame, params: Parameters, policy: Policy) -> np.ndarray:
    """Which practitioner may hold which case: a boolean matrix, cases x practitioners (one PDU).

    A pair (c, p) is eligible when p has capacity (``capacity_hours > 0``), p's grade may hold c's protect
    level (``wmt.baseline_allocation.highest_protect_level``: no A or B tier for PSOs; the same rule as the
    baseline) and, under a *hard* women's specialist pool, a woman's case goes only to practitioners with the
    ``women`` specialism.
    """
    has_capacity = practitioners["capacity_hours"].to_numpy(dtype=float) > 0
    case_level = protect_level(cases).to_numpy()
    highest = highest_protect_level(practitioners, params).to_numpy()
    eligible = (case_level[:, None] >= highest[None, :]) & has_capacity[None, :]
    if policy.women_specialist_pool == "hard":
        female = (cases["sex"].astype(str) == "female").to_numpy()
        specialist = _specialist(practitioners)
        eligible &= ~female[:, None] | specialist[None, :]
    return eligible


def eligible_at(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    case_rows: np.ndarray,
    prac_cols: np.ndarray,
    params: Parameters,
    policy: Policy,
) -> np.ndarray:
    """:func:`eligible_pairs` at the pairs (``case_rows[i]``, ``prac_cols[i]``) only (positions in ``cases`` and
    ``practitioners``): the same rule, without the whole cases x practitioners matrix."""
    has_capacity = practitioners["capacity_hours"].to_numpy(dtype=float)[prac_cols] > 0
    picked = cases.iloc[case_rows]
    case_level = protect_level(picked).to_numpy()
    highest = highest_protect_level(practitioners, params).to_numpy()[prac_cols]
    eligible = (case_level >= highest) & has_capacity
    if policy.women_specialist_pool == "hard":
        female = (picked["sex"].astype(str) == "female").to_numpy()
        eligible &= ~female | _specialist(practitioners)[prac_cols]
    return np.asarray(eligible, dtype=bool)


def _as_tuple(value: object) -> tuple[str, ...]:
    """A list-like cell (tuple from the loader, or a ';'-joined string) as a tuple of strings."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(";") if v.strip())
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(str(v) for v in cast(Iterable[Any], value))


def _specialist(practitioners: pd.DataFrame) -> np.ndarray:
    return np.array([WOMEN_SPECIALISM in _as_tuple(s) for s in practitioners["specialisms"]], dtype=bool)


def current_positions(cases: pd.DataFrame, practitioners: pd.DataFrame) -> np.ndarray:
    """Each case's current practitioner as a row of ``practitioners`` (-1: none, or not in this PDU)."""
    current = cases["current_practitioner_id"]
    return pd.Index(practitioners.index).get_indexer(current.where(current.notna(), None))


def continuity_pairs(
    cases: pd.DataFrame, practitioners: pd.DataFrame, params: Parameters, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs the continuity rule allows (cases x practitioners) and the cases it keeps where they are.

    A case's current practitioner *can keep it* when they are in its PDU with case hours
    (``capacity_hours > 0``). Under ``policy.continuity``:

    - ``keep``: every case whose current practitioner can keep it stays (its only pair), even where today's
      grade rule would not give it to them (that is the service's decision, not the allocator's); the other
      cases may go to any eligible practitioner (:func:`eligible_pairs`);
    - ``rebalance``: cases in their relationship-building window or with an abuse or trauma history
      (``move_protected``) stay unless ``policy.move_protected``; the rest may stay or go to any eligible
      practitioner, within the move budget (:func:`move_budget`);
    - ``free``: any case may go to any eligible practitioner.
    """
    eligible = eligible_pairs(cases, practitioners, params, policy)
    rows = np.arange(len(cases))
    current = current_positions(cases, practitioners)
    can_keep = current >= 0
    can_keep[can_keep] = practitioners["capacity_hours"].to_numpy(dtype=float)[current[can_keep]] > 0
    if policy.continuity == "free":
        return eligible, np.zeros(len(cases), dtype=bool)
    if policy.continuity == "keep":
        kept = can_keep
    else:
        protected = cases["move_protected"].to_numpy(dtype=bool) & (not policy.move_protected)
        kept = can_keep & protected
        eligible[rows[can_keep], current[can_keep]] = True
    eligible[kept] = False
    eligible[rows[kept], current[kept]] = True
    return eligible, kept


def move_budget(held: int, policy: Policy) -> float | None:
    """Most cases a PDU may move: ``min(max_moves, floor(max_moves_share x held))`` under ``rebalance``
    (``held``: cases whose current practitioner could keep them), 0 under ``keep``, None (no limit) under
    ``free``."""
    if policy.continuity == "free":
        return None
    if policy.continuity == "keep":
        return 0.0
    budget = float(np.floor(policy.max_moves_share * held + 1e-9))
    if policy.max_moves is not None:
        budget = min(budget, float(policy.max_moves))
    return budget


def define_move_budget(a: PduArrays, lay: Layout) -> RowBlock:
    """The move budget (``rebalance``): at most M cases leave their current practitioner.

    ``sum_c m_c <= M`` over the cases that may move (m_c the moved share,
    :mod:`workload.allocate.perspective`; rounding then keeps the count within M).
    """
    assert a.move_budget is not None
    n = lay.sizes["m"]
    return _one_row("move_budget", lay.cols("m", np.arange(n)), np.ones(n), a.move_budget, a.pdu)


MOVE_REASONS: dict[str, str] = {
    "left": "the current practitioner is not in this PDU's staff list (left, or moved elsewhere)",
    "no_hours": "the current practitioner has no case hours (capacity 0)",
    "grade": "the current practitioner's grade may not hold the case's tier (no A or B tier for PSOs)",
    "pool": "the current practitioner is not in the hard women's specialist pool",
    "rebalance": "moved to share hours by need (continuity = rebalance, within the PDU's move budget)",
    "free": "moved to share hours by need (continuity = free)",
    "unplaced": "no practitioner may hold the case (see the warnings)",
}
"""Why a case left its current practitioner, in words a team manager can read (allocations.csv move_reason)."""


def move_reasons(
    inp: PduInput, practitioner: np.ndarray, params: Parameters, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    """Which of the PDU's cases moved (had a current practitioner and now have another, or none) and why."""
    cases, practs = inp.cases, inp.practitioners
    current_id = cases["current_practitioner_id"].to_numpy(dtype=object)
    has_current = pd.notna(current_id)
    moved = has_current & (practitioner != current_id)
    reason = np.full(len(cases), None, dtype=object)
    if not moved.any():
        return moved, reason
    position = current_positions(cases, practs)
    rows = np.arange(len(cases))
    grade_ok = np.zeros(len(cases), dtype=bool)
    pool_ok = np.ones(len(cases), dtype=bool)
    here = position >= 0
    if here.any():
        at = rows[here], position[here]
        grade_ok[here] = eligible_at(
            cases, practs, *at, params, policy.model_copy(update={"women_specialist_pool": "off"})
        )
        pool_ok[here] = eligible_at(cases, practs, *at, params, policy) | ~grade_ok[here]
    capacity = np.r_[practs["capacity_hours"].to_numpy(dtype=float), 0.0]  # position -1 reads the 0 at the end
    hours_ok = here & (capacity[position] > 0)
    choice = MOVE_REASONS["free"] if policy.continuity == "free" else MOVE_REASONS["rebalance"]
    conditions = [~has_current, pd.isna(practitioner), ~here, ~hours_ok, ~grade_ok, ~pool_ok]
    texts = [None, MOVE_REASONS["unplaced"], MOVE_REASONS["left"], MOVE_REASONS["no_hours"]]
    texts += [MOVE_REASONS["grade"], MOVE_REASONS["pool"]]
    reason = np.full(len(cases), choice, dtype=object)
    for condition, text in zip(conditions[::-1], texts[::-1]):
        reason[condition] = text  # the first condition that holds wins: set in reverse
    reason[~moved] = None
    return moved, reason
