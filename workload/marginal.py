"""Where the next hour does most: the LP's shadow prices in weighted hours and in pounds of whole-life cost.

The allocator's duals (:mod:`workload.allocate.shadow`) value one more hour of each practitioner's capacity
and of each partner's contract in the objective's weighted hours. Pounds come from the cost model, only
through :mod:`workload.outcomes`' public functions, so whatever it values flows through:

- ``v_c``, the whole-life cost one more hour would save case c: :func:`workload.outcomes.whole_life_costs` of
  the reform's allocation minus the same with the case's afforded hours one higher (its staff and partner
  cost held, so ``v_c`` is the reoffending, children's and any other outcome cost the hour saves);
- a PDU's exchange rate ``kappa_d = sum v_c / sum lambda_c`` over the cases the reform leaves short
  (unmet hours above 0), ``lambda_c`` the case's hours-row dual (what one hour given to it is worth in
  weighted hours): the pounds the LP's marginal weighted hour is worth in that PDU;
- a practitioner's (or partner's) hour in pounds is ``kappa_d x`` its dual.

A grade's hour in a PDU is the best of its practitioners' (the hour goes where it does most); an hour of a
practitioner with spare capacity is worth 0. The values are marginal: for the value of whole posts, see
``workload plan`` (:mod:`workload.plan`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workload import disclosure, outcomes
from workload.allocate.arrays import HOURS_TOL
from workload.params import Parameters

GRADES_VALUED: tuple[str, ...] = ("PO", "PSO", "PQiP")
"""Grades whose next hour pdus.csv values (SPOs hold no cases by default)."""


def hour_savings(
    cases: pd.DataFrame,
    need: pd.Series,
    cell: outcomes.CellResult,
    staff: pd.Series,
    partner_cost: pd.Series,
    params: Parameters,
) -> pd.Series:
    """``v_c``: the whole-life cost (GBP a year) one more afforded hour would save each case, from
    :func:`workload.outcomes.whole_life_costs` evaluated twice (staff and partner cost held fixed)."""
    values = outcomes.cost_values(params)
    now = outcomes.whole_life_costs(cases, outcomes.case_outcomes(need, cell), staff, partner_cost, values)
    more = outcomes.CellResult(cell.afforded + 1.0, cell.partner, cell.holder, cell.moved)
    then = outcomes.whole_life_costs(cases, outcomes.case_outcomes(need, more), staff, partner_cost, values)
    return (now["whole_life_cost"] - then["whole_life_cost"]).rename("hour_saving_gbp")


def exchange_rates(pdu: pd.Series, hour_value: pd.Series, saving: pd.Series, unmet: pd.Series) -> pd.Series:
    """``kappa_d``: GBP of whole-life cost per weighted hour at the margin, per PDU (NaN where no case is
    short or the LP gave no duals)."""
    short = (unmet > HOURS_TOL) & (hour_value > 0)
    gbp = saving.where(short, 0.0).groupby(pdu).sum()
    weighted = hour_value.where(short, 0.0).groupby(pdu).sum()
    return (gbp / weighted.where(weighted > 0)).rename("gbp_per_weighted_hour")


def practitioner_values(staff: pd.DataFrame, hour_value: pd.Series, rates: pd.Series) -> pd.DataFrame:
    """practitioners.csv's columns: ``hour_value`` (weighted hours) and ``hour_value_gbp``."""
    out = pd.DataFrame(index=staff.index)
    out["hour_value"] = hour_value.reindex(staff.index)
    out["hour_value_gbp"] = out["hour_value"] * staff["pdu"].map(rates).astype(float)
    return out


def grade_values(staff: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """pdus.csv's columns: the best next hour of each grade in each PDU, ``hour_value_<grade>`` and
    ``hour_value_gbp_<grade>`` (blank where the PDU has no practitioner of the grade with case hours)."""
    frame = values.join(staff[["pdu", "grade"]])
    best = frame.groupby(["pdu", "grade"])[["hour_value", "hour_value_gbp"]].max()
    out = pd.DataFrame(index=pd.Index(sorted(staff["pdu"].unique()), name="pdu"))
    for grade in GRADES_VALUED:
        for column in ("hour_value", "hour_value_gbp"):
            series = best[column].xs(grade, level="grade") if grade in best.index.get_level_values(1) else None
            out[f"{column}_{grade}"] = series.reindex(out.index) if series is not None else np.nan
    return out


def partner_values(contracts: pd.DataFrame, rates: pd.Series, cases_by_pdu: pd.Series, threshold: int) -> pd.DataFrame:
    """partner_contracts.csv: each partner's contract share in each PDU, hours used, the next hour's value
    in weighted hours and pounds, and whether that hour is worth its price (``worth_price``).

    Used hours and values of a PDU with fewer cases than the small-numbers threshold are left blank.
    """
    if contracts.empty:
        return pd.DataFrame(
            columns=[
                "pdu",
                "contract_hours",
                "used_hours",
                "use_share",
                "price_per_hour",
                "hour_value",
                "hour_value_gbp",
                "worth_price",
            ],
            index=pd.Index([], name="partner_id"),
        )
    out = contracts.set_index(["partner_id"]).copy()
    out["use_share"] = out["used_hours"] / out["contract_hours"].where(out["contract_hours"] > 0)
    out["hour_value_gbp"] = out["hour_value"] * out["pdu"].map(rates).astype(float)
    small = disclosure.is_small(out["pdu"].map(cases_by_pdu).fillna(0).to_numpy(dtype=float), threshold)
    out.loc[small, ["used_hours", "use_share", "hour_value", "hour_value_gbp"]] = np.nan
    worth = np.where(out["hour_value_gbp"] > out["price_per_hour"], "yes", "no")
    out["worth_price"] = pd.Series(worth, index=out.index, dtype=object).where(out["hour_value_gbp"].notna(), None)
    return out[
        [
            "pdu",
            "contract_hours",
            "used_hours",
            "use_share",
            "price_per_hour",
            "hour_value",
            "hour_value_gbp",
            "worth_price",
        ]
    ]
