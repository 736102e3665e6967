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
    "near_miss_cost": "GBP/yr",
    "whole_life_cost": "GBP/yr",
    "budget": "GBP/yr",
    "spend": "GBP/yr",
    "outcome_cost": "GBP/yr",
    "fte": "FTE",
    "fte_available": "FTE",
    "fte_needed_assessed_need": "FTE",
    "fte_needed_wmt": "FTE",
    "shortfall_hours": "h/yr",
    "overflow_hours": "h/yr",
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
    "hour_value_gbp": "GBP/h",
    "hour_value": "wh/h",
    "price_per_hour": "GBP/h",
    "contract_hours": "h/yr",
    "used_hours": "h/yr",
    "use_share": "share",
}
"""Units shown in headers, by column name (prefix match for per-cell columns)."""


CELL_SHORT = {
    "wmt_today": "WMT today (baseline)",
    "needs_today": "Needs, today's allocation",
    "wmt_lp": "WMT, LP allocation",
    "needs_lp": "Reform (needs, LP)",
}
"""The four cells as a table's header names them (``outcomes.CELL_LABELS`` has the long names)."""

LABELS = {
    "cases": "Cases",
    "required_hours": "Assessed need",
    "afforded_hours": "Practitioner hours given",
    "partner_hours": "Partner hours",
    "unmet_hours": "Unmet need",
    "excess_hours": "Hours beyond assessed need",
    "hours_per_case": "Hours per case",
    "coverage": "Assessed need met",
    "coverage_ratio": "Disparity ratio",
    "moved": "Cases moved",
    "staff_cost": "Staff cost",
    "partner_cost": "Partner cost",
    "reoffending_cost": "Reoffending cost",
    "children_cost": "Children's cost",
    "near_miss_cost": "Near-miss cost",
    "whole_life_cost": "Whole-life cost",
    "fte_available": "FTE available",
    "fte_needed_assessed_need": "FTE to meet assessed need",
    "fte_needed_wmt": "FTE for the WMT's hours",
    "hour_value_gbp": "Next hour saves",
    "hour_value": "Next hour's value",
    "price_per_hour": "Price",
    "pdu": "PDU",
    "contract_hours": "Contract",
    "used_hours": "Used",
    "use_share": "Share of contract used",
    "worth_price": "Next hour worth its price",
    "shortfall_hours": "Public-protection minimum short",
    "overflow_hours": "Hours above capacity",
    "net_cost_at_low": "Net cost, low value",
    "net_cost_central": "Net cost, central",
    "net_cost_at_high": "Net cost, high value",
    "swing": "Swing",
    "default": "Default",
    "low": "Low",
    "high": "High",
    "net_whole_life_cost_reform_vs_baseline": "Net whole-life cost, reform vs today",
    "coverage_baseline_spare_idle": "Need met today, spare hours idle",
    "capacity_hours": "Capacity",
    "hours_given": "Hours given",
    "utilisation": "Share of capacity used",
    "practitioners": "Practitioners",
    "practitioners_red_baseline": "Practitioners in red, today",
    "unplaced_cases": "Cases left unplaced",
}
"""Plain-English names of the published columns, by column name (prefix match for per-cell or per-grade columns)."""

SUFFIXES = {"baseline": "today", "reform": "reform", **CELL_SHORT}


def _base(column: str) -> tuple[str, str]:
    """A column's measure and what it is of: ``coverage_ratio_needs_lp`` -> (``coverage_ratio``, ``needs_lp``)."""
    if column in LABELS:
        return column, ""
    for key in sorted(LABELS, key=len, reverse=True):
        if column.startswith(key + "_"):
            return key, column[len(key) + 1 :]
    return column, ""


def unit_of(column: str) -> str | None:
    """The unit of a column, matching per-cell columns such as ``coverage_needs_lp`` by their prefix."""
    if column.startswith("coverage_ratio"):
        return "ratio"
    if column in UNITS:
        return UNITS[column]
    for key, unit in UNITS.items():
        if column.startswith(key + "_"):
            return unit
    return None


