"""The weekly step, and one replication as 52 of them for each policy.

Each week, for each policy: cases whose order or licence has ended leave; cases whose practitioner has left
lose them (a move, and their relationship restarts); the week's arrivals join without a practitioner; custody
cases released become licence cases; every case's needs are scored again with its time with its current
practitioner as ``months_on_order`` (the relationship-building hours fall away as that time grows and come
back when a case moves); the policy places the cases without a practitioner and says what hours each case
gets; then the week's measures are taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workload.disclosure import is_small
from workload.load import Scenario
from workload.pipeline import score_cases
from workload.scoring import wmt
from workload.simulate import measures
from workload.simulate.events import WEEKS_PER_MONTH, Events, draw_events
from workload.simulate.policies import POLICIES, PolicyOptions, week_scenario


@dataclass(frozen=True)
class Settings:
    """What one simulation runs: the resolved ``[simulate]`` table with the command line's overrides."""

    weeks: int
    replications: int
    seed: int
    policies: tuple[str, ...]
    lp_continuity: str
    arrivals_per_week: float
    expected_arrivals: tuple[float, ...] | None
    workers: int | None = None
    scheduler: str | None = None
    lp_replan_weeks: int = 4


@dataclass
class PolicyState:
    """One policy's state carried from week to week: who holds each case of the run (position in
    ``events.staff``, -1 none), since when (week; negative for the starting caseload, held since their order
    began), and each practitioner's run of weeks above the red line."""

    holder: np.ndarray
    since: np.ndarray
    runs: np.ndarray
    memory: dict = field(default_factory=dict)
    """What a policy keeps from week to week (the lp policy's last plan)."""


def start_state(events: Events) -> PolicyState:
    """Week 0's holders: the scenario's current practitioners, held since each order began."""
    current = events.cases["current_practitioner_id"]
    holder = events.staff.index.get_indexer(current.where(current.notna(), None)).astype(np.int64)
    since = np.where(holder >= 0, -events.months_at_arrival * WEEKS_PER_MONTH, 0.0)
    return PolicyState(holder, since, np.zeros(len(events.staff), dtype=np.int64))


def week_staff(events: Events, week: int, in_post: np.ndarray, keep: float) -> tuple[pd.DataFrame, np.ndarray]:
    """The team in post this week; an absent practitioner's case hours fall to simulate.absence_hours_per_week."""
    staff = events.staff.iloc[np.flatnonzero(in_post)].copy()
    absent = events.absent[week][in_post]
    if absent.any():
        contracted = staff["contracted_hours_per_week"].to_numpy(dtype=float)
        reduction = staff["reduction_hours_per_week"].to_numpy(dtype=float)
        staff["reduction_hours_per_week"] = np.where(absent, np.maximum(contracted - keep, reduction), reduction)
    return staff, absent


def step(
    scenario: Scenario,
    events: Events,
    state: PolicyState,
    policy: str,
    week: int,
    continuity: str,
    replan_weeks: int = 1,
) -> dict:
    """One policy's week (see the module docstring): the state moves on and the week's measures come back."""
    params = scenario.params
    active = events.active_cases(week)
    in_post = events.active_staff(week)
    staff_ids = events.staff.index.to_numpy(dtype=object)
    left = active & (state.holder >= 0) & ~in_post[np.maximum(state.holder, 0)]
    state.holder[left] = -1
    rows = np.flatnonzero(active)
    holder = state.holder[rows]
    cases = events.cases.iloc[rows].copy()
    order_months = events.months_at_arrival[rows] + (week - events.arrive_week[rows]) / WEEKS_PER_MONTH
    with_them = np.where(holder >= 0, (week - state.since[rows]) / WEEKS_PER_MONTH, 0.0)
    cases["months_on_order"] = np.round(np.maximum(with_them, 0.0), 3)
    released = events.release_week[rows] <= week
    if released.any():
        case_type = cases["case_type"].astype(object).to_numpy()
        cases["case_type"] = pd.array(np.where(released, "licence", case_type), dtype=cases["case_type"].dtype)
    cases["current_practitioner_id"] = pd.array(
        np.where(holder >= 0, staff_ids[np.maximum(holder, 0)], None), dtype=cases["current_practitioner_id"].dtype
    )
    staff, absent = week_staff(events, week, in_post, float(params["simulate.absence_hours_per_week"]))
    sub = week_scenario(scenario, cases, staff)
    scores = score_cases(sub)
    placed = POLICIES[policy](sub, scores, PolicyOptions(week, continuity, replan_weeks), state.memory)

    new_holder = events.staff.index.get_indexer(placed.holder.where(placed.holder.notna(), None)).astype(np.int64)
    changed = new_holder != holder
    state.since[rows[changed]] = week
    state.holder[rows] = new_holder

    points = scores["wmt_points"]
    team = wmt.practitioner_workload(staff, points, placed.holder, params)
    present = ~absent & (team["available_points"].to_numpy() > 0)
    red_line = float(params["wmt.red_pct"])
    ratio = wmt.capacity_pct_unrounded(team["wmt_points"].to_numpy(), team["available_points"].to_numpy())
    red = present & (ratio > red_line)
    everyone_red = np.zeros(len(events.staff), dtype=bool)
    everyone_red[np.flatnonzero(in_post)] = red
    state.runs = measures.red_runs(state.runs, everyone_red)

    need = scores["assessed_need_hours"]
    given = (placed.afforded + placed.partner).to_numpy(dtype=float)
    by_group = measures.groups(cases, order_months, params)
    threshold = scenario.spec.output.suppression_threshold
    out: dict = {
        "cases": float(len(rows)),
        "arrivals": float(((events.arrive_week == week) & (week > 0)).sum()),
        "endings": float((events.end_week == week).sum()),
        "unplaced": float((new_holder < 0).sum()),
        "practitioners": float(in_post.sum()),
        "absent": float(absent.sum()),
    }
    out |= measures.workload_measures(team["workload_pct"].to_numpy(dtype=float)[present], red, state.runs)
    out |= measures.coverage_measures(need.to_numpy(dtype=float), given, by_group, threshold)
    out["moved_by_policy"] = measures.count_measure(float(placed.moved.sum()), threshold)
    out["moved_after_leaver"] = measures.count_measure(float(left.sum()), threshold)
    out |= measures.cost_measures(
        cases, need, placed.afforded, placed.partner, placed.partner_cost, placed.holder, staff["grade"], params
    )
    if is_small(int((placed.partner.to_numpy(dtype=float) > 0).sum()), threshold):
        out["partner_hours_week"] = float("nan")  # the partner hours of fewer cases than the threshold
    return out


def run_replication(scenario: Scenario, settings: Settings, replication: int) -> pd.DataFrame:
    """One replication: its events drawn once, then every policy week by week on them (common random numbers).
    Returns the tidy weekly rows (replication, policy, week, then :data:`measures.MEASURES`)."""
    events = draw_events(
        scenario,
        settings.weeks,
        settings.seed,
        replication,
        settings.arrivals_per_week,
        list(settings.expected_arrivals) if settings.expected_arrivals else None,
    )
    rows = []
    for policy in settings.policies:
        state = start_state(events)
        for week in range(settings.weeks):
            row = step(scenario, events, state, policy, week, settings.lp_continuity, settings.lp_replan_weeks)
            rows.append({"replication": replication, "policy": policy, "week": week, **row})
    frame = pd.DataFrame(rows)
    return frame[["replication", "policy", "week", *measures.MEASURES]]


__all__ = ["PolicyState", "Settings", "run_replication", "start_state", "step"]
