"""Compare two run folders: the same headline figures and tables, side by side, with the difference.

A policy analyst runs a scenario twice (say, with and without a women's specialist pool, or with a changed
parameter) and asks what moved. ``workload compare RUN_A RUN_B`` reads each run's summary.json and
totals.csv and prints, for every cell and headline figure, A, B and B - A; with ``--out`` it also writes
compare.csv and a small self-contained compare.html.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workload.errors import InputError, Problem
from workload.output import atomic_folder, write_csv

HEADLINE_KEYS = (
    "coverage",
    "unmet_hours",
    "afforded_hours",
    "partner_hours",
    "moved",
    "staff_cost",
    "partner_cost",
    "reoffending_cost",
    "children_cost",
    "whole_life_cost",
)


class RunFolderError(InputError, ValueError):
    """A folder is not a complete run folder; ``problems`` holds the one problem (code ``run.*``)."""

    def __init__(self, where: Path | str, message: str, code: str):
        super().__init__([Problem(str(where), message, code=code)])


def read_run(folder: Path) -> dict[str, Any]:
    """A run's summary.json, checked to be a run folder written by ``workload run``."""
    path = Path(folder) / "summary.json"
    if not path.is_file():
        raise RunFolderError(
            folder,
            "not a run folder (no summary.json); give a folder written by `workload run`",
            "run.not_a_run_folder",
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFolderError(path, f"is not valid JSON ({exc})", "run.summary_not_json") from None
    if "cells" not in summary:
        raise RunFolderError(path, "has no 'cells'; it was written by an older version of workload", "run.old_summary")
    return summary


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): tree}


def settings_diff(a: Path, b: Path) -> list[dict[str, Any]]:
    """The policy, output and parameter settings that differ between two runs (their scenario.resolved.json)."""
    resolved = []
    for folder in (a, b):
        path = Path(folder) / "scenario.resolved.json"
        resolved.append(json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {})
    flat = [_flat({k: r.get(k, {}) for k in ("policy", "output", "parameters_overridden")}) for r in resolved]
    rows = []
    for key in sorted(set(flat[0]) | set(flat[1])):
        va, vb = flat[0].get(key, "(default)"), flat[1].get(key, "(default)")
        if va != vb:
            item = key.replace("parameters_overridden.", "parameter ")
            rows.append({"section": "settings", "item": item, "measure": "value", "a": str(va), "b": str(vb)})
    return rows


def _warning_rows(sa: dict[str, Any], sb: dict[str, Any]) -> list[dict[str, Any]]:
    wa, wb = list(sa.get("warnings", [])), list(sb.get("warnings", []))
    rows = [
        {"section": "warnings", "item": w, "measure": "disappears", "a": "yes", "b": "no"} for w in wa if w not in wb
    ]
    rows += [{"section": "warnings", "item": w, "measure": "appears", "a": "no", "b": "yes"} for w in wb if w not in wa]
    return rows


def compare_runs(a: Path, b: Path) -> pd.DataFrame:
    """Tidy table of differences: one row per (section, item, measure) with A, B and B - A: the settings that
    differ first, then every headline figure, then the warnings that appear or disappear."""
    sa, sb = read_run(a), read_run(b)
    rows: list[dict[str, Any]] = settings_diff(a, b)
    for key, item, measure in (
        ("statutory_shortfall_hours", "public-protection minimums short, reform", "hours"),
        ("overflow_hours", "hours planned above capacity, reform", "hours"),
    ):
        rows.append({"section": "headline", "item": item, "measure": measure, "a": sa.get(key), "b": sb.get(key)})
    for cell in sa["cells"]:
        if cell not in sb["cells"]:
            continue
        for key in HEADLINE_KEYS:
            va, vb = sa["cells"][cell].get(key), sb["cells"][cell].get(key)
            rows.append({"section": "cell", "item": cell, "measure": key, "a": va, "b": vb})
    for key in ("coverage_women", "coverage_men", "coverage_low_risk_complex"):
        for cell in sa.get(key, {}):
            rows.append(
                {
                    "section": key,
                    "item": cell,
                    "measure": "coverage",
                    "a": sa[key].get(cell),
                    "b": sb.get(key, {}).get(cell),
                }
            )
    for key in ("available", "needed_for_assessed_need", "needed_for_wmt_hours"):
        rows.append({"section": "fte", "item": key, "measure": "FTE", "a": sa["fte"].get(key), "b": sb["fte"].get(key)})
    rows.append(
        {
            "section": "net",
            "item": "reform vs baseline",
            "measure": "whole_life_cost",
            "a": sa.get("net_whole_life_cost_reform_vs_baseline"),
            "b": sb.get("net_whole_life_cost_reform_vs_baseline"),
        }
    )
    for key, item in (
        ("practitioners_red_current", "today on the WMT screen"),
        ("practitioners_red_baseline", "after today's allocation of the new cases"),
        ("practitioners_red_reform", "reform"),
    ):
        rows.append(
            {
                "section": "practitioners_red",
                "item": item,
                "measure": "practitioners",
                "a": sa.get(key),
                "b": sb.get(key),
            }
        )
    rows += _warning_rows(sa, sb)
    table = pd.DataFrame(rows)
    numeric_a = pd.to_numeric(table["a"], errors="coerce")
    numeric_b = pd.to_numeric(table["b"], errors="coerce")
    table["difference"] = (numeric_b - numeric_a).where(~table["section"].isin(["settings", "warnings"]))
    return table


