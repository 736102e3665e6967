"""The run report: a self-contained report.html (charts inline as SVG, no network) and report.xlsx.

The HTML holds only aggregate, small-cell-suppressed tables: no case-level data. The workbook has one sheet
per published table with units in the headers.
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from workload.outcomes import BASELINE, CELL_LABELS, CELLS, REFORM, TOTAL
from workload.output import FLOAT_FORMAT
from workload.safety import escape_formulas

SVG_SETTINGS = {"svg.hashsalt": "workload"}
"""Stable element ids in the charts, so the same run gives the same bytes. Applied only while a chart is
saved: importing this module changes no matplotlib setting and no backend (charts are drawn on
:class:`matplotlib.figure.Figure` objects, never through pyplot)."""

UNITS = {
    "cases": "cases",
    "required_hours": "h/yr",
    "afforded_hours": "h/yr",
    "partner_hours": "h/yr",
    "unmet_hours": "h/yr",
    "excess_hours": "h/yr",
    "hours_per_case": "h/case/yr",
    "coverage": "share",
    "moved": "cases",
    "staff_cost": "GBP/yr",
    "partner_cost": "GBP/yr",
    "reoffending_cost": "GBP/yr",
    "children_cost": "GBP/yr",
    "whole_life_cost": "GBP/yr",
    "fte_available": "FTE",
    "fte_needed_assessed_need": "FTE",
    "fte_needed_wmt": "FTE",
    "shortfall_hours": "h/yr",
    "seconds": "s",
    "net_cost_at_low": "GBP/yr",
    "net_cost_central": "GBP/yr",
    "net_cost_at_high": "GBP/yr",
    "swing": "GBP/yr",
    "net_whole_life_cost_reform_vs_baseline": "GBP/yr",
    "capacity_hours": "h/yr",
    "hours_given": "h/yr",
    "utilisation": "share",
    "practitioners": "people",
    "practitioners_red_baseline": "people",
    "unplaced_cases": "cases",
}
"""Units shown in headers, by column name (prefix match for per-cell columns)."""

PUBLISHED_TABLES = (
    "totals",
    "outcomes_by_group",
    "equity",
    "sensitivity",
    "baseline_rules",
    "grade_utilisation",
    "pdus",
)
"""Tables that go into report.xlsx (aggregates only; case-level tables stay in the CSVs)."""

COLOURS = {"wmt_today": "#7f7f7f", "needs_today": "#b5a642", "wmt_lp": "#5b8fd6", "needs_lp": "#1b7f5f"}


def unit_of(column: str) -> str | None:
    """The unit of a column, matching per-cell columns such as ``coverage_needs_lp`` by their prefix."""
    if column in UNITS:
        return UNITS[column]
    for key, unit in UNITS.items():
        if column.startswith(key + "_"):
            return unit
    if column.startswith("coverage_ratio"):
        return "ratio"
    return None


def with_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Column headers with their units appended, e.g. ``required_hours (h/yr)``."""
    return frame.rename(columns={c: f"{c} ({unit_of(c)})" if unit_of(c) else c for c in frame.columns})


# ----------------------------------------------------------------------------------------------------------
# charts


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one set of axes, made without pyplot (no backend, no global figure list)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_SETTINGS):  # type: ignore[arg-type]
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    svg = text[start:]
    return svg.replace("<svg ", '<svg role="img" class="chart" preserveAspectRatio="xMinYMin meet" ', 1)


