"""The simulation folder, written atomically: weekly.csv (and weekly.parquet when pyarrow is installed, the
optional extra ``parquet``), bands.csv, summary.json and simulate.html, with time-series charts (median and
10th-90th percentile band across replications, per policy)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from workload import __version__
from workload.output import atomic_folder, write_csv, write_json
from workload.report.charts import _figure, _svg
from workload.simulate.measures import CONSECUTIVE_WEEKS, GROUPS, bands
from workload.simulate.policies import POLICY_LABELS
from workload.simulate.run import Simulation, remove_parts

POLICY_COLOURS = {"wmt_list": "#7f7f7f", "need_aware": "#b5a642", "lp": "#1b7f5f"}

CHARTS: tuple[tuple[str, str], ...] = (
    ("coverage", "Share of assessed need met, all cases"),
    ("coverage_women", "Share of assessed need met, women"),
    ("coverage_low_risk_complex", "Share of assessed need met, the low-risk, complex-needs group"),
    ("coverage_abuse_women_early", "Share of assessed need met, abuse-history women in their first months"),
    ("above_red_4_weeks", f"Practitioners above the red line for {CONSECUTIVE_WEEKS}+ consecutive weeks"),
    ("workload_pct_median", "Median WMT workload %"),
    ("workload_pct_p90", "90th percentile WMT workload %"),
    ("unmet_hours_week", "Unmet hours of assessed need, a week"),
    ("whole_life_cost_week", "Whole-life cost, GBP a week"),
    ("moved_by_policy", "Cases moved by the policy, a week"),
    ("cases", "Cases on the caseload"),
)
"""The measures charted, with their titles."""

SUMMARY_MEANS: tuple[str, ...] = (
    "coverage",
    *(f"coverage_{g}" for g in GROUPS),
    "workload_pct_median",
    "above_red",
    "above_red_4_weeks",
)
SUMMARY_TOTALS: tuple[str, ...] = (
    "unmet_hours_week",
    "partner_hours_week",
    "staff_cost_week",
    "whole_life_cost_week",
    "moved_by_policy",
    "moved_after_leaver",
)


def band_chart(table: pd.DataFrame, measure: str, title: str, policies: tuple[str, ...]) -> str:
    """One measure over the weeks: each policy's median across replications as a line, its 10th-90th
    percentile as a band."""
    fig, ax = _figure((8.0, 3.0))
    for policy in policies:
        rows = table[(table["policy"] == policy) & (table["measure"] == measure)].sort_values("week")
        if not len(rows) or rows["median"].isna().all():
            continue
        colour = POLICY_COLOURS.get(policy, "#333333")
        ax.fill_between(rows["week"], rows["p10"], rows["p90"], color=colour, alpha=0.18, linewidth=0)
        ax.plot(rows["week"], rows["median"], color=colour, label=POLICY_LABELS.get(policy, policy), linewidth=1.8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("week")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _svg(fig)


def summary(sim: Simulation) -> dict[str, Any]:
    """summary.json: settings, and for each policy the measures' means over weeks and replications, the
    year's totals (medians across replications) and the red-line counts at the last week."""
    weekly, s = sim.weekly, sim.settings
    last = weekly[weekly["week"] == weekly["week"].max()]
    policies: dict[str, Any] = {}
    for policy in s.policies:
        rows = weekly[weekly["policy"] == policy]
        per_rep = rows.groupby("replication")
        figures: dict[str, Any] = {f"mean_{m}": _number(rows[m].mean()) for m in SUMMARY_MEANS}
        for m in SUMMARY_TOTALS:
            figures[f"total_{m.removesuffix('_week')}"] = _number(per_rep[m].sum(min_count=1).median())
        final = last[last["policy"] == policy]
        figures["last_week_above_red_4_weeks_median"] = _number(final["above_red_4_weeks"].median())
        figures["weeks_with_any_above_red_4_weeks_median"] = _number(
            per_rep["above_red_4_weeks"].apply(lambda v: float((v > 0).sum())).median()
        )
        policies[policy] = {"label": POLICY_LABELS.get(policy, policy), **figures}
    return {
        "scenario": sim.scenario.spec.name,
        "version": __version__,
        "fingerprint": sim.fingerprint,
        "settings": {
            "weeks": s.weeks,
            "replications": s.replications,
            "seed": s.seed,
            "policies": list(s.policies),
            "lp_continuity": s.lp_continuity,
            "lp_replan_weeks": s.lp_replan_weeks,
            "arrivals_per_week": round(s.arrivals_per_week, 4),
            "expected_arrivals": list(s.expected_arrivals) if s.expected_arrivals else None,
        },
        "seconds": sim.seconds,
        "resumed_replications": sim.resumed,
        "policies": policies,
        "notes": sim.notes,
    }


