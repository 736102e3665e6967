"""``workload plan``'s output: the spend curve as CSV, XLSX and an HTML page with the curve, written atomically."""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from workload import __version__, disclosure, outcomes
from workload.output import atomic_folder, write_csv, write_json
from workload.plan import Planner, PlanPoint
from workload.report.charts import _svg
from workload.report.formats import gbp, pct, with_units
from workload.report.workbook import formatted_workbook


def spend_curve(planner: Planner, points: list[PlanPoint]) -> pd.DataFrame:
    """One row per budget: spend, whole-life cost, coverage (overall and by sex, small groups blank), the FTE
    added by grade and PDU and the partner hours bought; ``lowest_cost`` marks the row of least whole-life cost."""
    scenario = planner.scenario
    threshold = scenario.spec.output.suppression_threshold
    groups = {
        "sex": scenario.cases["sex"].astype(str),
        "low_risk_complex": outcomes.low_risk_complex(scenario.cases, scenario.params).map({True: "yes", False: "no"}),
        "protect_level": outcomes.protect_level(scenario.cases).astype(str),
    }
    rows = []
    for point in points:
        costs = planner.whole_life_cost(point)
        given = costs["afforded_hours"] + costs["partner_hours"]
        posts = float(sum(planner.prices.per_fte(grade) * fte for (_, grade), fte in point.fte.items()))
        row: dict[str, object] = {
            "budget": point.budget,
            "spend": point.spend,
            "spend_posts": posts,
            "spend_partner_hours": point.spend - posts,
            "whole_life_cost": float(costs["whole_life_cost"].sum()) + point.spend,
            # every cost the cost model counts beyond staff and partner hours (reoffending, children's, ...)
            "outcome_cost": float((costs["whole_life_cost"] - costs["staff_cost"] - costs["partner_cost"]).sum()),
            "coverage": float(np.minimum(given, planner.need).sum() / planner.need.sum()),
            "unmet_hours": float(costs["unmet_hours"].sum()),
        }
        met = np.minimum(given, planner.need)
        for dimension, labels in groups.items():
            for group in sorted(labels.unique()):
                mine = labels == group
                small = bool(disclosure.is_small(int(mine.sum()), threshold))
                covered = float(met[mine].sum() / max(float(planner.need[mine].sum()), 1e-9))
                name = f"coverage_{group}" if dimension == "sex" else f"coverage_{dimension}_{group}"
                row[name] = np.nan if small else covered
        row["fte_added"] = float(point.fte.sum())
        for (pdu, grade), fte in point.fte.items():
            row[f"fte_{grade}_{pdu}"] = float(fte)
        for (partner, pdu), hours in point.partner_hours.items():
            row[f"partner_hours_{partner}_{pdu}"] = float(hours)
        rows.append(row)
    curve = pd.DataFrame(rows)
    # the least spend among equal lowest costs (1 GBP apart): more budget than that buys nothing
    lowest = np.flatnonzero(curve["whole_life_cost"].to_numpy() <= curve["whole_life_cost"].min() + 1.0)[0]
    curve["lowest_cost"] = (np.arange(len(curve)) == lowest).astype(int)
    curve.index = pd.Index(range(1, len(curve) + 1), name="point")
    return curve


def chart_curve(curve: pd.DataFrame) -> str:
    """The spend curve: whole-life cost (left axis) and coverage (right axis) against spend, the lowest
    whole-life cost marked."""
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    ax.plot(curve["spend"] / 1e3, curve["whole_life_cost"] / 1e6, marker="o", color="#1b7f5f", label="whole-life cost")
    best = curve[curve["lowest_cost"] == 1].iloc[0]
    ax.scatter([best["spend"] / 1e3], [best["whole_life_cost"] / 1e6], s=120, facecolors="none", edgecolors="#c00000")
    ax.annotate(
        "lowest", (best["spend"] / 1e3, best["whole_life_cost"] / 1e6), textcoords="offset points", xytext=(6, 8)
    )
    ax.set_xlabel("spend on added posts and partner hours (GBP thousand a year)")
    ax.set_ylabel("whole-life cost (GBP million a year)")
    right = ax.twinx()
    right.plot(curve["spend"] / 1e3, 100 * curve["coverage"], marker="s", color="#5b8fd6", label="need met")
    right.set_ylabel("share of assessed need met (%)")
    right.set_ylim(0, 100)
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="lower left")
    return _svg(fig)


