"""Outcomes of an allocation: hours, unmet need, coverage, costs and equity, for each of the four cells.

A run computes the 2 x 2 of {WMT, needs} scoring x {today's allocation, LP} allocation (docs/model.md):

- ``wmt_today``: the WMT baseline, what the current tool would do: demand is the tier's hours, cases stay with
  (or are allocated as today to) a practitioner, who rations time when over capacity;
- ``needs_today``: demand measured by the needs model, allocation as today;
- ``wmt_lp``: demand by tier, allocated by the LP;
- ``needs_lp``: the reform: demand measured by need, allocated by the LP with partner hours.

Whatever the cell, *unmet need is measured against assessed need* (the needs model's full-mode required
hours): the point of the comparison is what each way of working leaves unmet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload import costs
from workload.disclosure import CONTRIBUTOR_PREFIX, contributor_columns, pool_small_rows
from workload.params import Parameters
from workload.scenario import BLANK_LABEL, OASYS_NEEDS, RESEARCH_FLAGS, SMALL_GROUPS_LABEL, TOTAL_LABEL
from workload.tier import protect_letter

CELLS: tuple[str, ...] = ("wmt_today", "needs_today", "wmt_lp", "needs_lp")
"""The four cells of the comparison, baseline first and reform last."""

BASELINE, REFORM = "wmt_today", "needs_lp"

CELL_LABELS = {
    "wmt_today": "WMT scoring, today's allocation (baseline)",
    "needs_today": "Needs scoring, today's allocation",
    "wmt_lp": "WMT scoring, LP allocation",
    "needs_lp": "Needs scoring, LP allocation (reform)",
}

GROUP_DIMENSIONS: tuple[str, ...] = ("sex", "ethnicity", "protect_level", "low_risk_complex", "pdu")
"""Dimensions outcomes are reported by."""


def ration_hours(
    demand: pd.Series,
    holder: pd.Series,
    capacity: pd.Series,
    need: pd.Series | None = None,
    spread: bool = False,
) -> pd.Series:
    """Hours each case gets from its practitioner under today's allocation.

    Over capacity, a practitioner gives every case the same share of its demand,
    ``afforded_c = demand_c x capacity_p / sum of demand over p's cases``. Under capacity, each case gets its
    demand and, when ``need`` is given, the spare hours ``capacity_p - sum of demand`` go to the cases whose
    need is above their demand, in proportion to that gap and never beyond it:
    ``afforded_c = demand_c + gap_c x min(1, spare_p / sum of gap over p's cases)``, ``gap_c = max(0, need_c -
    demand_c)``. With ``spread`` the spare hours go instead to every case in proportion to its demand,
    ``afforded_c = min(demand_c x capacity_p / sum of demand, max(demand_c, need_c))``. Without ``need`` the
    spare hours stay idle. A practitioner never gives more than their capacity in all, nor a case more than
    ``max(demand, need)``. Unheld cases get 0.
    """
    held = holder.notna()
    keys = holder[held]
    load = demand[held].groupby(keys).sum()
    cap = capacity.reindex(load.index).fillna(0.0)
    with np.errstate(over="ignore"):
        scale = np.minimum(
            1.0, np.divide(cap.to_numpy(), load.to_numpy(), out=np.ones(len(load)), where=load.to_numpy() > 0)
        )
    factor = pd.Series(scale, index=load.index)
    out = demand * holder.map(factor).astype(float).fillna(0.0)
    if need is not None and spread:
        # each case's share of its practitioner's demand times their capacity: a share is at most 1, so no
        # overflow however small the demand (demand x capacity / load would overflow for a denormal load)
        case_load = holder.map(load).astype(float).fillna(0.0)
        share = np.divide(
            demand.to_numpy(), case_load.to_numpy(), out=np.zeros(len(demand)), where=case_load.to_numpy() > 0
        )
        up = pd.Series(np.minimum(share, 1.0), index=demand.index) * holder.map(cap).astype(float).fillna(0.0)
        out = np.minimum(up, np.maximum(out, need.reindex(demand.index).fillna(0.0)))
    elif need is not None:
        gap = (need.reindex(demand.index).fillna(0.0) - demand).clip(lower=0.0)
        spare = (cap - load).clip(lower=0.0)
        gaps = gap[held].groupby(keys).sum()
        share = np.divide(spare.to_numpy(), gaps.to_numpy(), out=np.zeros(len(gaps)), where=gaps.to_numpy() > 0)
        fill = pd.Series(np.minimum(1.0, share), index=gaps.index)
        out = out + gap * holder.map(fill).astype(float).fillna(0.0)
    out[~held] = 0.0
    return out.rename("afforded_hours")


SPARE_HOURS = ("need", "demand", "idle")
"""Values of ``outcomes.today.spare_hours``: where a practitioner's hours under capacity go in today's cells."""


def today_hours(
    demand: pd.Series, holder: pd.Series, capacity: pd.Series, need: pd.Series, params: Parameters
) -> pd.Series:
    """Hours each case gets in a today cell: :func:`ration_hours`, the spare hours spent as
    ``outcomes.today.spare_hours`` says (``need``: on the held cases' need beyond their demand; ``demand``: on
    every held case in proportion to its demand, up to its need; ``idle``: not spent)."""
    spare = str(params["outcomes.today.spare_hours"])
    if spare not in SPARE_HOURS:
        raise ValueError(
            f"parameter outcomes.today.spare_hours must be one of {', '.join(SPARE_HOURS)}; found {spare!r}"
        )
    return ration_hours(demand, holder, capacity, None if spare == "idle" else need, spread=spare == "demand")


def needs_present(cases: pd.DataFrame) -> pd.Series:
    """Number of needs and experiences present: OASys sections at severity 1 or 2 plus research flags."""
    return (cases[list(OASYS_NEEDS)] > 0).sum(axis=1) + cases[list(RESEARCH_FLAGS)].sum(axis=1)


def protect_level(cases: pd.DataFrame) -> pd.Series:
    """The tier's protect letter A-D, or 'untiered' (:func:`workload.tier.protect_letter`)."""
    return protect_letter(cases["tier"])