HEADER_UNITS = {
    "h/yr": "h a year",
    "GBP/yr": "£ a year",
    "h/case/yr": "h a year",
    "FTE": "FTE",
    "GBP/h": "£ an hour",
    "wh/h": "weighted h an hour",
}
"""Units as a header shows them; shares, ratios, counts and people need none."""


def label(column: str, with_unit: bool = True) -> str:
    """A column's plain-English header: ``unmet_hours_needs_lp`` -> "Unmet need, Reform (needs, LP) (h a year)"."""
    base, of = _base(column)
    text = LABELS.get(base, column.replace("_", " "))
    if of:
        text += ", " + SUFFIXES.get(of, of.replace("_", " "))
    unit = HEADER_UNITS.get(unit_of(column) or "")
    return f"{text} ({unit})" if with_unit and unit else text


def with_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Column headers with their units appended, e.g. ``required_hours (h/yr)``."""
    return frame.rename(columns={c: f"{c} ({unit_of(c)})" if unit_of(c) else c for c in frame.columns})


def _missing(value: Any) -> bool:
    """A figure not published (None, or NaN from the disclosure rule): shown as "–"."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: Any) -> str:
    """A share as a percentage to one decimal: 0.747 -> "74.7%"."""
    return "–" if _missing(value) else f"{float(value) * 100:.1f}%"


_share = pct


def gbp(value: Any) -> str:
    """Money to the pound with a true minus sign: -46692.4 -> "−£46,692"."""
    if _missing(value):
        return "–"
    amount = round(float(value))
    return ("−" if amount < 0 else "") + f"£{abs(amount):,}"


def hours(value: Any) -> str:
    """Hours to the hour: 3045.9 -> "3,046"."""
    return "–" if _missing(value) else f"{round(float(value)):,}"


def ratio(value: Any) -> str:
    """A ratio to two decimals: 0.9734 -> "0.97"."""
    return "–" if _missing(value) else f"{float(value):.2f}"


def _format(value: Any, column: str) -> str:
    if _missing(value):
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
            return pct(value)
        if unit == "ratio":
            return ratio(value)
        if unit in ("GBP/yr", "GBP/h"):
            return gbp(value)
        if unit == "h/yr":
            return hours(value)
        if unit == "h/case/yr":
            return f"{float(value):,.1f}"
        if unit == "FTE":
            return f"{float(value):,.1f}"
        if abs(float(value)) >= 100:
            return f"{float(value):,.0f}"
        return f"{float(value):,.2f}"
    return str(value)


def html_table(
    frame: pd.DataFrame,
    columns: list[str] | None = None,
    index_label: str = "",
    keys: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A table as header and formatted rows for the template (plain-English headers with units); ``keys`` renames
    row keys (cell codes to their names)."""
    columns = columns or [c for c in frame.columns if c != "pooled_groups"]
    header = [index_label] + [label(c) for c in columns]
    rows = []
    for key, row in frame.iterrows():
        pooled = bool(row.get("pooled_groups", 0)) if "pooled_groups" in frame.columns else False
        cells = [_format(row[c], c) for c in columns]
        rows.append({"key": (keys or {}).get(str(key), str(key)), "cells": cells, "pooled": pooled})
    return {"header": header, "rows": rows}


def long_table(frame: pd.DataFrame, columns: list[str], index_label: str = "") -> dict[str, Any]:
    """A wide table turned long to fit a page: one row per figure (its label), one column per row of ``frame``
    (cells become columns: "WMT today (baseline)" ... "Reform (needs, LP)")."""
    header = [index_label] + [CELL_SHORT.get(str(k), str(k)) for k in frame.index]
    rows = [
        {"key": label(c), "cells": [_format(frame.loc[k, c], c) for k in frame.index], "pooled": False}
        for c in columns
        if c in frame.columns
    ]
    return {"header": header, "rows": rows}
