"""Where the next hour does most: the LP's shadow prices in weighted hours and in pounds of whole-life cost.

The allocator's duals (:mod:`workload.allocate.shadow`) value one more hour of each practitioner's capacity
and of each partner's contract in the objective's weighted hours. Pounds come from the cost model, only
through :mod:`workload.outcomes`' public functions, so whatever it values flows through:

- ``v_c``, the whole-life cost one more hour would save case c: :func:`workload.outcomes.whole_life_costs` of
  the reform's allocation minus the same with the case's afforded hours one higher (its staff and partner
  cost held, so ``v_c`` is the reoffending, children's and any other outcome cost the hour saves);
- where one more hour of a practitioner or partner goes, case by case, from the LP's optimal basis
  (:func:`workload.allocate.shadow.hour_effects`: the hour may reach the cases through a chain of
  practitioners giving up and taking on hours);
- the hour's value in pounds is ``sum_c v_c x`` the hours it gives case c.

A grade's hour in a PDU is the best of its practitioners' (the hour goes where it does most), in each unit;
an hour of a practitioner with spare capacity is worth 0. The values are marginal: for the value of whole
posts, see ``workload plan`` (:mod:`workload.plan`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workload import disclosure, outcomes
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


def pounds_per_hour(effects: pd.DataFrame, saving: pd.Series) -> pd.Series:
    """GBP of whole-life cost one more hour of each resource saves, indexed by (resource, pdu): the hours it
    gives each case (``effects``: ``resource``, ``pdu``, ``case_id``, ``hours``) times the case's ``v_c``."""
    if effects.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["resource", "pdu"]))
    gbp = effects["hours"].to_numpy(dtype=float) * saving.reindex(effects["case_id"]).to_numpy(dtype=float)
    return pd.Series(gbp, index=effects.index).groupby([effects["resource"], effects["pdu"]]).sum()


def practitioner_values(staff: pd.DataFrame, hour_value: pd.Series, gbp: pd.Series) -> pd.DataFrame:
    """practitioners.csv's columns: ``hour_value`` (weighted hours) and ``hour_value_gbp`` (GBP of whole-life
    cost, from :func:`pounds_per_hour`; 0 where the hour goes nowhere, blank where the LP gave no duals)."""
    out = pd.DataFrame(index=staff.index)
    out["hour_value"] = hour_value.reindex(staff.index)
    keys = pd.MultiIndex.from_arrays([staff.index, staff["pdu"]])
    pounds = gbp.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    out["hour_value_gbp"] = np.where(out["hour_value"].notna(), pounds, np.nan)
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


PARTNER_CONTRACT_COLUMNS = (
    "pdu",
    "contract_hours",
    "used_hours",
    "use_share",
    "price_per_hour",
    "hour_value",
    "hour_value_gbp",
    "worth_price",
)
"""partner_contracts.csv's columns (indexed by partner_id)."""


def partner_values(
    contracts: pd.DataFrame,
    gbp: pd.Series,
    cases_by_pdu: pd.Series,
    threshold: int,
    referred: pd.Series | None = None,
) -> pd.DataFrame:
    """partner_contracts.csv: each partner's contract share in each PDU, hours used, the next hour's value
    in weighted hours and pounds, and whether that hour is worth its price (``worth_price``).

    Used hours and values of a PDU with fewer cases than the small-numbers threshold are left blank, and so
    are those of a contract whose used hours come from 1 to T-1 referred cases (``referred``: cases with
    partner hours by (partner_id, pdu)), with enough more rows that the rows' sum, the published partner
    hours, never gives them back (:func:`workload.disclosure.hidden_rows`).
    """
    if contracts.empty:
        return pd.DataFrame(columns=list(PARTNER_CONTRACT_COLUMNS), index=pd.Index([], name="partner_id"))
    out = contracts.set_index(["partner_id"]).copy()
    out["use_share"] = out["used_hours"] / out["contract_hours"].where(out["contract_hours"] > 0)
    keys = pd.MultiIndex.from_arrays([out.index, out["pdu"]])
    pounds = gbp.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    out["hour_value_gbp"] = np.where(out["hour_value"].notna(), pounds, np.nan)
    small = disclosure.is_small(out["pdu"].map(cases_by_pdu).fillna(0).to_numpy(dtype=float), threshold)
    if referred is not None:
        counts = referred.reindex(keys).fillna(0).to_numpy(dtype=float)
        small |= disclosure.hidden_rows(counts, threshold, groups=np.zeros(len(out), dtype=object))
    out.loc[small, ["used_hours", "use_share", "hour_value", "hour_value_gbp"]] = np.nan
    worth = np.where(out["hour_value_gbp"] > out["price_per_hour"], "yes", "no")
    out["worth_price"] = pd.Series(worth, index=out.index, dtype=object).where(out["hour_value_gbp"].notna(), None)
    return out[list(PARTNER_CONTRACT_COLUMNS)]