def _number(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulation: {{ name }}</title>
<style>
{% include "report.css" %}
</style>
</head>
<body>
<header>
  <h1>A year week by week: {{ name }}</h1>
  <p class="lede">{{ weeks }} weeks, {{ replications }} replication(s) (seed {{ seed }}), about {{ arrivals }} new
    cases a week; policies compared on the same events in each replication. workload {{ version }}.</p>
</header>
<section id="summary">
  <h2>Summary by policy</h2>
  <p>Means are over weeks and replications; totals are a replication's sum over the weeks, median across
    replications. The red line is the WMT's {{ red }}%; "{{ run }}+ weeks" counts practitioners above it for
    {{ run }} or more consecutive weeks (the WMT's "excessive workload").</p>
  <div class="scroll"><table>
    <thead><tr><th>Figure</th>{% for p in policies %}<th>{{ p.label }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in rows %}<tr><td>{{ row[0] }}</td>{% for v in row[1:] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table></div>
</section>
<section id="charts">
  <h2>Week by week</h2>
  <p>Lines are the median across replications; bands the 10th to 90th percentile. A group's line is missing in
    weeks it had fewer than {{ threshold }} cases (the small-numbers rule).</p>
  {% for c in charts %}<figure>{{ c | safe }}</figure>{% endfor %}
</section>
<section id="limits">
  <h2>What this does not claim</h2>
  <p>It is a model of one PDU's year under stated assumptions (docs/simulate.md): order lengths, leaving,
    vacancy and absence rates are parameters, several of them judgements; new cases are drawn from the PDU's own
    case mix; hours are the needs model's and the allocator's, not time sheets. Differences between policies on
    the same events are more reliable than any one level.</p>
  {% if notes %}<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
</section>
<footer>workload {{ version }}; fingerprint {{ fingerprint }}.</footer>
</body>
</html>
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("mean_coverage", "Share of assessed need met", "share"),
    ("mean_coverage_women", "... women", "share"),
    ("mean_coverage_low_risk_complex", "... low risk, complex needs", "share"),
    ("mean_coverage_abuse_women_early", "... abuse-history women, first months", "share"),
    ("mean_workload_pct_median", "Median workload %", "pct"),
    ("mean_above_red", "Practitioners above the red line (mean a week)", "count1"),
    ("mean_above_red_4_weeks", "... for 4+ consecutive weeks (mean a week)", "count1"),
    ("weeks_with_any_above_red_4_weeks_median", "Weeks with anyone 4+ weeks above", "count"),
    ("total_unmet_hours", "Unmet hours in the year", "count"),
    ("total_whole_life_cost", "Whole-life cost in the year, GBP", "money"),
    ("total_moved_by_policy", "Cases moved by the policy", "count"),
    ("total_moved_after_leaver", "Cases moved because a practitioner left", "count"),
)


def _format(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "count1":
        return f"{value:,.1f}"
    if kind == "money":
        return f"£{value:,.0f}"
    return f"{value:,.0f}"


def simulation_html(sim: Simulation, table: pd.DataFrame, figures: dict[str, Any]) -> str:
    """simulate.html: the summary table, the charts and what the model does not claim."""
    s = sim.settings
    policies = [figures["policies"][p] for p in s.policies]
    window = f"first {float(sim.scenario.params['simulate.abuse_window_months']):g} months"
    rows = [
        [label.replace("first months", window), *(_format(p.get(key), kind) for p in policies)]
        for key, label, kind in ROWS
    ]
    charts = [band_chart(table, m, title.replace("first months", window), s.policies) for m, title in CHARTS]
    env = Environment(
        loader=PackageLoader("workload", "report"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    return env.from_string(TEMPLATE).render(
        name=sim.scenario.spec.name,
        weeks=s.weeks,
        replications=s.replications,
        seed=s.seed,
        arrivals=f"{s.arrivals_per_week:.1f}" if not s.expected_arrivals else "the table's",
        version=__version__,
        red=f"{float(sim.scenario.params['wmt.red_pct']):g}",
        run=CONSECUTIVE_WEEKS,
        policies=policies,
        rows=rows,
        charts=charts,
        threshold=sim.scenario.spec.output.suppression_threshold,
        notes=sim.notes,
        fingerprint=sim.fingerprint,
    )


def parquet_available() -> bool:
    """Whether pyarrow is installed (the optional extra ``parquet``)."""
    return importlib.util.find_spec("pyarrow") is not None


def write_simulation(sim: Simulation, out: Path, force: bool = False) -> Path:
    """Write the simulation folder atomically (readers see none of it or all of it), then remove the parts
    folder of finished replications, which it now holds."""
    table = bands(sim.weekly)
    figures = summary(sim)
    with atomic_folder(Path(out), force=force, kind="simulate") as folder:
        write_csv(sim.weekly, folder / "weekly.csv", index=False)
        if parquet_available():
            sim.weekly.to_parquet(folder / "weekly.parquet", index=False)
        write_csv(table, folder / "bands.csv", index=False)
        write_json(figures, folder / "summary.json")
        (folder / "simulate.html").write_text(simulation_html(sim, table, figures), encoding="utf-8")
    remove_parts(Path(out))
    return Path(out)
