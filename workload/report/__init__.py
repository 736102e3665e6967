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
from workload.report.formats import _missing, _share, html_table
from workload.report.workbook import _stamp_workbook, write_workbook

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


def _group_view(by_group: pd.DataFrame, dimension: str) -> pd.DataFrame:
    rows = by_group[by_group["dimension"] == dimension]
    wide = {}
    for cell in CELLS:
        part = rows[rows["cell"] == cell]
        wide[f"coverage_{cell}"] = part["coverage"]
        wide[f"hours_per_case_{cell}"] = part["hours_per_case"]
    base = rows[rows["cell"] == BASELINE]
    view = pd.DataFrame({"cases": base["cases"], **wide, "pooled_groups": base["pooled_groups"]})
    return view


def build_context(result: Any) -> dict[str, Any]:
    """Everything the template shows, from the run's tables and summary."""
    tables, summary = result.tables, result.summary
    totals = tables["totals"]
    by_group = tables["outcomes_by_group"]
    threshold = summary["suppression_threshold"]
    scenario = result.scenario
    overridden = [
        {
            "path": p,
            "value": scenario.params[p],
            "unit": scenario.params.leaves[p.rsplit(".", 1)[0]].unit
            if p not in scenario.params.leaves
            else scenario.params.leaves[p].unit,
        }
        for p in scenario.params.overridden
    ]
    dimensions = {
        "sex": "Sex",
        "low_risk_complex": "Low risk, complex needs",
        "protect_level": "Protect level (tier letter)",
        "ethnicity": "Ethnicity",
        "pdu": "PDU",
    }
    sections_groups = [
        {"id": f"group-{d}", "title": title, "table": html_table(_group_view(by_group, d), index_label=title)}
        for d, title in dimensions.items()
    ]
    equity = tables["equity"]
    equity_cols = [
        "cases",
        f"coverage_{BASELINE}",
        f"coverage_{REFORM}",
        f"coverage_ratio_{BASELINE}",
        f"coverage_ratio_{REFORM}",
    ]
    return {
        "summary": summary,
        "labels": CELL_LABELS,
        "baseline": BASELINE,
        "reform": REFORM,
        "cells_table": html_table(totals.drop(columns=["label"]), index_label="cell"),
        "cells_labels": [(c, CELL_LABELS[c]) for c in totals.index],
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
        "baseline_rules": html_table(tables["baseline_rules"], index_label="rule"),
        "grade_utilisation": html_table(tables["grade_utilisation"], index_label="grade"),
        "groups": sections_groups,
        "equity": [
            {
                "title": dimensions[d],
                "table": html_table(equity[equity["dimension"] == d], columns=equity_cols, index_label=dimensions[d]),
            }
            for d in dimensions
        ],
        "sensitivity": html_table(tables["sensitivity"], index_label="assumption"),
        "pdus": html_table(
            tables["pdus"],
            columns=[
                c
                for c in [
                    "cases",
                    "fte_available",
                    "fte_needed_wmt",
                    "fte_needed_assessed_need",
                    "shortfall_hours",
                    "status",
                    "solver",
                ]
                if c in tables["pdus"].columns
            ],
            index_label="PDU",
        ),
        "tradeoff": tradeoff_view(summary.get("tradeoff"), threshold),
        "tradeoff_skipped": summary.get("tradeoff_skipped"),
        "threshold": threshold,
        "overridden": overridden,
        "warnings": result.warnings,
        "scenario": scenario,
        "version": summary.get("version", ""),
    }


def write_report(result: Any, folder: Path) -> list[Path]:
    """Write report.html and report.xlsx into ``folder`` (the temporary run folder)."""
    env = Environment(loader=PackageLoader("workload", "report"), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = lambda v: "–" if _missing(v) else f"{float(v) * 100:.1f}%"
    env.filters["num"] = lambda v: "–" if _missing(v) else f"{float(v):,.0f}"
    env.filters["gbp"] = lambda v: "–" if _missing(v) else ("−" if float(v) < 0 else "") + f"£{abs(float(v)):,.0f}"
    html = env.get_template("report.html").render(**build_context(result))
    html_path = folder / "report.html"
    html_path.write_text(html, encoding="utf-8")
    xlsx_path = folder / "report.xlsx"
    write_workbook(result, xlsx_path)
    return [html_path, xlsx_path]
