"""The whole run, stage by stage: scenario -> scores -> allocations -> outcomes -> run folder.

Each stage is a plain function over DataFrames (the data flow in the line above), so a notebook can call any of
them; :func:`run_scenario` strings them together and :func:`write_run` writes one folder atomically.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workload import __version__, disclosure, marginal, outcomes, today, tradeoff
from workload.allocate import baseline, lp
from workload.allocate.parallel import running_pool
from workload.load import Scenario, resolved_scenario
from workload.output import atomic_folder, write_csv, write_json
from workload.reform import Reform
from workload.report import write_report
from workload.report.workbook import caseload_sheets, write_caseload_sheets
from workload.scoring import needs, wmt

CASE_GROUP_COLUMNS = ("pdu", "sex", "ethnicity", "case_type", "tier")
"""Case attributes carried into outputs for grouping (pseudonymous: no names, no dates, no addresses)."""


@dataclass
class RunResult:
    """Everything one run produces, as tables keyed by case_id / practitioner_id / pdu."""

    scenario: Scenario
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Further named tables (allocations, pdus, outcome tables) written as <name>.csv."""
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    contributors: dict[str, int] = field(default_factory=dict)
    """How many cases each subset figure comes from (``needs_lp.contributors_partner_hours``...,
    ``contributors_statutory_shortfall_hours``): working numbers for the disclosure rule when figures of
    several runs are combined (a sweep's PDUs); never written or published."""


def score_cases(scenario: Scenario) -> pd.DataFrame:
    """Stage 1: WMT points and hours, and the needs model's hours by component, per case.

    ``required_hours`` is the demand the needs-based cells allocate (full or budget-neutral, by policy);
    ``assessed_need_hours`` is always the full-mode total, the yardstick unmet need is measured against.
    """
    cases, params = scenario.cases, scenario.params
    points = wmt.case_points(cases, params)
    hours = wmt.case_hours(cases, params)
    full = needs.score_needs(cases, params, mode="full")
    mode = scenario.spec.policy.scoring_mode
    demand = (
        full if mode == "full" else needs.score_needs(cases, params, mode=mode, baseline_total_hours=float(hours.sum()))
    )
    scores = pd.concat([points.rename("wmt_points"), hours.rename("wmt_hours"), demand], axis=1)
    scores["assessed_need_hours"] = full["required_hours"]
    scores.attrs["scale_factor"] = demand.attrs.get("scale_factor", 1.0)
    return scores


def lp_cases(scenario: Scenario, scores: pd.DataFrame, scoring: str) -> pd.DataFrame:
    """The cases frame the LP allocates: demand from one scoring, plus what the allocator needs to know.

    Under WMT scoring the demand is the tier's hours and no need components are known, so no partner can
    deliver any of it (partners buy need-specific work the WMT does not measure).
    """
    frame = scenario.cases.copy()
    frame["wmt_hours"] = scores["wmt_hours"]
    frame["hours_risk"] = scores["hours_risk"]
    frame["restart_hours"] = needs.restart_hours(scenario.cases, scenario.params)
    frame["move_protected"] = needs.move_protected(scenario.cases, scenario.params)
    frame["early_trust"] = needs.early_trust(scenario.cases, scenario.params)
    area_columns = [c for c in scores.columns if c.startswith("hours_need_")]
    if scoring == "needs":
        frame["required_hours"] = scores["required_hours"]
        frame[area_columns] = scores[area_columns]
    else:
        frame["required_hours"] = scores["wmt_hours"]
        frame[area_columns] = 0.0
    return frame


def run_scenario(
    scenario: Scenario,
    workers: int | None = None,
    progress: Callable[[str, float], None] | None = None,
    reform: Reform | None = None,
) -> RunResult:
    """Run every stage on a validated scenario, with ``reform`` applied when given (docs/python.md).

    ``progress``, if given, is called as each stage ends with the stage's name and its seconds (``workload run``
    prints a line per stage on stderr)."""
    return _run_stages(reform.apply(scenario) if reform else scenario, workers, progress)


