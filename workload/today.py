"""Today, three ways: the WMT screen as it stands, after the baseline places the new cases, and the headline
under each of the baseline's rules.

A planner checks a run against the WMT screen first. The screen shows each practitioner's points from the
cases they hold now and their court reports (``workload_pct``, ``wmt_points``, ``wmt_flag`` in
practitioners.csv); the baseline then places this run's unallocated cases, as a manager would today, and the
same figures after that carry ``_baseline`` (:func:`practitioner_columns`). Which practitioner a manager picks
is a choice the data does not record, so :func:`rule_sensitivity` recomputes the baseline cell under every
rule of :data:`workload.allocate.baseline.RULES` (allocation and rationing only, no LP) beside the reform, and
:func:`grade_utilisation` shows how each grade's capacity is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload import disclosure, outcomes
from workload.allocate import baseline
from workload.params import Parameters
from workload.scoring import wmt

SUFFIX = "_baseline"
"""Suffix of practitioners.csv's figures after the baseline has placed the unallocated cases."""


def practitioner_columns(
    practitioners: pd.DataFrame, case_points: pd.Series, current: pd.Series, holder: pd.Series, params: Parameters
) -> pd.DataFrame:
    """Each practitioner's WMT figures today and after the baseline's placements.

    ``wmt_points``, ``available_points``, ``workload_pct`` and ``wmt_flag`` come from ``current`` (the cases
    held now, ``current_practitioner_id``) and court reports only: what the WMT screen shows.
    ``wmt_points_baseline``, ``workload_pct_baseline`` and ``wmt_flag_baseline`` come from ``holder`` (today's
    allocation: the same cases plus the unallocated ones the baseline placed).
    """
    screen = wmt.practitioner_workload(practitioners, case_points, current, params)
    after = wmt.practitioner_workload(practitioners, case_points, holder, params)
    for column in ("wmt_points", "workload_pct", "wmt_flag"):
        screen[column + SUFFIX] = after[column]
    return screen


def red_count(practitioners: pd.DataFrame, column: str = "wmt_flag") -> int:
    """Practitioners whose flag in ``column`` is red (above ``wmt.red_pct``): the one definition the summary,
    the report's text and its chart share."""
    return int((practitioners[column] == wmt.FLAG_RED).sum())


def _grades(practitioners: pd.DataFrame) -> list[str]:
    order = ["PO", "PSO", "PQiP", "SPO"]
    present = list(dict.fromkeys(practitioners["grade"].astype(str)))
    return [g for g in order if g in present] + sorted(g for g in present if g not in order)


def grade_utilisation(
    practitioners: pd.DataFrame,
    capacity: pd.Series,
    holders: dict[str, pd.Series],
    hours: dict[str, pd.Series],
    threshold: int,
) -> pd.DataFrame:
    """Per grade: practitioners, capacity hours and, for each way of allocating, cases held, hours given and
    utilisation (hours given / capacity).

    ``holders[name]`` and ``hours[name]`` are per case (who holds it, practitioner hours it gets). A grade's
    hours are left blank (NaN) for a way of allocating under which it holds 1 to ``threshold - 1`` cases
    (the disclosure rule's small group).
    """
    grade = practitioners["grade"].astype(str)
    cap = capacity.reindex(practitioners.index).fillna(0.0)
    table = pd.DataFrame(index=pd.Index(_grades(practitioners), name="grade"))
    table["practitioners"] = grade.value_counts().reindex(table.index).fillna(0).astype(int)
    table["capacity_hours"] = cap.groupby(grade).sum().reindex(table.index).fillna(0.0)
    for name, holder in holders.items():
        by_grade = holder.map(grade)
        cases = by_grade.value_counts().reindex(table.index).fillna(0).astype(int)
        given = hours[name].groupby(by_grade).sum().reindex(table.index).fillna(0.0)
        small = np.array([disclosure.is_small(int(n), threshold) for n in cases])
        table[f"cases_{name}"] = cases
        table[f"hours_given_{name}"] = given.mask(small)
        table[f"utilisation_{name}"] = (given / table["capacity_hours"].where(table["capacity_hours"] > 0)).mask(small)
    return table


@dataclass(frozen=True)
class RuleBaseline:
    """The baseline cell under one baseline rule (what :func:`rule_sensitivity` needs that the LP does not
    change): its whole-life cost, and the row's other figures, in the table's column order."""

    rule: str
    whole_life_cost: float
    before: dict[str, object]
    after: dict[str, object]