def chart_cells(totals: pd.DataFrame) -> str:
    """Bar chart: share of assessed need met, and hours unmet, in each of the four cells."""
    fig = Figure(figsize=(8, 3))
    axes = fig.subplots(1, 2)
    labels = [c.replace("_", "\n") for c in totals.index]
    colours = [COLOURS[c] for c in totals.index]
    axes[0].bar(labels, totals["coverage"].astype(float) * 100, color=colours)
    axes[0].set_ylabel("% of assessed need met")
    axes[0].set_ylim(0, 100)
    axes[1].bar(labels, totals["unmet_hours"].astype(float), color=colours)
    axes[1].set_ylabel("unmet hours a year")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def chart_groups(by_group: pd.DataFrame, dimension: str, title: str) -> str:
    """Grouped bars: coverage of each group, baseline beside reform (suppressed groups left out)."""
    rows = by_group[(by_group["dimension"] == dimension) & (by_group["cell"].isin([BASELINE, REFORM]))]
    groups = [g for g in dict.fromkeys(rows.index) if g != TOTAL]
    fig, ax = _figure((8, 3))
    x = np.arange(len(groups))
    for i, cell in enumerate((BASELINE, REFORM)):
        part = rows[rows["cell"] == cell]
        values = [float(part.loc[g, "coverage"]) * 100 if g in part.index else 0.0 for g in groups]
        ax.bar(x + (i - 0.5) * 0.38, values, width=0.38, color=COLOURS[cell], label=CELL_LABELS[cell])
    ax.set_xticks(x, [str(g) for g in groups])
    ax.set_ylabel("% of assessed need met")
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def chart_costs(totals: pd.DataFrame) -> str:
    """Stacked bars: staff, partner, reoffending and children's costs in each cell (GBP million a year)."""
    parts = ["staff_cost", "partner_cost", "reoffending_cost", "children_cost"]
    colours = ["#1f4e79", "#8fbc8f", "#c0504d", "#e4a33a"]
    fig, ax = _figure((8, 3))
    bottom = np.zeros(len(totals))
    labels = [c.replace("_", "\n") for c in totals.index]
    for part, colour in zip(parts, colours):
        values = totals[part].astype(float).to_numpy() / 1e6
        ax.bar(labels, values, bottom=bottom, color=colour, label=part.replace("_", " "))
        bottom += values
    ax.set_ylabel("GBP million a year")
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def chart_sensitivity(table: pd.DataFrame) -> str:
    """Tornado chart: net whole-life cost of the reform as each assumption moves from low to high."""
    fig, ax = _figure((8, 0.45 * len(table) + 1))
    central = float(table["net_cost_central"].iloc[0]) / 1e6 if len(table) else 0.0
    names = list(table.index)[::-1]
    lows = table["net_cost_at_low"].astype(float).to_numpy()[::-1] / 1e6
    highs = table["net_cost_at_high"].astype(float).to_numpy()[::-1] / 1e6
    y = np.arange(len(names))
    ax.barh(y, lows - central, left=central, color="#5b8fd6", label="at low value")
    ax.barh(y, highs - central, left=central, color="#c0504d", label="at high value")
    ax.axvline(central, color="black", linewidth=0.8)
    ax.set_yticks(y, [n.replace("_", " ") for n in names])
    ax.set_xlabel("net whole-life cost of reform vs baseline, GBP million a year (negative = saving)")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


WORKLOAD_SERIES = (
    ("workload_pct", "wmt_flag", "today on the WMT screen", "#bdbdbd"),
    ("workload_pct_baseline", "wmt_flag_baseline", "after today's way of allocating the new cases", COLOURS[BASELINE]),
    ("workload_pct_reform", "wmt_flag_reform", "reform (LP)", COLOURS[REFORM]),
)
"""The workload chart's series: practitioners.csv's workload % column, its flag column, label and colour."""

SPARE_HOURS_TEXT = {
    "demand": "spread over them by the hours their tiers budget, none beyond a case's assessed need",
    "need": "to the cases whose assessed need is above what their tiers budget, in proportion to the gap",
    "idle": "in this run it does not: the hours are left idle, the bound most favourable to the reform",
}
"""How the report words ``outcomes.today.spare_hours``."""

WORKLOAD_AXIS_PCT = 300.0
"""The workload chart's axis ends here; practitioners above it are counted in its last bar, and the chart says how
many (the red counts come from the flags, never from the axis)."""