def _run_stages(
    scenario: Scenario, workers: int | None = None, progress: Callable[[str, float], None] | None = None
) -> RunResult:
    """Run every stage on a validated scenario: scores, the four cells, outcomes, costs, equity."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 4)
        clock = now
        if progress is not None:
            progress(name, timings[name])

    cases, staff, params, policy = scenario.cases, scenario.practitioners, scenario.params, scenario.spec.policy
    workers = workers or policy.workers
    warnings: list[str] = [str(w) for w in scenario.warnings]  # implausible data (workload.load.plausibility)
    # the LP's worker processes start now, while this process scores the cases and allocates as today
    lp.start_workers(lp.worker_count(workers, 2 * int(cases["pdu"].nunique())))

    scores = score_cases(scenario)
    need = scores["assessed_need_hours"]
    lap("scoring")

    capacity = lp.capacity_hours(staff, params)
    values = outcomes.cost_values(params)
    zero = pd.Series(0.0, index=cases.index)
    no_move = pd.Series(False, index=cases.index)
    threshold = scenario.spec.output.suppression_threshold
    demands = {"wmt": scores["wmt_hours"], "needs": scores["required_hours"]}
    # what needs no LP answer: made here while the workers solve (lp.allocate_lp_many's ``meanwhile``)
    beside: dict[str, Any] = {}

    def today_cells() -> None:
        holder = baseline.allocate_baseline(cases, staff, params)
        unplaced = int(holder.isna().sum())
        if unplaced:
            warnings.append(
                f"today's allocation: {unplaced} case(s) have no eligible practitioner in their PDU and stay "
                "unallocated"
            )
        beside["holder"] = holder
        for scoring, demand in demands.items():
            cell = outcomes.CellResult(
                outcomes.today_hours(demand, holder, capacity, need, params), zero, holder, no_move
            )
            frame = outcomes.case_outcomes(need, cell)
            staff_cost = outcomes.staff_cost(cell.afforded, cell.holder, staff["grade"], params)
            costs = outcomes.whole_life_costs(cases, frame, staff_cost, zero, values)
            beside[f"{scoring}_today"] = (cell, pd.concat([frame, costs], axis=1), staff_cost)
        lap("today's allocation")
        beside["rules"] = today.rule_baselines(cases, staff, scores, capacity, params, threshold, own_holder=holder)

    # both cells' PDUs go to one pool of workers (started once, kept busy across cells)
    scorings = ("wmt", "needs")
    jobs = [
        (
            lp_cases(scenario, scores, scoring),
            staff,
            scenario.partners,
            params,
            policy if scoring == "needs" else policy.model_copy(update={"use_partners": False}),
        )
        for scoring in scorings
    ]
    allocations: dict[str, lp.Allocation] = dict(
        zip(scorings, lp.allocate_lp_many(jobs, workers=workers, meanwhile=today_cells))
    )
    today_holder: pd.Series = beside["holder"]
    warnings += merge_lp_warnings({scoring: allocations[scoring].warnings for scoring in scorings})
    lap("LP allocation")

    cells: dict[str, outcomes.CellResult] = {}
    for scoring in scorings:
        cells[f"{scoring}_today"] = beside[f"{scoring}_today"][0]
        alloc = allocations[scoring].cases
        cells[f"{scoring}_lp"] = outcomes.CellResult(
            alloc["afforded_hours"].astype(float),
            alloc["partner_hours"].astype(float),
            alloc["practitioner_id"],
            alloc["moved"].astype(bool),
        )

    groups = pd.DataFrame(index=cases.index)
    for column in ("pdu", "sex", "ethnicity"):
        groups[column] = cases[column]
    groups["protect_level"] = outcomes.protect_level(cases)
    groups["low_risk_complex"] = outcomes.low_risk_complex(cases, params).map({True: "yes", False: "no"})

    price = scenario.partners["price_per_hour"].astype(float) if len(scenario.partners) else pd.Series(dtype=float)
    per_case: dict[str, pd.DataFrame] = {}
    staff_by_cell: dict[str, pd.Series] = {}
    partner_by_cell: dict[str, pd.Series] = {}
    for name, cell in cells.items():
        if name.endswith("_lp"):
            frame = outcomes.case_outcomes(need, cell)
            staff_by_cell[name] = outcomes.staff_cost(cell.afforded, cell.holder, staff["grade"], params)
            partner_id = allocations[name.split("_")[0]].cases["partner_id"]
            partner_by_cell[name] = cell.partner * partner_id.map(price).astype(float).fillna(0.0)
            costs = outcomes.whole_life_costs(cases, frame, staff_by_cell[name], partner_by_cell[name], values)
            frame = pd.concat([frame, costs], axis=1)
        else:
            _, frame, staff_by_cell[name] = beside[name]
            frame = frame.copy()
            partner_by_cell[name] = zero
        frame["required_hours"] = need
        frame["moved"] = cell.moved.astype(int)
        per_case[name] = frame
    lap("outcomes")

    tables: dict[str, pd.DataFrame] = {}
    tidy, equity = [], []
    for dimension in outcomes.GROUP_DIMENSIONS:
        by_cell = {}
        for name, frame in per_case.items():
            table = outcomes.suppress(outcomes.group_table(frame.join(groups[[dimension]]), dimension), threshold)
            by_cell[name] = table
            shown = disclosure.suppress_contributions(table, threshold, total=outcomes.TOTAL, partition=True)
            shown.insert(0, "cell", name)
            shown.insert(0, "dimension", dimension)
            tidy.append(shown)
        equity.append(outcomes.equity_table(by_cell, dimension))
    tables["outcomes_by_group"] = pd.concat(tidy)
    tables["equity"] = pd.concat(equity)
    totals = pd.DataFrame(
        {
            name: outcomes.group_table(per_case[name].assign(all="all"), "all").loc[outcomes.TOTAL]
            for name in outcomes.CELLS
        }
    ).T
    contributors = {
        f"{cell}.{column}": int(totals.loc[cell, column])
        for cell in totals.index
        for column in totals.columns
        if column.startswith(disclosure.CONTRIBUTOR_PREFIX)
    }
    totals = disclosure.suppress_contributions(totals, threshold)
    totals.index.name = "cell"
    totals.insert(0, "label", [outcomes.CELL_LABELS[c] for c in totals.index])
    tables["totals"] = totals
    sensitivity = outcomes.sensitivity(cases, per_case, staff_by_cell, partner_by_cell, params)
    # every net cost there sums every cost of both cells: when one of those totals is not published (too few
    # cases contribute to it), neither are the net costs it could be worked out from
    hidden = totals.loc[
        [outcomes.BASELINE, outcomes.REFORM], ["partner_cost", "children_cost", "near_miss_cost", "whole_life_cost"]
    ]
    if hidden.isna().to_numpy().any():
        net = [c for c in sensitivity.columns if c.startswith("net_cost") or c == "swing"]
        sensitivity[net] = np.nan
    tables["sensitivity"] = sensitivity
    tables["baseline_rules"] = today.rule_sensitivity(
        cases,
        staff,
        scores,
        capacity,
        float(per_case[outcomes.REFORM]["whole_life_cost"].sum()),
        float(totals.loc[outcomes.REFORM, "coverage"]),
        params,
        threshold,
        bool(hidden.isna().to_numpy().any()),
        baselines=beside["rules"],
    )
    lap("tables")

    reform = allocations["needs"]
    allocations_csv = reform.cases.loc[
        :,
        [
            "practitioner_id",
            "previous_practitioner_id",
            "afforded_hours",
            "partner_id",
            "partner_hours",
            "unmet_hours",
            "floor_hours",
            "floor_shortfall_hours",
            "moved",
            "move_reason",
            "restart_hours",
        ],
    ].copy()
    allocations_csv["moved"] = allocations_csv["moved"].astype(int)
    allocations_csv.index.name = "case_id"
    tables["allocations"] = allocations_csv
    pdus = reform.pdus.copy()
    # wall times vary run to run: they go to the manifest, so pdus.csv stays byte-identical
    timed = [c for c in pdus.columns if c.endswith("seconds")]
    for scoring, alloc in allocations.items():
        for column in [c for c in alloc.pdus.columns if c.endswith("seconds")]:
            timings[f"lp_{scoring}_{column}_sum"] = round(float(alloc.pdus[column].sum()), 4)
    pdus = pdus.drop(columns=timed)
    fte_hours = float(params["allocation.capacity.productive_hours_per_fte_year"])
    by_pdu = cases["pdu"]
    pdus["cases"] = by_pdu.value_counts()
    pdus["fte_available"] = capacity.groupby(staff["pdu"]).sum() / fte_hours
    pdus["fte_needed_assessed_need"] = need.groupby(by_pdu).sum() / fte_hours
    pdus["fte_needed_wmt"] = scores["wmt_hours"].groupby(by_pdu).sum() / fte_hours
    short = reform.cases["floor_shortfall_hours"] > 0
    pdus["contributors_shortfall_hours"] = short.groupby(by_pdu).sum().reindex(pdus.index).fillna(0)
    # where the next hour does most: the LP's shadow prices, in weighted hours and GBP (workload.marginal)
    saving = marginal.hour_savings(
        cases, need, cells[outcomes.REFORM], staff_by_cell[outcomes.REFORM], partner_by_cell[outcomes.REFORM], params
    )
    pounds = marginal.pounds_per_hour(reform.effects, saving)
    staff_values = marginal.practitioner_values(staff, reform.practitioners["hour_value"], pounds)
    pdus = pdus.join(marginal.grade_values(staff, staff_values))
    referral = reform.cases["partner_hours"] > 0
    referred = (
        pd.Series(1, index=reform.cases.index)[referral]
        .groupby([reform.cases.loc[referral, "partner_id"], by_pdu[referral]])
        .sum()
    )
    tables["partner_contracts"] = marginal.partner_values(
        reform.partners, pounds, by_pdu.value_counts(), threshold, referred
    )
    pdus.index.name = "pdu"
    all_short = int(short.sum())
    tables["pdus"] = disclosure.suppress_contributions(
        disclosure.pool_small_rows(pdus, threshold, PDU_ADDITIVE, disclosure.SMALL_PDUS), threshold, partition=True
    )
    tables["pdus"].index.name = "pdu"

    case_out = cases.loc[:, list(CASE_GROUP_COLUMNS)].copy()
    case_out = case_out.join(scores.drop(columns=["assessed_need_hours"]))
    case_out["assessed_need_hours"] = need
    case_out["low_risk_complex"] = groups["low_risk_complex"]
    case_out["baseline_practitioner_id"] = today_holder
    for name, frame in per_case.items():
        case_out[f"coverage_{name}"] = frame["coverage"]
    case_out.index.name = "case_id"

    staff_out = staff.loc[:, ["pdu", "grade"]].copy()
    staff_out = staff_out.join(
        today.practitioner_columns(staff, scores["wmt_points"], cases["current_practitioner_id"], today_holder, params)
    )
    reform_wmt = wmt.practitioner_workload(staff, scores["wmt_points"], reform.cases["practitioner_id"], params)
    staff_out = staff_out.join(
        reform.practitioners[["allocated_hours", "capacity_hours", "utilisation", "overflow_hours"]]
    )
    staff_out = staff_out.join(staff_values)
    staff_out["workload_pct_reform"] = reform_wmt["workload_pct"]
    staff_out["wmt_flag_reform"] = reform_wmt["wmt_flag"]
    today_hours = cells["wmt_today"].afforded.groupby(today_holder).sum().reindex(staff.index).fillna(0.0)
    staff_out["utilisation_baseline"] = (
        today_hours / staff_out["capacity_hours"].where(staff_out["capacity_hours"] > 0)
    ).fillna(0.0)
    staff_out.index.name = "practitioner_id"
    tables["grade_utilisation"] = today.grade_utilisation(
        staff,
        capacity,
        {"baseline": today_holder, "reform": reform.cases["practitioner_id"]},
        {"baseline": cells[outcomes.BASELINE].afforded, "reform": cells[outcomes.REFORM].afforded},
        threshold,
    )

    warnings[:] = [disclosure.redact_warning(w, threshold) for w in warnings]
    if disclosure.is_small(len(cases), threshold):
        warnings.insert(0, disclosure.whole_scenario_warning(threshold))
    summary = headline_summary(scenario, totals, staff_out, pdus, tables, scores, warnings)
    shortfall = float(reform.cases["floor_shortfall_hours"].sum())
    summary["statutory_shortfall_hours"] = None if disclosure.is_small(all_short, threshold) else shortfall
    lap("assemble")
    if tradeoff.wanted(scenario):  # the needs-scored LP again at other protection weights, on the same pool
        pool = lp.worker_count(workers, 2 * int(cases["pdu"].nunique()))
        summary["tradeoff"] = tradeoff.frontier(scenario, scores, cells, jobs[scorings.index("needs")], reform, pool)
        lap("trade-off")
    elif scenario.spec.output.tradeoff == "auto" or scenario.spec.policy.objective == "whole_life_cost":
        summary["tradeoff_skipped"] = tradeoff.skipped_note(scenario)
    contributors["contributors_statutory_shortfall_hours"] = all_short
    result = RunResult(
        scenario,
        case_out,
        staff_out,
        summary,
        tables=tables,
        timings=timings,
        warnings=warnings,
        contributors=contributors,
    )
    return result


LP_WARNING_CELLS = {
    "wmt": "WMT scoring, LP allocation",
    "needs": "the reform (needs scoring, LP allocation)",
}
"""Which cell an LP's warning concerns, by the scoring its LP allocated."""


