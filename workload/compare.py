"""Compare two run folders: the same headline figures and tables, side by side, with the difference.

A policy analyst runs a scenario twice (say, with and without a women's specialist pool, or with a changed
parameter) and asks what moved. ``workload compare RUN_A RUN_B`` reads each run's summary.json and
totals.csv and prints, for every cell and headline figure, A, B and B - A; with ``--out`` it also writes
compare.csv and a small self-contained compare.html.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workload.errors import InputError, Problem
from workload.load import resolved_scenario
from workload.outcomes import REFORM
from workload.output import atomic_folder, jsonable, write_csv
from workload.pipeline import RunResult
from workload.report.charts import chart_compare
from workload.report.formats import CELL_SHORT, gbp, hours, label, pct

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
    "near_miss_cost",
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


def _as_written(data: Any) -> Any:
    """``data`` as its JSON file in a run folder holds it (floats rounded, keys sorted, numpy values plain)."""
    return json.loads(json.dumps(jsonable(data), sort_keys=True))


def _run(run: Path | RunResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run's summary and resolved scenario: read from its folder, or taken from a result in memory exactly as
    ``write_run`` would write them."""
    if isinstance(run, RunResult):
        return _as_written(run.summary), _as_written(resolved_scenario(run.scenario))
    path = Path(run) / "scenario.resolved.json"
    return read_run(Path(run)), json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def settings_diff(resolved: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The policy, output and parameter settings that differ between two runs (their resolved scenarios)."""
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


def compare_runs(a: Path | RunResult, b: Path | RunResult) -> pd.DataFrame:
    """Tidy table of differences: one row per (section, item, measure) with A, B and B - A: the settings that
    differ first, then every headline figure, then the warnings that appear or disappear.

    ``a`` and ``b`` are run folders or results of :func:`workload.run` (then nothing need be written)."""
    (sa, ra), (sb, rb) = _run(a), _run(b)
    rows: list[dict[str, Any]] = settings_diff([ra, rb])
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


MONEY = ("staff_cost", "partner_cost", "reoffending_cost", "children_cost", "near_miss_cost", "whole_life_cost")

GROUPS = {
    "coverage_women": "Women",
    "coverage_men": "Men",
    "coverage_low_risk_complex": "Low risk, complex needs",
}
"""The groups whose share of assessed need met compare shows, by their summary.json key."""

FTE = {
    "available": "FTE available",
    "needed_for_assessed_need": "FTE to meet assessed need",
    "needed_for_wmt_hours": "FTE for the WMT's hours",
}

SECTIONS = {
    "settings": "Settings that differ",
    "headline": "Public protection and capacity",
    "fte": "Staff (FTE)",
    "net": "Net whole-life cost",
    "practitioners_red": "Practitioners in the WMT's red band",
    "warnings": "Warnings that appear or disappear",
    **{key: f"{name}: share of assessed need met" for key, name in GROUPS.items()},
}
"""Each section's title; the ``cell`` section is shown as one section per cell, titled by the cell's name."""


def format_value(v: Any, measure: str) -> str:
    """A value as the report shows it: money −£46,692, shares 74.7%, hours and counts whole, settings as text;
    a figure not published (the disclosure rule) as "–"."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, str):
        return v
    if measure == "coverage":
        return pct(v)
    if measure in MONEY:
        return gbp(v)
    if measure == "FTE":
        return f"{float(v):,.1f}"
    return hours(v)


def _signed(text: str, d: float) -> str:
    """A difference with its sign (a true minus, or a plus); none where it shows as nothing (0, 0.0 pts, £0)."""
    if not any(ch in "123456789" for ch in text):
        return text
    return ("−" if d < 0 else "+") + text


def format_difference(d: Any, measure: str) -> str:
    """B - A as the report would show it, signed: +1.5 pts, −£25,098, +57; no change as 0."""
    if d is None or pd.isna(d):
        return ""
    d = float(d)
    if measure == "coverage":
        text = f"{abs(d) * 100:.1f} pts"
    elif measure in MONEY:
        text = gbp(abs(d))
    elif measure == "FTE":
        text = f"{abs(d):,.1f}"
    else:
        text = hours(abs(d))
    return _signed(text, d)


def _item_name(section: str, item: str, measure: str) -> str:
    """A row's name in words: a cell's figure by its label, a cell by its name, a setting by its key."""
    if section == "cell":
        return label(measure)
    if section in GROUPS:
        return CELL_SHORT.get(item, item)
    if section == "fte":
        return FTE.get(item, item)
    if section == "net":
        return "Reform (needs, LP) vs WMT today (baseline)"
    if section == "headline":
        return item[0].upper() + item[1:] + " (h a year)"
    if section == "warnings":
        return f"{item} ({measure})"
    if section == "practitioners_red":
        return item[0].upper() + item[1:]
    return item


def compare_view(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The comparison as the terminal and compare.html show it: sections in the table's order (each cell its own
    section, named "WMT today (baseline)" ... "Reform (needs, LP)"), rows named in words, figures formatted."""
    sections: dict[str, dict[str, Any]] = {}
    for r in table.itertuples():
        key = f"cell:{r.item}" if r.section == "cell" else str(r.section)
        title = CELL_SHORT.get(str(r.item), str(r.item)) if r.section == "cell" else SECTIONS.get(key, key)
        section = sections.setdefault(key, {"key": key, "title": title, "rows": []})
        text = r.section in ("settings", "warnings")
        section["rows"].append(
            {
                "name": _item_name(str(r.section), str(r.item), str(r.measure)),
                "a": format_value(r.a, r.measure),
                "b": format_value(r.b, r.measure),
                "difference": "" if text else format_difference(r.difference, r.measure),
                "text": text,
            }
        )
    return list(sections.values())


def format_table(table: pd.DataFrame, name_a: str, name_b: str) -> str:
    """The comparison as aligned plain text for the terminal: one block per section, rows named in words."""
    view = compare_view(table)
    width = max([len(r["name"]) for s in view for r in s["rows"]] + [20])
    values = max([len(r[k]) for s in view for r in s["rows"] if not r["text"] for k in ("a", "b")] + [16])
    a, b = (f"{n[:values]:>{values}}" for n in (f"A: {name_a}", f"B: {name_b}"))
    lines = [f"{'':<{width + 2}} {a} {b} {'B - A':>{values}}"]
    for section in view:
        lines.append(section["title"])
        for r in section["rows"]:
            if r["text"]:
                lines.append(f"  {r['name']:<{width}} {r['a']:>{values}} {r['b']:>{values}}")
            else:
                lines.append(
                    f"  {r['name']:<{width}} {r['a']:>{values}} {r['b']:>{values}} {r['difference']:>{values}}"
                )
    return "\n".join(lines)


def compare_chart(table: pd.DataFrame, name_a: str, name_b: str) -> str:
    """The headline figures of A and B as paired bars: share of assessed need met by cell, and by group under
    the reform."""
    coverage = table[table["measure"] == "coverage"]
    by_cell = {r.item: (r.a, r.b) for r in coverage[coverage["section"] == "cell"].itertuples()}
    cells = [(name, *by_cell[cell]) for cell, name in CELL_SHORT.items() if cell in by_cell]
    groups = [
        (name, r.a, r.b)
        for key, name in GROUPS.items()
        for r in coverage[(coverage["section"] == key) & (coverage["item"] == REFORM)].itertuples()
    ]
    return chart_compare(cells, groups, (f"A: {name_a}", f"B: {name_b}"))


def write_comparison(
    table: pd.DataFrame, out: Path, name_a: str, name_b: str, force: bool = False, protected: Sequence[Path] = ()
) -> Path:
    """compare.csv and compare.html in a folder, written atomically; ``protected`` (the two runs) is never replaced.

    compare.csv keeps the codes (``needs_lp``, ``whole_life_cost``) and unformatted numbers, for a script;
    compare.html shows the same rows in words, formatted like the report, with its stylesheet and a chart."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    with atomic_folder(out, force=force, kind="compare", protected=protected) as tmp:
        write_csv(table, tmp / "compare.csv", index=False)
        env = Environment(loader=PackageLoader("workload", "report"), autoescape=select_autoescape(["html"]))
        page = env.get_template("compare.html").render(
            name_a=name_a,
            name_b=name_b,
            sections=compare_view(table),
            chart=compare_chart(table, name_a, name_b),
        )
        (tmp / "compare.html").write_text(page, encoding="utf-8")
    return out