def low_risk_complex(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """The research's "low risk, complex needs" group: protect level C or D with many co-occurring needs."""
    low = protect_level(cases).isin(["C", "D"])
    return (low & (needs_present(cases) >= params["outcomes.groups.low_risk_complex_min_needs"])).rename(
        "low_risk_complex"
    )


@dataclass
class CellResult:
    """One cell's per-case hours: practitioner, partner hours and who holds the case."""

    afforded: pd.Series
    partner: pd.Series
    holder: pd.Series
    moved: pd.Series


def case_outcomes(need: pd.Series, cell: CellResult) -> pd.DataFrame:
    """Per case: afforded, partner, unmet hours against assessed need, hours beyond it, coverage.

    ``unmet = max(0, need - afforded - partner)``; hours a cell gives beyond assessed need (a high-tier case
    with few needs under the WMT) are ``excess_hours``, not negative unmet need.
    """
    given = cell.afforded + cell.partner
    gap = need - given
    coverage = np.divide(given.to_numpy(), need.to_numpy(), out=np.ones(len(need)), where=need.to_numpy() > 0)
    return pd.DataFrame(
        {
            "afforded_hours": cell.afforded,
            "partner_hours": cell.partner,
            "unmet_hours": gap.clip(lower=0.0),
            "excess_hours": (-gap).clip(lower=0.0),
            "coverage": np.minimum(coverage, 1.0),
        },
        index=need.index,
    )


# ----------------------------------------------------------------------------------------------------------
# costs


# The cost model lives in workload/costs.py; its public functions are re-exported here, where the pipeline,
# today's baseline rules and the sensitivity table have always found them.
staff_cost = costs.staff_cost
expected_reoffending_rate = costs.expected_reoffending_rate
whole_life_costs = costs.whole_life_costs
cost_values = costs.cost_values
hour_value = costs.hour_value
reoffending_likelihood = costs.reoffending_likelihood
COST_VALUE_PATHS = costs.COST_VALUE_PATHS


# ----------------------------------------------------------------------------------------------------------
# grouped tables, equity, suppression


SUM_COLUMNS = (
    "required_hours",
    "afforded_hours",
    "partner_hours",
    "unmet_hours",
    "excess_hours",
    "moved",
    "staff_cost",
    "partner_cost",
    "reoffending_cost",
    "children_cost",
    "near_miss_cost",
    "whole_life_cost",
)


CELL_FIGURES: tuple[str, ...] = (
    "cases",
    "required_hours",
    "afforded_hours",
    "partner_hours",
    "unmet_hours",
    "excess_hours",
    "coverage",
    "moved",
    "staff_cost",
    "partner_cost",
    "reoffending_cost",
    "children_cost",
    "near_miss_cost",
    "whole_life_cost",
)
"""The headline figures of each cell, as summary.json's ``cells`` and a sweep's task files hold them."""


def _add_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage (share of assessed need met) and hours per case, from a table's summed columns."""
    given = table["afforded_hours"] + table["partner_hours"]
    need = table["required_hours"]
    table["coverage"] = np.where(need > 0, np.minimum(given, need) / need.where(need > 0, 1.0), 1.0)
    table["hours_per_case"] = given / table["cases"].where(table["cases"] > 0, 1)
    return table


def group_table(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Sum the outcome columns by one dimension, with case counts and coverage; a Total row last.

    The table also counts, per row, the cases contributing to each subset figure (``contributors_*``,
    :mod:`workload.disclosure`): working columns that :func:`workload.disclosure.suppress_contributions`
    uses and drops before the table is published.
    """
    frame = frame.join(contributor_columns(frame))
    grouped = frame.groupby(dimension, observed=True, sort=True, dropna=False)
    summed = [c for c in SUM_COLUMNS if c in frame] + [c for c in frame.columns if c.startswith(CONTRIBUTOR_PREFIX)]
    table = grouped[summed].sum()
    table.insert(0, "cases", grouped.size())
    table.index = table.index.map(lambda v: BLANK if pd.isna(v) else str(v))
    total = table.sum().to_frame(TOTAL).T
    table = pd.concat([table, total])
    table.index.name = "group"
    return _add_ratios(table)


TOTAL = TOTAL_LABEL
BLANK = BLANK_LABEL
SMALL_GROUPS = SMALL_GROUPS_LABEL


def suppress(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Publishable rows of a group table: no row counts fewer than ``threshold`` cases (disclosure rule 1).

    Groups under the threshold are never shown on their own. They are pooled into one row,
    ``(small groups)``; if even the pool is under the threshold it is merged into the largest group (the row
    becomes e.g. ``male + small groups``), so that no small group can be recovered by subtracting the shown
    rows from the Total, here or in any other published table. Rows still partition the Total, which is
    always shown. ``pooled_groups`` counts the groups folded into each row. ``threshold`` 0 turns this off.
    """
    additive = ["cases", *[c for c in table.columns if c not in ("coverage", "hours_per_case")]]
    out = pool_small_rows(table, threshold, additive, SMALL_GROUPS, keep=[TOTAL])
    if (out["pooled_groups"] > 0).any():
        out = _add_ratios(out)
    out.index.name = "group"
    return out


def equity_table(by_group: dict[str, pd.DataFrame], dimension: str) -> pd.DataFrame:
    """Coverage and hours per case by group in every cell, with disparity ratios to the overall figure.

    ``coverage_ratio_<cell>`` = group coverage / overall coverage: below 1 the group gets less of its
    assessed need met than the caseload as a whole.
    """
    columns: dict[str, pd.Series] = {}
    for cell, table in by_group.items():
        overall = table.loc[TOTAL]
        groups = table.drop(index=TOTAL)
        columns[f"coverage_{cell}"] = groups["coverage"]
        columns[f"hours_per_case_{cell}"] = groups["hours_per_case"]
        columns[f"coverage_ratio_{cell}"] = groups["coverage"] / overall["coverage"] if overall["coverage"] else np.nan
    out = pd.DataFrame(columns)
    first = next(iter(by_group.values())).drop(index=TOTAL)
    out.insert(0, "cases", first["cases"])
    if "pooled_groups" in first:
        out["pooled_groups"] = first["pooled_groups"]
    out.insert(0, "dimension", dimension)
    out.index.name = "group"
    return out


def sensitivity(
    cases: pd.DataFrame,
    outcomes: dict[str, pd.DataFrame],
    staff_by_cell: dict[str, pd.Series],
    partner_by_cell: dict[str, pd.Series],
    params: Parameters,
) -> pd.DataFrame:
    """Net whole-life cost of the reform against the baseline, moving one assumption at a time.

    For each assumption in ``outcomes.sensitivity.low/high`` the net cost (reform minus baseline, GBP a
    year) is recomputed at its low and its high value with everything else at the default; rows are sorted
    by the swing (|high - low|), so the assumption that moves the answer most comes first.
    """
    base_values = cost_values(params)
    traits = costs.case_traits(cases)
    met = {
        cell: costs.met_hours(cases, outcomes[cell], base_values).reindex(cases.index).to_numpy(dtype=float)
        for cell in (BASELINE, REFORM)
    }
    staff = {cell: float(staff_by_cell[cell].sum()) for cell in (BASELINE, REFORM)}
    partner = {cell: float(partner_by_cell[cell].sum()) for cell in (BASELINE, REFORM)}

    def net(values: dict[str, float], multiplier: float = 1.0) -> float:
        """Reform minus baseline whole-life cost: the costs of :func:`workload.costs.whole_life_costs`, summed."""
        totals = {}
        for cell in (BASELINE, REFORM):
            parts = costs.outcome_costs(traits, met[cell], values)
            totals[cell] = staff[cell] * multiplier + partner[cell] + float(sum(part.sum() for part in parts))
        return totals[REFORM] - totals[BASELINE]

    central = net(base_values)
    rows = []
    low, high = params.table("outcomes.sensitivity.low"), params.table("outcomes.sensitivity.high")
    for name in low:
        results = []
        for value in (low[name], high[name]):
            if name == "staff_cost_multiplier":
                results.append(net(base_values, float(value)))
            else:
                results.append(net({**base_values, name: float(value)}))
        default = 1.0 if name == "staff_cost_multiplier" else base_values[name]
        rows.append(
            {
                "assumption": name,
                "default": default,
                "low": low[name],
                "high": high[name],
                "net_cost_at_low": results[0],
                "net_cost_central": central,
                "net_cost_at_high": results[1],
                "swing": abs(results[1] - results[0]),
            }
        )
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").set_index("assumption")
    return table