def merge_lp_warnings(by_scoring: dict[str, list[str]]) -> list[str]:
    """The two LPs' warnings as one list: a problem both LPs report (the same words) once, saying which cells it
    concerns, so a reader sees one line per problem; in first-seen order."""
    cells: dict[str, list[str]] = {}
    for scoring, texts in by_scoring.items():
        for text in texts:
            cells.setdefault(text, [])
            if scoring not in cells[text]:
                cells[text].append(scoring)
    merged = []
    for text, scorings in cells.items():
        if len(scorings) == len(by_scoring) > 1:
            where = "both LP allocations (WMT scoring and the reform's needs scoring)"
        else:
            where = " and ".join(LP_WARNING_CELLS.get(s, f"{s}-scored LP") for s in scorings)
        merged.append(f"{where}: {text}")
    return merged


PDU_ADDITIVE = (
    "cases",
    "shortfall_hours",
    "overflow_hours",
    "fte_available",
    "fte_needed_assessed_need",
    "fte_needed_wmt",
    "contributors_shortfall_hours",
)
"""Columns of the PDU table that add up, so pooled PDU rows show their sums (the rest is per-PDU solver detail)."""


def published_count(n: int, threshold: int) -> int | None:
    """A count of cases as summary.json may give it: None (suppressed) when it is 1 to threshold - 1."""
    return None if disclosure.is_small(n, threshold) else n


