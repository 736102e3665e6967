"""The events of one replication: which cases arrive and end in which week, which practitioners join, leave
and are absent. Drawn once per replication from its own seed, before any policy runs, so every policy meets
the same events (common random numbers).

Units: weeks from the start (week 0 is the scenario as loaded); lengths in months are turned into weeks at
52 / 12 weeks a month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload.load import Scenario
from workload.params import Parameters

WEEKS_PER_MONTH = 52.0 / 12.0
NEVER = np.iinfo(np.int32).max
"""A week beyond any horizon: the case does not end, or the practitioner does not leave, within the run."""


@dataclass
class Events:
    """Everything that happens in one replication, whatever the allocation policy.

    ``cases`` holds every case seen in the run (the starting caseload, then the arrivals), typed like the
    scenario's case table, with ``current_practitioner_id`` as at week 0 (arrivals have none). ``staff`` holds
    every practitioner (the starting team, then replacements).
    """

    cases: pd.DataFrame
    arrive_week: np.ndarray
    """Week each case joins the caseload (0 for the starting caseload)."""
    end_week: np.ndarray
    """Week each case's order or licence has ended by (it is off the caseload from that week on)."""
    release_week: np.ndarray
    """Week a custody case is released and becomes a licence case (NEVER when not custody, or not in the run)."""
    months_at_arrival: np.ndarray
    """Months on order at arrival (the scenario's months_on_order for the starting caseload, 0 for arrivals)."""
    staff: pd.DataFrame
    join_week: np.ndarray
    leave_week: np.ndarray
    absent: np.ndarray
    """Bool (weeks x practitioners): absent that week (a spell of long absence)."""
    weeks: int

    def active_cases(self, week: int) -> np.ndarray:
        """Bool per case: on the caseload in ``week``."""
        return (self.arrive_week <= week) & (self.end_week > week)

    def active_staff(self, week: int) -> np.ndarray:
        """Bool per practitioner: in post in ``week`` (absent or not)."""
        return (self.join_week <= week) & (self.leave_week > week)


def mean_length_weeks(case_type: np.ndarray, params: Parameters) -> np.ndarray:
    """Mean length of each case type's current stage, in weeks (simulate.length_months x 52 / 12): a custody
    case's is its time to release."""
    months = params.table("simulate.length_months")
    return pd.Series(case_type).map({k: float(v) for k, v in months.items()}).to_numpy(dtype=float) * WEEKS_PER_MONTH


def mean_supervision_weeks(case_type: np.ndarray, params: Parameters) -> np.ndarray:
    """Mean weeks a new case of each type stays on the caseload: a custody case's time to release and then its
    licence."""
    licence = mean_length_weeks(np.full(len(case_type), "licence"), params)
    return mean_length_weeks(case_type, params) + np.where(case_type == "custody", licence, 0.0)


def _lengths(rng: np.random.Generator, mean_weeks: np.ndarray, shape: float) -> np.ndarray:
    """Gamma lengths in weeks with the given means and shape."""
    return rng.gamma(shape, mean_weeks / shape)


def _remaining(rng: np.random.Generator, mean_weeks: np.ndarray, served: np.ndarray, shape: float) -> np.ndarray:
    """Weeks left for cases already ``served`` weeks in: a length drawn until it exceeds the time served (up
    to eight tries); cases whose draws never do end within a month (they are near their end)."""
    left = np.full(len(served), np.nan)
    for _ in range(8):  # eight vectorised tries, not a loop over cases
        todo = np.isnan(left)
        if not todo.any():
            break
        draw = _lengths(rng, mean_weeks[todo], shape) - served[todo]
        left[np.flatnonzero(todo)[draw > 0]] = draw[draw > 0]
    todo = np.isnan(left)
    left[todo] = rng.uniform(0.0, WEEKS_PER_MONTH, int(todo.sum()))
    return left


def default_arrivals(scenario: Scenario) -> float:
    """New cases a week that keep the caseload steady: cases over the mean length of their orders in weeks."""
    n = len(scenario.cases)
    if not n:
        return 0.0
    mean = mean_supervision_weeks(scenario.cases["case_type"].astype(str).to_numpy(), scenario.params)
    return float(n / np.mean(mean))


def weekly_arrival_means(weeks: int, per_week: float, expected: list[float] | None) -> np.ndarray:
    """Mean arrivals of each week: the ``expected`` table repeated over weeks 1, 2, ..., else ``per_week`` each
    week; none in week 0, which is the scenario as loaded."""
    means = np.resize(np.asarray(expected, dtype=float), weeks) if expected else np.full(weeks, float(per_week))
    return np.concatenate([[0.0], means[: weeks - 1]])


