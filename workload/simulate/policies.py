"""The allocation policies a simulation compares, one function each, registered by name.

Each places one week's cases without a practitioner (new, or left by a leaver) into the week's caseloads and
says how many hours each case then gets:

- ``wmt_list``: today. Manage a Workforce's choose-practitioner list, lowest workload % first
  (:func:`workload.allocate.baseline.allocate_baseline`, the rule in ``wmt.baseline_allocation.rule``); demand is
  the tier's WMT hours, rationed within each caseload as the run's ``wmt_today`` cell does
  (:func:`workload.outcomes.today_hours`);
- ``need_aware``: the allocation day's shortlist criterion without the LP: each new case, in the baseline's
  queue order, goes to the practitioner who may hold it with most hours free after it (capacity less the
  needs model's hours of the cases they hold, ``hours_free_after`` of ``workload allocate``); demand is the
  needs model's hours, rationed as the run's ``needs_today`` cell does;
- ``lp``: the LP allocator (:func:`workload.allocate.lp.allocate_lp`) with ``continuity`` keep (only cases
  without a practitioner are placed; hours shared across each whole caseload by need) or rebalance; its own
  hours and partner referrals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload import outcomes
from workload.allocate import baseline, lp
from workload.allocate.continuity import _specialist, eligible_pairs
from workload.load import Scenario
from workload.pipeline import lp_cases


@dataclass
class Placement:
    """One policy's week: who holds each case and the hours it gets (indexed like the week's cases)."""

    holder: pd.Series
    afforded: pd.Series
    partner: pd.Series
    partner_cost: pd.Series
    moved: pd.Series
    """Held cases the policy moved to another practitioner this week (only ``lp`` with rebalance moves any)."""


def _today_placement(week: Scenario, scores: pd.DataFrame, holder: pd.Series, demand: pd.Series) -> Placement:
    capacity = lp.capacity_hours(week.practitioners, week.params)
    need = scores["assessed_need_hours"]
    afforded = outcomes.today_hours(demand, holder, capacity, need, week.params)
    zero = pd.Series(0.0, index=holder.index)
    return Placement(holder, afforded, zero, zero, pd.Series(False, index=holder.index))


def place_wmt_list(week: Scenario, scores: pd.DataFrame, continuity: str) -> Placement:
    """Today's rule: the choose-practitioner list (see the module docstring)."""
    holder = baseline.allocate_baseline(week.cases, week.practitioners, week.params)
    return _today_placement(week, scores, holder, scores["wmt_hours"])


def place_need_aware(week: Scenario, scores: pd.DataFrame, continuity: str) -> Placement:
    """Most hours free after the case (see the module docstring); a woman's case prefers the women's pool when
    the policy has one. A loop over the week's new cases only (a few dozen), arrays over practitioners."""
    cases, staff, params = week.cases, week.practitioners.copy(), week.params
    staff["capacity_hours"] = lp.capacity_hours(staff, params)
    required = scores["required_hours"].to_numpy(dtype=float)
    current = cases["current_practitioner_id"]
    position = staff.index.get_indexer(current.where(current.notna(), None))
    held = position >= 0
    free = staff["capacity_hours"].to_numpy(dtype=float) - np.bincount(
        position[held], weights=required[held], minlength=len(staff)
    )
    new = np.flatnonzero(~held)
    holder = current.astype(object).where(current.notna(), None)
    if len(new) and len(staff):
        mine = cases.iloc[new]
        eligible = eligible_pairs(mine, staff, params, week.spec.policy)
        prefer = np.zeros(eligible.shape, dtype=bool)
        if week.spec.policy.women_specialist_pool != "off":
            prefer = (mine["sex"].astype(str) == "female").to_numpy()[:, None] & _specialist(staff)[None, :]
        queue = np.lexsort((mine.index.to_numpy(dtype=object).astype(str), baseline.allocation_rank(mine, params)))
        ids = staff.index.to_numpy(dtype=object)
        chosen = np.full(len(new), -1)
        for k in queue:  # the week's new cases in queue order; each choice changes the next one's
            if not eligible[k].any():
                continue
            after = free - required[new[k]]
            score = np.where(eligible[k], after + np.where(prefer[k], 1e9, 0.0), -np.inf)
            p = int(np.argmax(score))
            chosen[k] = p
            free[p] -= required[new[k]]
        placed = chosen >= 0
        values = holder.to_numpy(dtype=object).copy()
        values[new[placed]] = ids[chosen[placed]]
        holder = pd.Series(values, index=cases.index, dtype=object)
    return _today_placement(week, scores, holder, scores["required_hours"])


def place_lp(week: Scenario, scores: pd.DataFrame, continuity: str) -> Placement:
    """The LP allocator with ``continuity`` keep or rebalance (see the module docstring)."""
    policy = week.spec.policy.model_copy(update={"continuity": continuity, "workers": 1})
    frame = lp_cases(week, scores, "needs")
    allocation = lp.allocate_lp(frame, week.practitioners, week.partners, week.params, policy, workers=1)
    out = allocation.cases.reindex(week.cases.index)
    price = week.partners["price_per_hour"].astype(float) if len(week.partners) else pd.Series(dtype=float)
    partner = out["partner_hours"].astype(float).fillna(0.0)
    partner_cost = partner * out["partner_id"].map(price).astype(float).fillna(0.0)
    held = week.cases["current_practitioner_id"].notna()
    moved = out["moved"].astype(bool) & held
    holder = out["practitioner_id"].astype(object)
    return Placement(holder, out["afforded_hours"].astype(float).fillna(0.0), partner, partner_cost, moved)


POLICIES: dict[str, Callable[[Scenario, pd.DataFrame, str], Placement]] = {
    "wmt_list": place_wmt_list,
    "need_aware": place_need_aware,
    "lp": place_lp,
}
"""Every policy by the name ``[simulate] policies`` and ``--policies`` use."""

POLICY_LABELS = {
    "wmt_list": "Today's list (lowest workload %)",
    "need_aware": "Need-aware (most hours free)",
    "lp": "LP allocator",
}


def week_scenario(scenario: Scenario, cases: pd.DataFrame, staff: pd.DataFrame) -> Scenario:
    """The scenario as it stands in one week: its caseload and team that week, everything else as loaded."""
    return dataclasses.replace(scenario, cases=cases, practitioners=staff)