MONEY = ("staff_cost", "partner_cost", "reoffending_cost", "children_cost", "whole_life_cost")


def format_value(v: Any, measure: str) -> str:
    """A value as the report shows it: money −£46,692, shares 74.7%, hours and counts whole, settings as text."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "suppressed"
    if isinstance(v, str):
        return v
    if measure == "coverage":
        return f"{float(v) * 100:.1f}%"
    if measure in MONEY:
        amount = round(float(v))
        return ("−" if amount < 0 else "") + f"£{abs(amount):,}"
    if measure == "FTE":
        return f"{float(v):,.1f}"
    return f"{round(float(v)):,}"


def format_difference(d: Any, measure: str) -> str:
    if d is None or pd.isna(d):
        return ""
    if measure == "coverage":
        return f"{d * 100:+.1f} pts"
    if measure in MONEY:
        amount = round(float(d))
        return ("−" if amount < 0 else "+") + f"£{abs(amount):,}"
    if measure == "FTE":
        return f"{d:+,.1f}"
    return f"{round(float(d)):+,}"


def format_table(table: pd.DataFrame, name_a: str, name_b: str) -> str:
    """The comparison as aligned plain text for the terminal."""

    fmt = format_value

    lines = [f"{'section':<26} {'item':<26} {'measure':<18} {name_a[:16]:>16} {name_b[:16]:>16} {'B - A':>16}"]
    for r in table.itertuples():
        diff = format_difference(r.difference, r.measure)
        lines.append(
            f"{r.section:<26} {r.item:<26} {r.measure:<18} {fmt(r.a, r.measure):>16} {fmt(r.b, r.measure):>16} {diff:>16}"
        )
    return "\n".join(lines)


def write_comparison(
    table: pd.DataFrame, out: Path, name_a: str, name_b: str, force: bool = False, protected: Sequence[Path] = ()
) -> Path:
    """compare.csv and compare.html in a folder, written atomically; ``protected`` (the two runs) is never replaced."""
    with atomic_folder(out, force=force, kind="compare", protected=protected) as tmp:
        write_csv(table, tmp / "compare.csv", index=False)
        shown = pd.DataFrame(
            {
                "section": table["section"],
                "item": table["item"],
                "measure": table["measure"].str.replace("_", " "),
                "A": [format_value(v, m) for v, m in zip(table["a"], table["measure"])],
                "B": [format_value(v, m) for v, m in zip(table["b"], table["measure"])],
                "B - A": [format_difference(d, m) for d, m in zip(table["difference"], table["measure"])],
            }
        )
        body = shown.to_html(index=False, border=0)
        page = (
            "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Comparison</title>"
            "<style>body{font-family:system-ui,Arial,sans-serif;max-width:70rem;margin:auto;padding:1rem}"
            "table{border-collapse:collapse;font-size:.85rem}td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:right}"
            "td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}div{overflow-x:auto}</style></head><body>"
            f"<h1>Comparison</h1><p>A = {html.escape(name_a)}; B = {html.escape(name_b)}. Difference = B - A.</p>"
            f"<div>{body}</div></body></html>"
        )
        (tmp / "compare.html").write_text(page, encoding="utf-8")
    return out
