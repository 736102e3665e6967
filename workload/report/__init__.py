"""The run report: a self-contained report.html (charts inline as SVG, no network) and report.xlsx.

The HTML holds only aggregate, small-cell-suppressed tables: no case-level data. The workbook has one sheet
per published table with units in the headers. Charts are in ``charts``, number formats and labels in ``formats``,
the headline and settings in ``headline``, the workbook in ``workbook``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from workload import outcomes
from workload.load import resolved_scenario
from workload.marginal import GRADES_VALUED
from workload.outcomes import BASELINE, CELL_LABELS, CELLS, REFORM
from workload.report.charts import (
    SPREAD_TOL,
    TRADEOFF_COLUMNS,
    TRADEOFF_TODAY,
    _figure,
    _svg,
    _weight_label,
    chart_cells,
    chart_costs,
    chart_groups,
    chart_sensitivity,
    chart_tradeoff,
    chart_workload,
    frontier_spread,
    workload_chart_data,
)
from workload.report.formats import CELL_SHORT, _share, gbp, hours, html_table, long_table, pct
from workload.report.headline import headline_cards, settings_view
from workload.report.workbook import _stamp_workbook, write_caseload_workbook, write_workbook

__all__ = ["_figure", "_stamp_workbook", "_svg", "build_context", "workload_chart_data", "write_report"]

SPARE_HOURS_TEXT = {
    "demand": "spread over them by the hours their tiers budget, none beyond a case's assessed need",
    "need": "to the cases whose assessed need is above what their tiers budget, in proportion to the gap",
    "idle": "in this run it does not: the hours are left idle, the bound most favourable to the reform",
}
"""How the report words ``outcomes.today.spare_hours``."""


def tradeoff_view(tradeoff: dict[str, Any] | None, threshold: int) -> dict[str, Any] | None:
    """The trade-off section: the chart (or, when a group is not shown, why not), the table and notes."""
    if tradeoff is None:
        return None
    rows = [
        {
            "key": _weight_label(p["protection_weight"]) + (" (chosen)" if p["chosen"] else ""),
            "cells": [_share(p[c]) for c in TRADEOFF_COLUMNS],
            "chosen": p["chosen"],
        }
        for p in tradeoff["points"]
    ]
    rows += [
        {"key": label, "cells": [_share(tradeoff[key][c]) for c in TRADEOFF_COLUMNS], "chosen": False}
        for key, label in TRADEOFF_TODAY.items()
        if key in tradeoff
    ]
    first = tradeoff["points"][0]
    hidden = [
        TRADEOFF_COLUMNS[c]
        for c in ("coverage_ab", "coverage_low_risk_complex", "coverage_women", "coverage_worst_tenth")
        if first[c] is None
    ]
    notes = []
    if hidden:
        notes.append(
            f"Not shown ({', '.join(hidden)}): the group is empty, or it or the cases outside it count fewer than "
            f"{threshold} cases (docs/model.md, 'Small cells')."
        )
    if any(p["protection_minimum_met"] is None for p in tradeoff["points"]):
        notes.append(
            f'Protection minimum met shows "–" where no case has a minimum or fewer than {threshold} cases fall '
            "short of theirs."
        )
    drawable = first["coverage_ab"] is not None and first["coverage_low_risk_complex"] is not None
    if drawable and frontier_spread(tradeoff["points"]) < SPREAD_TOL:
        notes.append(
            "Every protection weight gives nearly the same coverage here (within 0.1 percentage points on both "
            "axes): the weight is not what decides this allocation."
        )
    return {
        "chart": chart_tradeoff(tradeoff) if drawable else None,
        "header": ["Protection weight", *TRADEOFF_COLUMNS.values()],
        "rows": rows,
        "notes": notes,
        "weights": ", ".join(_weight_label(w) for w in tradeoff["protection_weights"]),
    }


# ----------------------------------------------------------------------------------------------------------
# tables as HTML


def _group_view(by_group: pd.DataFrame, dimension: str, measure: str) -> pd.DataFrame:
    """One measure of each group in the four cells, as columns ``<measure>_<cell>``, with the cases."""
    rows = by_group[by_group["dimension"] == dimension]
    wide = {f"{measure}_{cell}": rows[rows["cell"] == cell][measure] for cell in CELLS}
    base = rows[rows["cell"] == BASELINE]
    return pd.DataFrame({"cases": base["cases"], **wide, "pooled_groups": base["pooled_groups"]})


def cells_table(frame: pd.DataFrame, measure: str, index_label: str) -> dict[str, Any]:
    """A group table with one column per cell, named by the cell ("WMT today (baseline)" ...): the measure
    itself is the table's caption, not repeated in every header."""
    table = html_table(frame, columns=["cases", *[f"{measure}_{cell}" for cell in CELLS]], index_label=index_label)
    table["header"] = [index_label, "Cases", *[CELL_SHORT[cell] for cell in CELLS]]
    return table


DIMENSIONS = {
    "sex": "Sex",
    "low_risk_complex": "Low risk, complex needs",
    "protect_level": "Protect level (tier letter)",
    "ethnicity": "Ethnicity",
    "pdu": "PDU",
}
"""The group dimensions the report shows, in order, with their headers."""

CELL_FIGURES = [*outcomes.CELL_FIGURES[: outcomes.CELL_FIGURES.index("coverage") + 1], "hours_per_case"]
CELL_FIGURES += list(outcomes.CELL_FIGURES[outcomes.CELL_FIGURES.index("coverage") + 1 :])
"""The four-ways table's rows (its columns are the cells)."""

