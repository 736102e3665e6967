"""The trade-off between public protection and need equity: the reform's LP re-solved at a few protection weights.

A protection weight ``f`` multiplies every entry of ``allocation.priority.protect_level_uplift`` (the extra
weight of an unmet hour by protect level) by ``f``, as a scenario's override would; the needs-scored LP is
solved again with those parameters, the same cases, practitioners, partners and policy. ``f = 1`` is the run's
own allocation (reused, never solved again). Each point gives public protection (coverage of protect levels A
and B, and the share of the public-protection minimum met) against need equity (coverage of the "low risk,
complex needs" group, of women, and of the worst-served tenth of cases), beside the same figures for today's
allocation. docs/model.md ("The trade-off") states the method; summary.json's ``tradeoff`` key holds the points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workload import outcomes
from workload.allocate import lp
from workload.disclosure import is_small
from workload.load import Scenario
from workload.params import Parameters

UPLIFT = "allocation.priority.protect_level_uplift"
"""The parameter a protection weight scales: extra weight per unmet hour by protect level."""

WEIGHTS = "outcomes.tradeoff.protection_weights"
"""The parameter listing the protection weights (a table w1...w5; 1 is always added)."""

CHOSEN = 1.0
"""The protection weight of the run's own allocation (the parameters as the scenario sets them)."""

PROTECTION_LEVELS = ("A", "B")
"""Protect levels whose coverage is the frontier's public protection: high and very high risk of serious harm."""

WORST_SHARE = 0.1
"""A definition, not a model number: the worst-served tenth of cases (those with assessed need)."""

HOURS_TOL = 1e-6
"""Hours below this are rounding: a case this close to its minimum has met it."""

FIGURES: tuple[str, ...] = (
    "coverage_ab",
    "protection_minimum_met",
    "coverage_low_risk_complex",
    "coverage_women",
    "coverage_worst_tenth",
    "coverage_all",
)
"""Each point's figures, as summary.json's ``tradeoff`` holds them (shares from 0 to 1, or None)."""

TODAY_CELLS = {"today": "wmt_today", "needs_today": "needs_today"}
"""Today's allocation beside the frontier, by summary.json key: the WMT baseline, and needs-scored demand."""


def wanted(scenario: Scenario) -> bool:
    """Whether the run computes the trade-off: ``[output] tradeoff`` true, or ``"auto"`` (the default) and the
    scenario has at most ``outcomes.tradeoff.auto_max_cases`` cases. Never under ``[policy] objective =
    "whole_life_cost"``: the weights are then the value of an hour, which the protect-level uplift the
    trade-off scales does not enter."""
    if scenario.spec.policy.objective == "whole_life_cost":
        return False
    setting = scenario.spec.output.tradeoff
    if setting == "auto":
        return len(scenario.cases) <= float(scenario.params["outcomes.tradeoff.auto_max_cases"])
    return bool(setting)


def skipped_note(scenario: Scenario) -> str:
    """Why the run left the trade-off out, and how to ask for it."""
    if scenario.spec.policy.objective == "whole_life_cost":
        return (
            "The trade-off was not computed: it re-solves the LP with the protect-level uplift of the priority rules "
            'scaled, and under [policy] objective = "whole_life_cost" each case\'s weight is the value of an hour '
            "of it in whole-life cost, which that uplift does not enter (the public-protection minimums are kept "
            "either way). Run the scenario with the default objective to see it."
        )
    limit = float(scenario.params["outcomes.tradeoff.auto_max_cases"])
    return (
        f"The trade-off was not computed: this scenario has {len(scenario.cases):,} cases, more than the "
        f"{limit:,.0f} up to which it is computed by default (outcomes.tradeoff.auto_max_cases), because each "
        "protection weight solves the needs-scored LP again. Set [output] tradeoff = true in scenario.toml to "
        "compute it."
    )


def protection_weights(params: Parameters) -> list[float]:
    """The weights to show, in increasing order, each once, with 1 (the run's own) always among them."""
    return sorted({float(v) for v in params.table(WEIGHTS).values()} | {CHOSEN})


def weighted_params(params: Parameters, weight: float) -> Parameters:
    """The parameters with every protect level's uplift multiplied by ``weight``, as overrides of ``params``."""
    uplift = params.table(UPLIFT)
    return params.with_overrides({f"{UPLIFT}.{level}": float(value) * weight for level, value in uplift.items()})


def case_groups(cases: pd.DataFrame, params: Parameters) -> dict[str, pd.Series]:
    """Per case, True when it belongs to each group of the frontier: A and B, low risk complex needs, women."""
    return {
        "coverage_ab": outcomes.protect_level(cases).isin(PROTECTION_LEVELS),
        "coverage_low_risk_complex": outcomes.low_risk_complex(cases, params),
        "coverage_women": cases["sex"] == "female",
    }


