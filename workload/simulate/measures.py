"""The measures of a simulated week: workload % and the WMT's "above 110% for four consecutive weeks",
coverage of assessed need overall and by group, moves, unmet need and whole-life cost.

Coverage is the share of assessed need met, ``sum min(afforded + partner, need) / sum need``, as the run's
``coverage``. Hours and costs are annual rates at that week's allocation divided by 52: a week's share, so 52
weeks sum to a year. A group's figures are blank in a week it has fewer cases than the small-numbers threshold
(:func:`workload.disclosure.is_small`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workload import outcomes
from workload.disclosure import is_small
from workload.params import Parameters

CONSECUTIVE_WEEKS = 4
"""The WMT's "excessive workload": above the red line for four consecutive weeks (docs/sources.md#pq-wmt-excessive-2021)."""

GROUPS: tuple[str, ...] = ("women", "low_risk_complex", "abuse_women_early")
"""The groups followed by name: women; the research's "low risk, complex needs" group; women with a history of
domestic abuse or sexual violence in their first simulate.abuse_window_months of an order."""

MEASURES: tuple[str, ...] = (
    "cases",
    "arrivals",
    "endings",
    "unplaced",
    "practitioners",
    "absent",
    "workload_pct_p10",
    "workload_pct_median",
    "workload_pct_p90",
    "workload_pct_max",
    "above_red",
    "above_red_4_weeks",
    "coverage",
    *(f"coverage_{g}" for g in GROUPS),
    *(f"cases_{g}" for g in GROUPS),
    "moved_by_policy",
    "moved_after_leaver",
    "required_hours_week",
    "unmet_hours_week",
    "partner_hours_week",
    "staff_cost_week",
    "whole_life_cost_week",
)
"""The columns of weekly.csv after replication, policy and week, in order."""


def red_runs(previous: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Consecutive weeks above the red line, per practitioner, after this week: one more where red now, else 0."""
    return np.where(red, previous + 1, 0)


def consecutive_runs(red: np.ndarray) -> np.ndarray:
    """Consecutive weeks above the red line ending at each week (weeks x practitioners), from a bool array."""
    runs = np.zeros(red.shape, dtype=np.int64)
    last = np.zeros(red.shape[1], dtype=np.int64)
    for w in range(red.shape[0]):  # a loop over weeks; arrays over practitioners
        last = red_runs(last, red[w])
        runs[w] = last
    return runs


def groups(cases: pd.DataFrame, order_months: np.ndarray, params: Parameters) -> dict[str, np.ndarray]:
    """Bool per case for each of :data:`GROUPS`."""
    female = (cases["sex"].astype(str) == "female").to_numpy()
    abuse = (cases["domestic_abuse_victim"].to_numpy() > 0) | (cases["sexual_violence_victim"].to_numpy() > 0)
    early = order_months < float(params["simulate.abuse_window_months"])
    return {
        "women": female,
        "low_risk_complex": outcomes.low_risk_complex(cases, params).to_numpy(dtype=bool),
        "abuse_women_early": female & abuse & early,
    }


def _share_met(met: np.ndarray, need: np.ndarray, mask: np.ndarray, threshold: int) -> float:
    count = int(mask.sum())
    total = float(need[mask].sum())
    if is_small(count, threshold) or total <= 0:
        return float("nan")
    return float(met[mask].sum() / total)


def coverage_measures(
    need: np.ndarray, given: np.ndarray, by_group: dict[str, np.ndarray], threshold: int
) -> dict[str, float]:
    """Coverage overall and by group, and each group's cases (blank when small)."""
    met = np.minimum(given, need)
    out = {"coverage": _share_met(met, need, np.ones(len(need), dtype=bool), threshold)}
    for name, mask in by_group.items():
        out[f"coverage_{name}"] = _share_met(met, need, mask, threshold)
        count = int(mask.sum())
        out[f"cases_{name}"] = float("nan") if is_small(count, threshold) else float(count)
    return out


def workload_measures(pct: np.ndarray, red: np.ndarray, runs: np.ndarray) -> dict[str, float]:
    """Workload % of the practitioners present (10th, 50th, 90th percentile and highest), how many are above
    the red line this week, and how many have been for :data:`CONSECUTIVE_WEEKS` or more."""
    if not len(pct):
        nan = float("nan")
        return dict.fromkeys(
            ("workload_pct_p10", "workload_pct_median", "workload_pct_p90", "workload_pct_max"), nan
        ) | {
            "above_red": 0.0,
            "above_red_4_weeks": float((runs >= CONSECUTIVE_WEEKS).sum()),
        }
    p10, p50, p90 = np.percentile(pct, [10, 50, 90])
    return {
        "workload_pct_p10": float(p10),
        "workload_pct_median": float(p50),
        "workload_pct_p90": float(p90),
        "workload_pct_max": float(pct.max()),
        "above_red": float(red.sum()),
        "above_red_4_weeks": float((runs >= CONSECUTIVE_WEEKS).sum()),
    }


def count_measure(count: float, threshold: int) -> float:
    """A count of cases as a week's row may publish it: blank (NaN) when it is 1 to ``threshold`` - 1."""
    return float("nan") if bool(is_small(count, threshold)) else count


def cost_measures(
    cases: pd.DataFrame,
    need: pd.Series,
    afforded: pd.Series,
    partner: pd.Series,
    partner_cost: pd.Series,
    holder: pd.Series,
    grades: pd.Series,
    params: Parameters,
) -> dict[str, float]:
    """A week's share of required, unmet and partner hours, staff cost and whole-life cost, through the run's
    own functions (:func:`workload.outcomes.case_outcomes`, :func:`~workload.outcomes.staff_cost`,
    :func:`~workload.outcomes.whole_life_costs`)."""
    cell = outcomes.CellResult(afforded, partner, holder, pd.Series(False, index=need.index))
    frame = outcomes.case_outcomes(need, cell)
    staff = outcomes.staff_cost(afforded, holder, grades, params)
    costs = outcomes.whole_life_costs(cases, frame, staff, partner_cost, outcomes.cost_values(params))
    return {
        "required_hours_week": float(need.sum()) / 52.0,
        "unmet_hours_week": float(frame["unmet_hours"].sum()) / 52.0,
        "partner_hours_week": float(partner.sum()) / 52.0,
        "staff_cost_week": float(costs["staff_cost"].sum()) / 52.0,
        "whole_life_cost_week": float(costs["whole_life_cost"].sum()) / 52.0,
    }


def bands(weekly: pd.DataFrame, measures: tuple[str, ...] = MEASURES) -> pd.DataFrame:
    """Median and the 10th-90th percentile band across replications, by policy, week and measure (tidy)."""
    long = weekly.melt(id_vars=["replication", "policy", "week"], value_vars=list(measures), var_name="measure")
    grouped = long.groupby(["policy", "week", "measure"], sort=True)["value"]
    out = pd.DataFrame(
        {
            "median": grouped.median(),
            "p10": grouped.quantile(0.1),
            "p90": grouped.quantile(0.9),
            "replications": grouped.count(),
        }
    )
    return out.reset_index()