def _cell_figures(row: pd.Series) -> dict[str, Any]:
    return {k: float(row[k]) for k in outcomes.CELL_FIGURES}


def headline_summary(
    scenario: Scenario,
    totals: pd.DataFrame,
    staff_out: pd.DataFrame,
    pdus: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    scores: pd.DataFrame,
    warnings: list[str],
) -> dict[str, Any]:
    """summary.json's headline numbers, each taken from the (publishable) tables written beside it."""
    by_group = tables["outcomes_by_group"]
    threshold = scenario.spec.output.suppression_threshold

    def coverage_of(dimension: str, group: str, cell: str) -> float | None:
        rows = by_group[(by_group["dimension"] == dimension) & (by_group["cell"] == cell)]
        if group not in rows.index:
            merged = [g for g in rows.index if str(g).startswith(f"{group} + ")]
            if not merged:
                return None  # absent, or pooled into the small groups' row
            group = merged[0]  # the group's figures include a few cases of groups too small to show
        return float(rows.loc[group, "coverage"])

    cells = {cell: _cell_figures(totals.loc[cell]) for cell in totals.index}
    return {
        "scenario": scenario.spec.name,
        "scoring_mode": scenario.spec.policy.scoring_mode,
        "budget_neutral_scale_factor": float(scores.attrs.get("scale_factor", 1.0)),
        "counts": {
            "cases": len(scenario.cases),
            "practitioners": len(scenario.practitioners),
            "partners": len(scenario.partners),
            "pdus": len(scenario.pdus),
            "women": published_count(int((scenario.cases["sex"] == "female").sum()), threshold),
            "unallocated_cases": published_count(
                int(scenario.cases["current_practitioner_id"].isna().sum()), threshold
            ),
        },
        "cells": cells,
        "baseline": outcomes.BASELINE,
        "reform": outcomes.REFORM,
        "net_whole_life_cost_reform_vs_baseline": cells[outcomes.REFORM]["whole_life_cost"]
        - cells[outcomes.BASELINE]["whole_life_cost"],
        "coverage_women": {cell: coverage_of("sex", "female", cell) for cell in cells},
        "coverage_men": {cell: coverage_of("sex", "male", cell) for cell in cells},
        "coverage_low_risk_complex": {cell: coverage_of("low_risk_complex", "yes", cell) for cell in cells},
        "fte": {
            "available": float(pdus["fte_available"].sum()),
            "needed_for_assessed_need": float(pdus["fte_needed_assessed_need"].sum()),
            "needed_for_wmt_hours": float(pdus["fte_needed_wmt"].sum()),
        },
        "baseline_rule": str(scenario.params["wmt.baseline_allocation.rule"]),
        "practitioners_red_current": today.red_count(staff_out, "wmt_flag"),
        "practitioners_red_baseline": today.red_count(staff_out, "wmt_flag_baseline"),
        "practitioners_red_reform": today.red_count(staff_out, "wmt_flag_reform"),
        "baseline_rule_sensitivity": today.records(tables["baseline_rules"]),
        "grade_utilisation": today.records(tables["grade_utilisation"]),
        "statutory_shortfall_hours": float(pdus["shortfall_hours"].sum()) if "shortfall_hours" in pdus else 0.0,
        "overflow_hours": float(pdus["overflow_hours"].sum()) if "overflow_hours" in pdus else 0.0,
        "continuity": scenario.spec.policy.continuity,
        "suppression_threshold": scenario.spec.output.suppression_threshold,
    }


