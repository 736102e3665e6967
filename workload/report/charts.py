"""The run report's charts: matplotlib :class:`~matplotlib.figure.Figure` objects (never pyplot) saved as inline SVG
with stable ids, so the same run gives the same bytes."""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from workload.outcomes import BASELINE, CELL_LABELS, REFORM, TOTAL
from workload.report.formats import CELL_SHORT

SVG_SETTINGS = {"svg.hashsalt": "workload"}
"""Stable element ids in the charts, so the same run gives the same bytes. Applied only while a chart is
saved: importing this module changes no matplotlib setting and no backend (charts are drawn on
:class:`matplotlib.figure.Figure` objects, never through pyplot)."""

COLOURS = {"wmt_today": "#7f7f7f", "needs_today": "#b5a642", "wmt_lp": "#5b8fd6", "needs_lp": "#1b7f5f"}


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one set of axes, made without pyplot (no backend, no global figure list)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def cell_label(name: str) -> str:
    """A cell's name on two lines under a bar: "WMT today\n(baseline)", "Needs,\ntoday's allocation"."""
    return name.replace(" (", "\n(") if "(" in name else name.replace(", ", ",\n")


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
    fig = Figure(figsize=(9, 3.4))
    axes = fig.subplots(1, 2)
    labels = [cell_label(CELL_SHORT[c]) for c in totals.index]
    colours = [COLOURS[c] for c in totals.index]
    axes[0].bar(labels, totals["coverage"].astype(float) * 100, color=colours)
    axes[0].set_ylabel("% of assessed need met")
    axes[0].set_ylim(0, 100)
    axes[1].bar(labels, totals["unmet_hours"].astype(float), color=colours)
    axes[1].set_ylabel("unmet hours a year")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="x", labelsize=7)
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
    """Stacked bars: staff, partner, reoffending, children's and near-miss costs in each cell (GBP million a year)."""
    parts = [
        p for p in ("staff_cost", "partner_cost", "reoffending_cost", "children_cost", "near_miss_cost") if p in totals
    ]
    colours = ["#1f4e79", "#8fbc8f", "#c0504d", "#e4a33a", "#7f6fa8"]
    fig, ax = _figure((8, 3))
    bottom = np.zeros(len(totals))
    labels = [cell_label(CELL_SHORT[c]) for c in totals.index]
    for part, colour in zip(parts, colours):
        values = totals[part].astype(float).to_numpy() / 1e6
        ax.bar(labels, values, bottom=bottom, color=colour, label=part.replace("_", " "))
        bottom += values
    ax.set_ylabel("GBP million a year")
    ax.legend(fontsize=8, frameon=False, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.25))
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


COMPARE_COLOURS = ("#9e9e9e", COLOURS[REFORM])
"""Run A and run B in the comparison's chart."""


def _paired_bars(ax: Axes, labels: list[str], pairs: list[tuple[Any, Any]], names: tuple[str, str]) -> None:
    """A's and B's share of assessed need met side by side for each label; a figure not published has no bar."""
    x = np.arange(len(labels))
    for i, (name, colour) in enumerate(zip(names, COMPARE_COLOURS)):
        values = [float("nan") if p[i] is None or pd.isna(p[i]) else float(p[i]) * 100 for p in pairs]
        bars = ax.bar(x + (i - 0.5) * 0.38, values, width=0.38, color=colour, label=name)
        ax.bar_label(bars, labels=["" if math.isnan(v) else f"{v:.1f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, labels)
    ax.set_ylabel("% of assessed need met")
    ax.set_ylim(0, 105)
    ax.spines[["top", "right"]].set_visible(False)


def chart_compare(cells: list[tuple[str, Any, Any]], groups: list[tuple[str, Any, Any]], names: tuple[str, str]) -> str:
    """Two runs side by side: the share of assessed need met in each cell (left) and, under the reform, for each
    group (right); ``cells`` and ``groups`` are (label, A, B) with shares from 0 to 1, None where not published."""
    fig = Figure(figsize=(10, 3.4))
    axes = fig.subplots(1, 2, width_ratios=[max(len(cells), 1), max(len(groups), 1)])
    labels = [cell_label(c[0]) for c in cells]
    _paired_bars(axes[0], labels, [c[1:] for c in cells], names)
    axes[0].set_title("By way of working", fontsize=10)
    _paired_bars(axes[1], [g[0].replace(", ", ",\n") for g in groups], [g[1:] for g in groups], names)
    axes[1].set_title(f"By group, {CELL_SHORT[REFORM]}", fontsize=10)
    axes[0].legend(fontsize=9, frameon=False, ncol=2, loc="upper left", bbox_to_anchor=(0.0, -0.3))
    fig.tight_layout()
    return _svg(fig)