PDU_COLUMNS = [
    "cases",
    "fte_available",
    "fte_needed_wmt",
    "fte_needed_assessed_need",
    "shortfall_hours",
    "overflow_hours",
]
"""The PDU table a reader sees; the solver's figures are in a collapsed technical table and pdus.csv."""

PDU_TECHNICAL = ["status", "solver", "objective", "bound", "gap", "message"]

NEXT_HOUR = [f"hour_value_gbp_{g}" for g in GRADES_VALUED] + [f"hour_value_{g}" for g in GRADES_VALUED]
"""The "where the next hour does most" table: each grade's best next hour in each PDU, pounds then weighted hours."""

PARTNER_COLUMNS = [
    "pdu",
    "contract_hours",
    "used_hours",
    "use_share",
    "price_per_hour",
    "hour_value_gbp",
    "worth_price",
]


def _parameter_units(scenario: Any) -> dict[str, str]:
    leaves = scenario.params.leaves
    return {
        p: (leaves[p].unit if p in leaves else leaves[p.rsplit(".", 1)[0]].unit) or ""
        for p in scenario.params.overridden
    }


def build_context(result: Any) -> dict[str, Any]:
    """Everything the template shows, from the run's tables and summary."""
    tables, summary = result.tables, result.summary
    totals = tables["totals"]
    by_group = tables["outcomes_by_group"]
    threshold = summary["suppression_threshold"]
    scenario = result.scenario
    resolved = resolved_scenario(scenario)
    equity = tables["equity"].set_index("dimension", append=True)
    pdus = tables["pdus"]
    technical = [c for c in PDU_TECHNICAL if c in pdus.columns]
    return {
        "summary": summary,
        "cards": headline_cards(summary, resolved["policy"]),
        "settings": settings_view(resolved, _parameter_units(scenario)),
        "labels": CELL_LABELS,
        "short": CELL_SHORT,
        "baseline": BASELINE,
        "reform": REFORM,
        "cells_table": long_table(totals, CELL_FIGURES, index_label="Figure"),
        "cells_labels": [(CELL_SHORT[c], CELL_LABELS[c]) for c in totals.index],
        "chart_cells": chart_cells(totals),
        "chart_sex": chart_groups(by_group, "sex", "Share of assessed need met, by sex"),
        "chart_lrc": chart_groups(
            by_group, "low_risk_complex", "Share of assessed need met: 'low risk, complex needs' (yes) vs others"
        ),
        "chart_protect": chart_groups(by_group, "protect_level", "Share of assessed need met, by protect level"),
        "chart_costs": chart_costs(totals),
        "chart_sensitivity": chart_sensitivity(tables["sensitivity"]),
        "chart_workload": chart_workload(result.practitioners, float(scenario.params["wmt.red_pct"])),
        "red_pct": float(scenario.params["wmt.red_pct"]),
        "spare_hours": str(scenario.params["outcomes.today.spare_hours"]),
        "spare_hours_text": SPARE_HOURS_TEXT.get(str(scenario.params["outcomes.today.spare_hours"]), ""),
        "baseline_rules": html_table(tables["baseline_rules"], index_label="Rule"),
        "grade_utilisation": html_table(tables["grade_utilisation"], index_label="Grade"),
        "groups": [
            {
                "id": f"group-{d}",
                "title": title,
                "table": cells_table(_group_view(by_group, d, "coverage"), "coverage", title),
            }
            for d, title in DIMENSIONS.items()
        ],
        "equity": [
            {
                "title": title,
                "table": cells_table(equity.xs(d, level="dimension"), "coverage_ratio", title),
            }
            for d, title in DIMENSIONS.items()
            if d in equity.index.get_level_values("dimension")
        ],
        "sensitivity": html_table(
            tables["sensitivity"].rename(index=lambda a: str(a).replace("_", " ")), index_label="Assumption"
        ),
        "pdus": html_table(pdus, columns=[c for c in PDU_COLUMNS if c in pdus.columns], index_label="PDU"),
        "pdus_technical": html_table(pdus, columns=technical, index_label="PDU") if technical else None,
        "next_hour": html_table(pdus, columns=[c for c in NEXT_HOUR if c in pdus.columns], index_label="PDU"),
        "staff_rates": scenario.params.table("costs.staff_cost_per_hour"),
        "partner_contracts": html_table(tables["partner_contracts"], columns=PARTNER_COLUMNS, index_label="Partner")
        if len(tables.get("partner_contracts", ()))
        else None,
        "tradeoff": tradeoff_view(summary.get("tradeoff"), threshold),
        "tradeoff_skipped": summary.get("tradeoff_skipped"),
        "threshold": threshold,
        "warnings": result.warnings,
        "scenario": scenario,
        "version": summary.get("version", ""),
    }


def write_report(result: Any, folder: Path, caseload: bool = True) -> list[Path]:
    """Write report.html, report.xlsx and (unless ``caseload`` is False: the caller writes it) caseload.xlsx into
    ``folder`` (the temporary run folder)."""
    env = Environment(loader=PackageLoader("workload", "report"), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = pct
    env.filters["num"] = hours
    env.filters["gbp"] = gbp
    html = env.get_template("report.html").render(**build_context(result))
    html_path = folder / "report.html"
    html_path.write_text(html, encoding="utf-8")
    xlsx_path = folder / "report.xlsx"
    write_workbook(result, xlsx_path, resolved_scenario(result.scenario))
    caseload_path = folder / "caseload.xlsx"
    if caseload:
        write_caseload_workbook(result, caseload_path)
    return [html_path, xlsx_path, caseload_path]