OBJECTIVE_TEXT = {
    "whole_life_cost": "the lowest whole-life cost (posts and partner hours included); even at a spend of 0 the hours"
    " are shared by the whole-life cost they save, not by the allocator's need bands, so that point's cost is"
    " below the run's",
    "need": "the most need met, weighted as the allocator weighs it (at a spend of 0, the run's reform)",
}
"""How plan.html words each objective."""


def _posts_table(best: pd.Series) -> str:
    """The posts and partner hours of the lowest point, by PDU: FTE to one decimal and to the nearest half post."""
    rows = []
    for column, value in best.items():
        name = str(column)
        if name.startswith("fte_") and name != "fte_added" and float(value) > 0.05:
            grade, pdu = name[len("fte_") :].split("_", 1)
            rows.append((pdu, grade, f"{float(value):.1f}", f"{round(2 * float(value)) / 2:.1f}"))
        elif name.startswith("partner_hours_") and float(value) > 0.5:
            partner, pdu = name[len("partner_hours_") :].split("_", 1)
            rows.append((pdu, f"partner {partner} (hours)", f"{float(value):,.0f}", ""))
    if not rows:
        return "<p>Nothing: at these prices no post or partner hour saves more than it costs.</p>"
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in sorted(rows)
    )
    return (
        '<div class="scroll"><table><thead><tr><th scope="col">PDU</th><th scope="col">Grade</th>'
        '<th scope="col">FTE added</th><th scope="col">To the nearest half post</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


CURVE_COLUMNS = (
    ("budget", "Budget", "gbp"),
    ("spend", "Spend", "gbp"),
    ("fte_added", "Posts added (FTE)", "fte"),
    ("coverage", "Need met", "pct"),
    ("coverage_female", "Women", "pct"),
    ("coverage_male", "Men", "pct"),
    ("coverage_low_risk_complex_yes", "Low risk, complex needs", "pct"),
    ("whole_life_cost", "Whole-life cost", "gbp"),
    ("saving", "Less than at no spend", "gbp"),
)
"""The spend curve as plan.html shows it (every column, by PDU too, is in spend_curve.csv and plan.xlsx)."""


def _curve_table(curve: pd.DataFrame) -> str:
    """The spend curve for a reader: money to the pound, shares as percentages, posts by grade summed over PDUs,
    the lowest point marked; groups under the small-numbers threshold shown as "–"."""
    shown = curve.assign(saving=float(curve["whole_life_cost"].iloc[0]) - curve["whole_life_cost"])
    grades = sorted(
        {str(c)[len("fte_") :].split("_", 1)[0] for c in curve.columns if str(c).startswith("fte_")} - {"added"}
    )
    columns = [c for c in CURVE_COLUMNS if c[0] in shown.columns]
    form = {"gbp": gbp, "pct": pct, "fte": lambda v: f"{float(v):.1f}"}
    head = "".join(f'<th scope="col">{html.escape(name)}</th>' for _, name, _ in columns[:3])
    head += "".join(f'<th scope="col">{html.escape(g)} (FTE)</th>' for g in grades)
    head += "".join(f'<th scope="col">{html.escape(name)}</th>' for _, name, _ in columns[3:])
    body = []
    for _, row in shown.iterrows():
        cells = [form[kind](row[key]) for key, _, kind in columns]
        by_grade = [
            f"{float(row[[c for c in curve.columns if str(c).startswith(f'fte_{g}_')]].sum()):.1f}" for g in grades
        ]
        cells = cells[:3] + by_grade + cells[3:]
        mark = ' class="lowest"' if int(row["lowest_cost"]) == 1 else ""
        body.append(f"<tr{mark}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (
        f'<div class="scroll"><table class="table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def plan_warnings(planner: Planner) -> list[str]:
    """What the plan's reader must know before sharing it: a scenario of fewer cases than the threshold."""
    threshold = planner.scenario.spec.output.suppression_threshold
    if disclosure.is_small(len(planner.scenario.cases), threshold):
        return [disclosure.whole_scenario_warning(threshold)]
    return []


def _html(planner: Planner, curve: pd.DataFrame, objective: str) -> str:
    css = resources.files("workload.report").joinpath("report.css").read_text(encoding="utf-8")
    warnings = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in plan_warnings(planner))
    best = curve[curve["lowest_cost"] == 1].iloc[0]
    base = curve.iloc[0]
    name = html.escape(planner.scenario.spec.name)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Investment plan: {name}</title><style>{css}</style></head>
<body><main>
<h1>Investment plan: {name}</h1>
{warnings}
<p>Objective: <strong>{OBJECTIVE_TEXT[objective]}</strong>. Each budget is one optimisation
choosing added whole-time posts by grade and PDU and extra partner hours, with the allocation inside it
(docs/model.md, "The investment question"). FTE are continuous: round to the half post you can recruit.</p>
<p>The whole-life cost is lowest at a spend of <strong>{gbp(best["spend"])}</strong> a year
({best["fte_added"]:.1f} FTE added): {gbp(best["whole_life_cost"])}, against
{gbp(base["whole_life_cost"])} at a spend of {gbp(base["spend"])}; need met
{100 * best["coverage"]:.1f}% against {100 * base["coverage"]:.1f}%.</p>
<figure>{chart_curve(curve)}</figure>
<h2>Posts at the lowest whole-life cost</h2>
{_posts_table(best)}
<h2>The spend curve</h2>
<p>One row per budget; the row in bold is the spend at which the whole-life cost is lowest. Posts by PDU and
partner hours bought are in spend_curve.csv and plan.xlsx.</p>
{_curve_table(curve)}
<p class="note">workload {__version__}. Need met for a group is shown as "–" for groups smaller than the
small-numbers threshold.</p>
</main></body></html>
"""


def write_plan(planner: Planner, curve: pd.DataFrame, out: Path, objective: str, force: bool = False) -> Path:
    """spend_curve.csv, plan.xlsx, plan.html and summary.json, written atomically into ``out``."""
    best = curve[curve["lowest_cost"] == 1].iloc[0]
    notes = [
        f"Investment plan for {planner.scenario.spec.name}: objective {objective}.",
        (
            "One row per budget: spend (GBP a year), whole-life cost including the spend, coverage, FTE added by "
            "grade and PDU (fte_<grade>_<pdu>), partner hours bought (partner_hours_<partner>_<pdu>)."
        ),
        f"Lowest whole-life cost at spend GBP {best['spend']:,.0f} (lowest_cost = 1).",
        *plan_warnings(planner),
    ]
    with atomic_folder(out, force=force, kind="plan", protected=[planner.scenario.folder]) as tmp:
        write_csv(curve, tmp / "spend_curve.csv")
        formatted_workbook(tmp / "plan.xlsx", {"spend_curve": with_units(curve)}, notes)
        (tmp / "plan.html").write_text(_html(planner, curve, objective), encoding="utf-8")
        write_json(
            {
                "version": __version__,
                "objective": objective,
                "lowest_cost_spend": float(best["spend"]),
                "lowest_whole_life_cost": float(best["whole_life_cost"]),
                "budgets": curve["budget"].tolist(),
                "warnings": plan_warnings(planner),
            },
            tmp / "summary.json",
        )
    return out
