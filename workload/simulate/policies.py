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
  hours and partner referrals. The full LP re-plans every caseload's hours every ``replan_weeks`` weeks; in
  the weeks between, a small LP places the new and orphaned cases in the hours freed since (:func:`place_lp`).
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


@dataclass(frozen=True)
class PolicyOptions:
    """What a policy is told besides the week's scenario: the week, the lp policy's continuity rule and how
    often it re-plans every caseload's hours."""

    week: int
    continuity: str = "keep"
    replan_weeks: int = 1


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


def place_wmt_list(week: Scenario, scores: pd.DataFrame, options: PolicyOptions, memory: dict) -> Placement:
    """Today's rule: the choose-practitioner list (see the module docstring)."""
    holder = baseline.allocate_baseline(week.cases, week.practitioners, week.params)
    return _today_placement(week, scores, holder, scores["wmt_hours"])


def place_need_aware(week: Scenario, scores: pd.DataFrame, options: PolicyOptions, memory: dict) -> Placement:
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


def place_lp(week: Scenario, scores: pd.DataFrame, options: PolicyOptions, memory: dict) -> Placement:
    """The LP allocator (see the module docstring). Every ``options.replan_weeks`` weeks (and in the first) the
    full LP re-plans every caseload's hours with ``options.continuity``; in the weeks between, continuing cases
    keep their planned hours and a small LP places only the cases without a practitioner, in the hours each
    practitioner has had freed since (capacity less the planned hours of the cases they still hold), without
    partners (referrals are made at the re-plans, whose partner hours are already committed)."""
    plan = memory.get("lp_plan")
    if plan is None or options.week % options.replan_weeks == 0:
        placed = _lp_full(week, scores, options.continuity)
    else:
        placed = _lp_new_cases(week, scores, plan)
    memory["lp_plan"] = pd.DataFrame(
        {
            "holder": placed.holder,
            "afforded": placed.afforded,
            "partner": placed.partner,
            "partner_cost": placed.partner_cost,
        }
    )
    return placed


def _lp_full(week: Scenario, scores: pd.DataFrame, continuity: str) -> Placement:
    """The whole PDU solved by the LP allocator (held cases kept under keep; hours shared across caseloads)."""
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


def with_capacity(staff: pd.DataFrame, hours: np.ndarray, params) -> pd.DataFrame:
    """The team with each practitioner's reduction hours set so that their capacity is ``hours`` a year
    (:func:`workload.allocate.lp.capacity_hours` inverted; grades that hold no cases keep none)."""
    share = staff["grade"].map(params.table("allocation.capacity.grade_share")).astype(float).to_numpy()
    per_week = float(params["allocation.capacity.fte_hours_per_week"]) / float(
        params["allocation.capacity.productive_hours_per_fte_year"]
    )
    contracted = staff["contracted_hours_per_week"].to_numpy(dtype=float)
    weekly = np.divide(hours * per_week, share, out=np.zeros(len(staff)), where=share > 0)
    out = staff.copy()
    out["reduction_hours_per_week"] = np.clip(contracted - weekly, 0.0, contracted)
    return out


def _lp_new_cases(week: Scenario, scores: pd.DataFrame, plan: pd.DataFrame) -> Placement:
    """A week between re-plans: planned hours kept (scaled down in proportion where a practitioner's capacity
    has fallen below them since, as in an absence), the new and orphaned cases placed by a small LP."""
    cases, staff, params = week.cases, week.practitioners, week.params
    current = cases["current_practitioner_id"]
    planned = plan.reindex(cases.index)
    kept = current.notna().to_numpy() & (
        planned["holder"].astype(object).to_numpy() == current.astype(object).to_numpy()
    )
    afforded = planned["afforded"].where(kept, 0.0).astype(float)
    partner = planned["partner"].where(kept, 0.0).astype(float)
    partner_cost = planned["partner_cost"].where(kept, 0.0).astype(float)
    holder = current.astype(object).where(current.notna(), None)
    position = staff.index.get_indexer(holder.where(pd.Series(kept, index=cases.index), None))
    capacity = lp.capacity_hours(staff, params).to_numpy(dtype=float)
    on = position >= 0
    used = np.bincount(position[on], weights=afforded.to_numpy()[on], minlength=len(staff))
    # a practitioner whose capacity fell since the plan (an absence) gives every kept case the same share less
    scale = np.minimum(1.0, np.divide(capacity, used, out=np.ones(len(staff)), where=used > 0))
    factor = np.ones(len(cases))
    factor[on] = scale[position[on]]
    afforded = afforded * factor
    used = used * scale
    # a practitioner with case hours stays eligible however little is free (the LP then rations it)
    free = np.where(capacity > 0, np.maximum(capacity - used, 1.0), 0.0)
    new = current.isna().to_numpy()
    if new.any():
        sub = week_scenario(week, cases.loc[new], with_capacity(staff, free, params))
        policy = week.spec.policy.model_copy(update={"continuity": "keep", "workers": 1, "use_partners": False})
        frame = lp_cases(sub, scores.loc[new], "needs")
        allocation = lp.allocate_lp(frame, sub.practitioners, None, params, policy, workers=1)
        out = allocation.cases.reindex(cases.index[new])
        holder = holder.copy()
        holder[new] = out["practitioner_id"].astype(object).to_numpy()
        afforded[new] = out["afforded_hours"].astype(float).fillna(0.0).to_numpy()
    moved = pd.Series(False, index=cases.index)
    return Placement(holder, afforded, partner, partner_cost, moved)


POLICIES: dict[str, Callable[[Scenario, pd.DataFrame, PolicyOptions, dict], Placement]] = {
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