WriteJob = tuple[Callable[..., None], tuple[Any, ...]]
"""A file to write: (function, arguments)."""


def _start_aside(
    pool: ProcessPoolExecutor | None, writes: list[WriteJob]
) -> list[tuple[Future[None] | None, WriteJob]]:
    """Start ``writes`` on ``pool`` (none started when there is no pool, or it is broken)."""
    if pool is None:
        return [(None, job) for job in writes]
    try:
        return [(pool.submit(job[0], *job[1]), job) for job in writes]
    except (BrokenProcessPool, RuntimeError):
        return [(None, job) for job in writes]


def _finish_aside(started: list[tuple[Future[None] | None, WriteJob]]) -> None:
    """Wait for the writes started by :func:`_start_aside`; those not started, or lost with a worker, are done here
    (an error in the writing itself is raised, as it would be here)."""
    for future, (write, arguments) in started:
        if future is not None:
            try:
                future.result()
                continue
            except BrokenProcessPool:
                pass
        write(*arguments)


def _abandon_aside(started: list[tuple[Future[None] | None, WriteJob]]) -> None:
    """The run failed while writes started by :func:`_start_aside` may still run: cancel those not begun and wait
    for the others (their errors ignored), so that nothing is written into the folder once it is removed."""
    running = [future for future, _ in started if future is not None and not future.cancel()]
    for future in running:
        with contextlib.suppress(Exception):  # the run's own error is the one raised
            future.result()