def rule_baselines(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    scores: pd.DataFrame,
    capacity: pd.Series,
    params: Parameters,
    threshold: int,
    own_holder: pd.Series | None = None,
) -> list[RuleBaseline]:
    """The baseline cell (``wmt_today``) recomputed under every rule of :data:`RULES`: the part of
    :func:`rule_sensitivity` that needs no LP answer (a run makes it while the LP's workers solve).

    ``own_holder``, when given, is today's allocation under the run's own rule (it is not made again).
    """
    need = scores["assessed_need_hours"]
    demand = scores["wmt_hours"]
    zero = pd.Series(0.0, index=cases.index)
    no_move = pd.Series(False, index=cases.index)
    values = outcomes.cost_values(params)
    own = baseline.baseline_rule(params)
    out = []
    for rule in baseline.RULES:
        reuse = rule == own  # the run's own rule: today's allocation, already made
        holder = (
            own_holder
            if own_holder is not None and reuse
            else baseline.allocate_baseline(cases, practitioners, params, rule=rule)
        )
        afforded = outcomes.today_hours(demand, holder, capacity, need, params)
        cell = outcomes.CellResult(afforded, zero, holder, no_move)
        frame = outcomes.case_outcomes(need, cell)
        staff = outcomes.staff_cost(afforded, holder, practitioners["grade"], params)
        costs = outcomes.whole_life_costs(cases, frame, staff, zero, values)
        total_need = float(need.sum())
        given = float(afforded.sum())
        coverage = min(given, total_need) / total_need if total_need > 0 else 1.0
        idle = float(outcomes.ration_hours(demand, holder, capacity).sum())
        after = wmt.practitioner_workload(practitioners, scores["wmt_points"], holder, params)
        unplaced = int(holder.attrs["unplaced"])
        grades = grade_utilisation(practitioners, capacity, {"baseline": holder}, {"baseline": afforded}, threshold)
        utilisation = {
            f"utilisation_{g}": grades.loc[g, "utilisation_baseline"]
            for g in grades.index[grades["capacity_hours"] > 0]
        }
        out.append(
            RuleBaseline(
                rule,
                float(costs["whole_life_cost"].sum()),
                {
                    "rule": rule,
                    "default": rule == own,
                    "coverage_baseline": coverage,
                    "coverage_baseline_spare_idle": min(idle, total_need) / total_need if total_need > 0 else 1.0,
                },
                {
                    "practitioners_red_baseline": red_count(after),
                    "unplaced_cases": np.nan if disclosure.is_small(unplaced, threshold) else unplaced,
                    **utilisation,
                },
            )
        )
    return out


def rule_sensitivity(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    scores: pd.DataFrame,
    capacity: pd.Series,
    reform_whole_life_cost: float,
    reform_coverage: float,
    params: Parameters,
    threshold: int,
    hide_net_cost: bool,
    own_holder: pd.Series | None = None,
    baselines: list[RuleBaseline] | None = None,
) -> pd.DataFrame:
    """The headline under each baseline rule: one row per rule of :data:`RULES`, the run's own rule marked.

    For each rule the baseline cell (``wmt_today``) is recomputed: the unallocated cases placed by that rule,
    each practitioner's hours shared as :func:`workload.outcomes.today_hours` does, then coverage, whole-life
    cost and the practitioners in the red after the placements. The reform does not depend on the rule (the LP
    starts from the cases held now), so its coverage and cost are the run's. Columns: ``default``,
    ``coverage_baseline``, ``coverage_baseline_spare_idle`` (the same with practitioners' hours under capacity
    left idle, ``outcomes.today.spare_hours = idle``), ``coverage_reform``, ``net_whole_life_cost_reform_vs_baseline`` (blank when the
    run's own net cost is not published), ``practitioners_red_baseline``, ``unplaced_cases`` (blank when 1 to
    ``threshold - 1``) and ``utilisation_<grade>`` under the rule (hours given / capacity; grades with capacity).
    ``own_holder``, when given, is today's allocation under the run's own rule (it is not made again);
    ``baselines``, when given, are the rules' baseline cells already made (:func:`rule_baselines`).
    """
    if baselines is None:
        baselines = rule_baselines(cases, practitioners, scores, capacity, params, threshold, own_holder)
    rows = [
        {
            **b.before,
            "coverage_reform": reform_coverage,
            "net_whole_life_cost_reform_vs_baseline": np.nan
            if hide_net_cost
            else reform_whole_life_cost - b.whole_life_cost,
            **b.after,
        }
        for b in baselines
    ]
    return pd.DataFrame(rows).set_index("rule")


COUNT_COLUMNS = ("practitioners", "practitioners_red_baseline", "unplaced_cases")
"""Columns of this module's tables that count (written as whole numbers in summary.json)."""


def records(table: pd.DataFrame) -> list[dict[str, object]]:
    """A table of this module as summary.json holds it: one object per row, keyed first by the index's
    name (``rule``, ``grade``), blanks as null."""
    out = []
    for key, row in table.iterrows():
        record: dict[str, object] = {str(table.index.name): str(key)}
        for column, value in row.items():
            name = str(column)
            if isinstance(value, (bool, np.bool_)):
                record[name] = bool(value)
            elif value is None or (isinstance(value, float) and np.isnan(value)):
                record[name] = None
            elif name in COUNT_COLUMNS or name.startswith("cases_"):
                record[name] = int(value)
            else:
                record[name] = float(value)
        out.append(record)
    return out