def _arrivals(rng: np.random.Generator, scenario: Scenario, means: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The new cases of every week: a Poisson number each week, each a case drawn from the scenario's own case
    mix (its needs, risks and tier together), new to probation (0 months on order, no practitioner)."""
    counts = rng.poisson(means)
    total = int(counts.sum())
    pool = scenario.cases
    week = np.repeat(np.arange(len(means)), counts)
    if total == 0 or not len(pool):
        return pool.iloc[:0].copy(), week[:0]
    picks = rng.integers(0, len(pool), total)
    new = pool.iloc[picks].copy()
    new.index = pd.Index([f"N{w:03d}-{k:05d}" for w, k in zip(week, np.arange(total))], name=pool.index.name)
    new["months_on_order"] = 0.0
    new["current_practitioner_id"] = pd.array([pd.NA] * total, dtype=pool["current_practitioner_id"].dtype)
    return new, week


def _staff_events(
    rng: np.random.Generator, staff: pd.DataFrame, params: Parameters, weeks: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Leavers (a weekly hazard by grade), their replacements (same grade and hours, after a vacancy) and
    spells of absence. Replacements may themselves leave within the run; their replacements are not drawn
    (one generation: a second leaver in one post within a year is rare)."""
    rate = staff["grade"].astype(str).map(params.table("simulate.leaving_rate_per_year")).astype(float).to_numpy()
    weekly = 1.0 - (1.0 - np.clip(rate, 0.0, 1.0)) ** (1.0 / 52.0)
    leave = rng.geometric(np.maximum(weekly, 1e-12))
    leave = np.where(leave < weeks, leave, NEVER)
    vacancy = rng.exponential(float(params["simulate.vacancy_weeks"]), len(staff))
    start = leave + np.ceil(vacancy).astype(np.int64)
    replaced = (leave < NEVER) & (start < weeks)
    joiners = staff.iloc[np.flatnonzero(replaced)].copy()
    joiners.index = pd.Index([f"{p}-R" for p in joiners.index], name=staff.index.name)
    for column in ("standard_reports_30d", "fast_reports_30d"):
        if column in joiners:
            joiners[column] = 0
    all_staff = pd.concat([staff, joiners])
    join = np.concatenate([np.zeros(len(staff), dtype=np.int64), start[replaced]])
    j_rate = weekly[replaced]
    j_leave = start[replaced] + rng.geometric(np.maximum(j_rate, 1e-12))
    leave_all = np.concatenate([leave, np.where(j_leave < weeks, j_leave, NEVER)]).astype(np.int64)

    n = len(all_staff)
    absent = np.zeros((weeks, n), dtype=bool)
    starts = rng.random((weeks, n)) < float(params["simulate.absence_rate_per_year"]) / 52.0
    length = np.maximum(
        1, np.round(rng.exponential(float(params["simulate.absence_weeks"]), (weeks, n))).astype(np.int64)
    )
    w, p = np.nonzero(starts)
    if len(w):
        ends = np.minimum(w + length[w, p], weeks)
        # mark each spell's weeks: +1 at its start, -1 after its end, summed down the weeks
        marks = np.zeros((weeks + 1, n), dtype=np.int64)
        np.add.at(marks, (w, p), 1)
        np.add.at(marks, (ends, p), -1)
        absent = np.cumsum(marks, axis=0)[:weeks] > 0
    return all_staff, join, leave_all, absent


def draw_events(
    scenario: Scenario, weeks: int, seed: int, replication: int, per_week: float, expected: list[float] | None
) -> Events:
    """One replication's events, from the generator seeded by (``seed``, ``replication``): the same seed and
    replication give the same events whatever the policy."""
    rng = np.random.default_rng([int(seed), int(replication)])
    params = scenario.params
    shape = float(params["simulate.length_shape"])
    start = scenario.cases
    new, new_week = _arrivals(rng, scenario, weekly_arrival_means(weeks, per_week, expected))
    cases = pd.concat([start, new])
    n0 = len(start)
    case_type = cases["case_type"].astype(str).to_numpy()
    months = cases["months_on_order"].to_numpy(dtype=float).copy()
    arrive = np.concatenate([np.zeros(n0, dtype=np.int64), new_week]).astype(np.int64)
    mean = mean_length_weeks(case_type, params)
    served = months * WEEKS_PER_MONTH
    left = np.empty(len(cases))
    left[:n0] = _remaining(rng, mean[:n0], served[:n0], shape)
    left[n0:] = _lengths(rng, mean[n0:], shape)
    custody = case_type == "custody"
    licence_mean = mean_length_weeks(np.full(len(cases), "licence"), params)
    licence = _lengths(rng, licence_mean, shape)
    release = np.where(custody, arrive + np.ceil(left), NEVER)
    total = np.where(custody, left + licence, left)
    end = arrive + np.maximum(1, np.ceil(total)).astype(np.int64)
    release = np.where(release < weeks, release, NEVER).astype(np.int64)
    staff, join, leave, absent = _staff_events(rng, scenario.practitioners, params, weeks)
    return Events(cases, arrive, end.astype(np.int64), release, months, staff, join, leave, absent, weeks)