def write_run(result: RunResult, out: Path, force: bool = False) -> Path:
    """Write the run folder atomically: CSVs, summary.json, the resolved scenario and a manifest.

    Everything but manifest.json is a pure function of the inputs (byte-identical across runs); the
    manifest holds what varies (timings, machine, time of day).
    """
    out = Path(out)
    with atomic_folder(out, force=force, kind="run", protected=[result.scenario.folder]) as tmp:
        # the largest files are written by the run's LP workers, idle by now, while this process writes the rest
        # (to absolute paths: a worker's working folder is the one it started in)
        folder = tmp.absolute()
        aside = ["allocations"] if "allocations" in result.tables else []
        pending = _start_aside(
            running_pool(),
            [
                (write_csv, (result.cases, folder / "cases.csv")),
                (write_caseload_sheets, (caseload_sheets(result), folder / "caseload.xlsx")),
            ]
            + [(write_csv, (result.tables[name], folder / f"{name}.csv")) for name in aside],
        )
        try:
            write_csv(result.practitioners, tmp / "practitioners.csv")
            for name, table in result.tables.items():
                if name not in aside:
                    write_csv(table, tmp / f"{name}.csv")
            result.summary["version"] = __version__
            result.summary["warnings"] = list(result.warnings)
            write_json(result.summary, tmp / "summary.json")
            write_json(resolved_scenario(result.scenario), tmp / "scenario.resolved.json")
            write_report(result, tmp, caseload=False)
            _finish_aside(pending)
        except BaseException:
            _abandon_aside(pending)
            raise
        write_json(
            {
                "version": __version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "stage_seconds": result.timings,
                "scenario_path": str(result.scenario.path),
            },
            tmp / "manifest.json",
        )
    return out