def group_coverage(frame: pd.DataFrame, member: pd.Series, threshold: int) -> float | None:
    """Coverage of the cases marked in ``member``, pooled as the run's group tables pool it
    (:func:`workload.outcomes.group_table`); None when the group is empty, or when it or the cases outside it
    count 1 to threshold - 1 (the disclosure rule: with the whole caseload's coverage published, a small
    complement could be worked out too)."""
    inside = int(member.sum())
    if inside == 0 or is_small(inside, threshold) or is_small(len(member) - inside, threshold):
        return None
    table = outcomes.group_table(frame.assign(group=member.map({True: "yes", False: "no"})), "group")
    return float(table.loc["yes", "coverage"])


def worst_tenth(frame: pd.DataFrame, threshold: int) -> float | None:
    """Mean coverage of the tenth of cases (with assessed need) whose coverage is lowest; None when that
    tenth counts 1 to threshold - 1 cases or there are none."""
    coverage = np.sort(frame.loc[frame["required_hours"] > 0, "coverage"].to_numpy(dtype=float))
    n = math.ceil(len(coverage) * WORST_SHARE)
    if n == 0 or is_small(n, threshold):
        return None
    return float(coverage[:n].mean())


def minimum_met(floor: pd.Series, shortfall: pd.Series, threshold: int) -> float | None:
    """Share of the cases' public-protection minimum hours met, ``1 - shortfall / minimum`` over all cases;
    None when no case has a minimum, or when 1 to threshold - 1 cases fall short (the disclosure rule's
    shortfall figure)."""
    total = float(floor.sum())
    if total <= 0 or is_small(int((shortfall > 0).sum()), threshold):
        return None
    return 1.0 - float(shortfall.sum()) / total


def point(
    need: pd.Series,
    cell: outcomes.CellResult,
    floor: pd.Series,
    shortfall: pd.Series,
    groups: dict[str, pd.Series],
    threshold: int,
) -> dict[str, float | None]:
    """One allocation's figures (:data:`FIGURES`), coverage measured against assessed need as every cell's is."""
    frame = outcomes.case_outcomes(need, cell)
    frame["required_hours"] = need
    figures: dict[str, float | None] = {
        name: group_coverage(frame, member, threshold) for name, member in groups.items()
    }
    figures["protection_minimum_met"] = minimum_met(floor, shortfall, threshold)
    figures["coverage_worst_tenth"] = worst_tenth(frame, threshold)
    total = outcomes.group_table(frame.assign(all="all"), "all").loc[outcomes.TOTAL]
    figures["coverage_all"] = float(total["coverage"])
    return {name: figures[name] for name in FIGURES}


def lp_cell(allocation: lp.Allocation) -> outcomes.CellResult:
    """An LP allocation's per-case hours as a cell, as the run reads its LP cells."""
    alloc = allocation.cases
    return outcomes.CellResult(
        alloc["afforded_hours"].astype(float),
        alloc["partner_hours"].astype(float),
        alloc["practitioner_id"],
        alloc["moved"].astype(bool),
    )


def frontier(
    scenario: Scenario,
    scores: pd.DataFrame,
    cells: dict[str, outcomes.CellResult],
    needs_job: lp.LpJob,
    reform: lp.Allocation,
    workers: int | None = None,
) -> dict[str, Any]:
    """The trade-off as summary.json's ``tradeoff``: a point per protection weight, and today's allocation.

    ``needs_job`` is the run's needs-scored LP call (cases, practitioners, partners, params, policy) and
    ``reform`` its answer, the point at weight 1; every other weight is solved in one
    :func:`workload.allocate.lp.allocate_lp_many` call (one pool of workers, ``workers`` of them) with only the
    parameters changed. ``cells`` are the run's four cells; today's are shown as they are.
    """
    params, threshold = scenario.params, scenario.spec.output.suppression_threshold
    weights = protection_weights(params)
    others = [w for w in weights if w != CHOSEN]
    cases, staff, partners, job_params, policy = needs_job
    jobs: list[lp.LpJob] = [(cases, staff, partners, weighted_params(job_params, w), policy) for w in others]
    solved = dict(zip(others, lp.allocate_lp_many(jobs, workers=workers))) if jobs else {}

    need = scores["assessed_need_hours"]
    groups = case_groups(scenario.cases, params)
    floor = reform.cases["floor_hours"].astype(float)
    points = []
    for weight in weights:
        allocation = solved.get(weight, reform)
        cell = cells[outcomes.REFORM] if weight == CHOSEN else lp_cell(allocation)
        shortfall = allocation.cases["floor_shortfall_hours"].astype(float)
        figures = point(need, cell, floor, shortfall, groups, threshold)
        points.append({"protection_weight": weight, "chosen": weight == CHOSEN, **figures})
    out: dict[str, Any] = {"protection_weights": weights, "chosen": CHOSEN, "points": points}
    for key, name in TODAY_CELLS.items():
        cell = cells[name]
        shortfall = (floor - cell.afforded).where(lambda gap: gap > HOURS_TOL, 0.0)
        out[key] = {"cell": name, **point(need, cell, floor, shortfall, groups, threshold)}
    return out