def workload_chart_data(practitioners: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The workload chart's series: each one's workload % of every practitioner with available points (as
    practitioners.csv holds it, not capped) and its red count (from the flag column, over all practitioners,
    as summary.json's ``practitioners_red_*`` count them)."""
    holders = practitioners[practitioners["available_points"].astype(float) > 0]
    return {
        column: {
            "label": label,
            "colour": colour,
            "values": holders[column].astype(float).to_numpy(),
            "red": int((practitioners[flag] == "red").sum()),
        }
        for column, flag, label, colour in WORKLOAD_SERIES
    }


def chart_workload(practitioners: pd.DataFrame, red_pct: float) -> str:
    """Practitioners by WMT workload %: today on the screen, after the baseline places the new cases, and under
    the reform, with the red threshold marked; each series' red count in its label, from the same flag column
    as summary.json's ``practitioners_red_*``. Not capped at 100%."""
    fig, ax = _figure((8, 3.2))
    series = workload_chart_data(practitioners)
    top = max([red_pct, *(float(s["values"].max(initial=0.0)) for s in series.values())])
    end = min(WORKLOAD_AXIS_PCT, 10.0 * math.ceil(top / 10.0) + 10.0)
    bins = np.arange(0.0, end + 10.0, 10.0).tolist()
    beyond = max(int((s["values"] > end).sum()) for s in series.values())
    for s in series.values():
        ax.hist(
            np.clip(s["values"], 0, end),
            bins=bins,
            histtype="step",
            linewidth=1.8,
            color=s["colour"],
            label=f"{s['label']}: {s['red']} red",
        )
    ax.axvline(red_pct, color="#c0504d", linestyle="--", linewidth=1)
    ax.annotate(
        f"red above {red_pct:g}%",
        (red_pct, 0.5),
        xycoords=("data", "axes fraction"),
        xytext=(-11, 0),
        rotation=90,
        va="center",
        textcoords="offset points",
        fontsize=8,
        color="#c0504d",
    )
    note = f" ({beyond} above {end:g}% counted in the last bar)" if beyond else ""
    ax.set_xlabel(f"WMT workload % (points / available points){note}")
    ax.set_ylabel("practitioners")
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


TRADEOFF_COLUMNS = {
    "coverage_ab": "A and B cases: coverage",
    "protection_minimum_met": "Protection minimum met",
    "coverage_low_risk_complex": "Low risk, complex needs",
    "coverage_women": "Women",
    "coverage_worst_tenth": "Worst-served tenth",
    "coverage_all": "All cases",
}
"""The trade-off table's columns (summary.json's ``tradeoff`` figures) and their plain headers."""

TRADEOFF_TODAY = {"today": "today (WMT)", "needs_today": "today's allocation, needs scoring"}


def _weight_label(weight: float) -> str:
    return f"×{weight:g}"


def _frontier_xy(points: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """The frontier's points in percent: coverage of A and B cases, and of the "low risk, complex needs" group."""
    return (
        [float(p["coverage_ab"]) * 100 for p in points],
        [float(p["coverage_low_risk_complex"]) * 100 for p in points],
    )


def frontier_spread(points: list[dict[str, Any]]) -> float:
    """How far apart the frontier's points lie, in percentage points (the larger of the two axes' ranges)."""
    x, y = _frontier_xy(points)
    return max(max(x) - min(x), max(y) - min(y))


SPREAD_TOL = 0.1
"""Percentage points: a frontier narrower than this is drawn and described as one point."""


def _label_frontier(ax: Axes, points: list[dict[str, Any]]) -> None:
    """Each point's weight beside it; points within :data:`SPREAD_TOL` of an earlier one share its label."""
    x, y = _frontier_xy(points)
    places: dict[tuple[float, float], list[str]] = {}
    for p, px, py in zip(points, x, y):
        label = _weight_label(p["protection_weight"]) + (" (chosen)" if p["chosen"] else "")
        near = [k for k in places if abs(k[0] - px) < SPREAD_TOL and abs(k[1] - py) < SPREAD_TOL]
        places.setdefault(near[0] if near else (px, py), []).append(label)
    for i, ((px, py), labels) in enumerate(places.items()):
        offset = (6, 7) if i % 2 == 0 else (6, -13)
        ax.annotate(", ".join(labels), (px, py), textcoords="offset points", xytext=offset, fontsize=8)


def _draw_frontier(ax: Axes, points: list[dict[str, Any]]) -> None:
    x, y = _frontier_xy(points)
    ax.plot(x, y, "-o", color=COLOURS[REFORM], markersize=5, label="LP at each protection weight")
    chosen = [i for i, p in enumerate(points) if p["chosen"]]
    ax.plot(
        [x[i] for i in chosen],
        [y[i] for i in chosen],
        "o",
        markersize=13,
        markerfacecolor="none",
        markeredgecolor="black",
        markeredgewidth=1.5,
        label="chosen policy (×1)",
    )
    ax.spines[["top", "right"]].set_visible(False)


def chart_tradeoff(tradeoff: dict[str, Any]) -> str:
    """The frontier: coverage of protect levels A and B against the "low risk, complex needs" group's, one marker
    per protection weight joined in order of weight, the chosen policy ringed, and today's allocation labelled.

    The left panel shows the frontier beside today; when its points are spread out, the right panel shows them
    close up, each labelled with its weight.
    """
    points = tradeoff["points"]
    spread = frontier_spread(points) >= SPREAD_TOL
    fig = Figure(figsize=(9, 4))
    axes = fig.subplots(1, 2, width_ratios=[1.15, 1]) if spread else [fig.subplots()]
    _draw_frontier(axes[0], points)
    if not spread:
        _label_frontier(axes[0], points)
    markers = {"today": ("s", COLOURS[BASELINE]), "needs_today": ("D", COLOURS["needs_today"])}
    for key, (marker, colour) in markers.items():
        today = tradeoff.get(key)
        if today and today["coverage_ab"] is not None and today["coverage_low_risk_complex"] is not None:
            tx, ty = float(today["coverage_ab"]) * 100, float(today["coverage_low_risk_complex"]) * 100
            axes[0].plot(tx, ty, marker, color=colour, markersize=8, label=TRADEOFF_TODAY[key])
            axes[0].annotate(TRADEOFF_TODAY[key], (tx, ty), textcoords="offset points", xytext=(7, -11), fontsize=8)
    axes[0].margins(0.12)
    axes[0].set_title("The frontier beside today", fontsize=10)
    if spread:
        _draw_frontier(axes[1], points)
        _label_frontier(axes[1], points)
        axes[1].margins(0.25)
        for axis in (axes[1].xaxis, axes[1].yaxis):
            axis.set_major_formatter(FormatStrFormatter("%.1f"))
        axes[1].set_title("The frontier, close up", fontsize=10)
    for ax in axes:
        ax.set_xlabel("public protection: % of need met,\nprotect levels A and B")
    axes[0].set_ylabel("need equity: % of need met,\n'low risk, complex needs'")
    axes[0].legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    fig.tight_layout()
    return _svg(fig)


def _share(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value) * 100:.1f}%"


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


def _format(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        unit = unit_of(column)
        if unit in ("cases", "people"):
            return f"{round(float(value)):,}"
        if unit == "share":
            return f"{float(value) * 100:.1f}%"
        if unit == "ratio":
            return f"{float(value):.2f}"
        if unit == "GBP/yr":
            return ("−" if float(value) < 0 else "") + f"£{abs(float(value)):,.0f}"
        if abs(float(value)) >= 100:
            return f"{float(value):,.0f}"
        return f"{float(value):,.2f}"
    return str(value)


def html_table(frame: pd.DataFrame, columns: list[str] | None = None, index_label: str = "") -> dict[str, Any]:
    """A table as header and formatted rows for the template (units in the header)."""
    columns = columns or [c for c in frame.columns if c != "pooled_groups"]
    header = [index_label] + [f"{c.replace('_', ' ')}" + (f" ({unit_of(c)})" if unit_of(c) else "") for c in columns]
    rows = []
    for key, row in frame.iterrows():
        pooled = bool(row.get("pooled_groups", 0)) if "pooled_groups" in frame.columns else False
        cells = [_format(row[c], c) for c in columns]
        rows.append({"key": str(key), "cells": cells, "pooled": pooled})
    return {"header": header, "rows": rows}


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


def workbook_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A published table as the workbook shows it: units in the headers, numbers at the CSVs' precision
    (10 significant figures, so the workbook is byte-identical whenever the CSVs are, whatever the order
    sums were taken in), and no text cell that a spreadsheet would run as a formula."""
    frame = frame.copy()
    for name in [c for c, dtype in frame.dtypes.items() if dtype.kind == "f"]:
        values = frame[name].to_numpy(dtype=float)
        frame[name] = np.array([float(FLOAT_FORMAT % v) for v in values.tolist()], dtype=float)
    return escape_formulas(with_units(frame))


def _missing(value: Any) -> bool:
    """A figure not published (None, or NaN from the disclosure rule): shown as "–"."""
    return value is None or (isinstance(value, float) and math.isnan(value))


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
    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as writer:
        notes = pd.DataFrame(
            {
                "note": [
                    f"Scenario: {result.summary['scenario']}",
                    f"Groups counting fewer than {result.summary['suppression_threshold']} cases are never shown alone: they are pooled into '(small groups)' ('(small PDUs)'), or, if the pool is still too small, into the largest group, so no small group can be worked out from any total. A figure that comes from fewer cases than that (partner hours, the children's cost, excess hours, moves, public-protection shortfall), and the figures it could be worked out from, are left blank.",
                    "Hours are practitioner hours per case per year; coverage is the share of assessed need met.",
                    "Cells: " + "; ".join(f"{k} = {v}" for k, v in CELL_LABELS.items()),
                ]
            }
        )
        escape_formulas(notes).to_excel(writer, sheet_name="notes", index=False)
        for name in PUBLISHED_TABLES:
            if name in result.tables:
                workbook_table(result.tables[name]).to_excel(writer, sheet_name=name[:31])
    _stamp_workbook(xlsx_path)
    return [html_path, xlsx_path]


WORKBOOK_TIME = "2000-01-01T00:00:00Z"
"""The created/modified time written into report.xlsx: a fixed one, so identical runs give identical
bytes (the run's real time is in manifest.json)."""


def _stamp_workbook(path: Path) -> None:
    """Rewrite a workbook so that it depends only on its contents: every zip entry dated 1980-01-01 (the
    zip format's earliest date) and the document's created and modified times set to :data:`WORKBOOK_TIME`."""
    with zipfile.ZipFile(path) as book:
        entries = [(info.filename, book.read(info)) for info in book.infolist()]
    stamped = path.with_name(path.name + ".stamped")
    with zipfile.ZipFile(stamped, "w") as book:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + WORKBOOK_TIME.encode() + rb"\g<3>",
                    data,
                )
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # as written on Unix, whatever the platform (the bytes also need the same zlib)
            book.writestr(info, data)
    os.replace(stamped, path)
