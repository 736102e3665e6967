"""The report's number formats and labels: one way to show money (−£46,692), shares (74.7%), ratios (0.97),
hours and counts, and a plain-English header for every published column."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

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


def _missing(value: Any) -> bool:
    """A figure not published (None, or NaN from the disclosure rule): shown as "–"."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _share(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value) * 100:.1f}%"


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
