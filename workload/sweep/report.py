"""The sweep report: one self-contained sweep.html (charts inline as SVG, no network).

It ranks the policy variants by the objective the user picked, within each value of the assumptions
(``results.rank_policies``), and shows, for the objective and the headline
outcomes, an interval per grid point: with draws a fan (5-95% thin, 25-75% thick, median dot), without draws
the single value. It holds only totals over PDUs and per-PDU totals, never case-level data; group coverage
follows the scenario's small-cell suppression.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from workload import __version__
from workload.report import (  # the run report's SVG settings: stable ids, same bytes for the same sweep
    _figure,
    _svg,
)
from workload.scenario import ALL_PDUS_LABEL
from workload.sweep.metrics import HEADLINE_METRICS
from workload.sweep.results import ALL_ASSUMPTIONS, is_choice, rank_grid_points, ranking_text, setting_label

MAX_CHARTED = 30
"""Grid points shown in the charts and the ranking table (the best by the objective); ranking.csv has them all."""


def unit_of_metric(metric: str) -> str:
    """The unit of a sweep metric from its last part: share, GBP/yr, h/yr, FTE or a count."""
    figure = metric.rsplit(".", 1)[-1]
    if metric.startswith("fte."):
        return "FTE"
    if figure.startswith("coverage"):
        return "share"
    if figure.endswith("_cost") or metric.startswith("net_whole_life_cost"):
        return "GBP/yr"
    if figure.endswith("_hours"):
        return "h/yr"
    return "count"


def format_value(value: Any, metric: str) -> str:
    """A value as a reader expects it: 61.2%, £1,234,567, 12,345 h."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = unit_of_metric(metric)
    v = float(value)
    if unit == "share":
        return f"{v * 100:.1f}%"
    if unit == "GBP/yr":
        return ("−" if v < 0 else "") + f"£{abs(v):,.0f}"
    if unit == "FTE":
        return f"{v:,.1f}"
    if abs(v) >= 100 or unit == "count":
        return f"{v:,.0f}"
    return f"{v:,.3g}"


def grid_labels(ranking: pd.DataFrame, keys: Sequence[str]) -> dict[str, str]:
    """A label per grid point, by its settings: ``women_specialist_pool=soft, effect_of_full_coverage=0.2``."""
    return {str(point): setting_label(row, keys) or str(point) for point, row in ranking.iterrows()}


def metric_stats(results: pd.DataFrame, variants: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per grid point, over its draws and totalled over PDUs: 5th, 25th, 50th, 75th, 95th percentiles and mean."""
    values = results[(results["pdu"] == ALL_PDUS_LABEL) & (results["metric"] == metric)].set_index("variant")["value"]
    frame = variants[["grid_point"]].join(values.rename("value"))
    grouped = frame.groupby("grid_point", sort=True)["value"]
    quantiles = grouped.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    quantiles.columns = ["p05", "p25", "p50", "p75", "p95"]
    quantiles["mean"] = grouped.mean()
    return quantiles


def interval_chart(stats: pd.DataFrame, order: Sequence[str], labels: dict[str, str], metric: str, fan: bool) -> str:
    """Horizontal interval chart, one row per grid point in ranking order (best at the top)."""
    rows = stats.reindex(list(order))
    scale = 100.0 if unit_of_metric(metric) == "share" else 1.0
    y = np.arange(len(rows))[::-1]
    fig, ax = _figure((8, 0.9 + 0.28 * len(rows)))
    if fan:
        ax.hlines(y, rows["p05"] * scale, rows["p95"] * scale, color="#9fc9b9", linewidth=2, label="5–95% of draws")
        ax.hlines(y, rows["p25"] * scale, rows["p75"] * scale, color="#1b7f5f", linewidth=6, label="25–75% of draws")
    ax.plot(rows["p50"] * scale, y, "o", color="#1d1d1b", markersize=4, label="median" if fan else "value")
    ax.set_yticks(y, [labels.get(p, p) for p in rows.index], fontsize=7)
    unit = unit_of_metric(metric)
    ax.set_xlabel(f"{metric} ({'%' if unit == 'share' else unit})", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#eeeeee")
    if fan:
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    return _svg(fig)


TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sweep report: {{ name }}</title>
<style>
{% include "report.css" %}
</style>
</head>
<body>
<header>
  <h1>Sweep report: {{ name }}</h1>
  <p class="lede">Scenario “{{ scenario }}”: {{ n_cases }} cases in {{ n_pdus }} PDU(s).
    {{ n_points }} grid point(s){% if draws %} x {{ draws }} draws{% endif %} = {{ n_variants }} variant(s),
    {{ n_tasks }} tasks (variant x PDU). Base seed {{ seed }}. workload {{ version }}.</p>
  {% if description %}<p>{{ description }}</p>{% endif %}
</header>
<section id="objective">
  <h2>Policy variants ranked by {{ metric }} ({{ "higher" if direction == "max" else "lower" }} is better)</h2>
  <p class="note"><strong>Best, within each value of the assumptions: {{ best }}.</strong></p>
  <p>The variants are the choices: {{ choice_keys or "none (no policy.* key in [grid])" }}. Everything else the sweep
    varies is an assumption it is uncertain about: {{ assumption_keys or "none" }}. Each variant is ranked against
    the others facing the same value{% if draws %} and the same draw{% endif %} of the assumptions, never across them,
    so a variant is not ranked first only because it was run with the most optimistic assumption. Objectives within
    {{ tolerance }} of each other tie and share a rank ("tie"). The objective is totalled over all PDUs.
    “Mean rank” is over the assumption values{% if draws %} and draws{% endif %}; “share best”, the share of them in
    which the variant is best (tied or alone).</p>
  <div class="scroll"><table>
    <thead><tr>{% for h in ranking_header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in ranking_rows %}<tr{% if row[0] == all_label %} style="font-weight:600"{% endif %}>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table></div>
  {% if truncated %}<p>The charts below show the best {{ max_charted }} of {{ n_points }} grid points; ranking.csv
    ranks every variant.</p>{% endif %}
</section>
<section id="outcomes">
  <h2>Headline outcomes by grid point</h2>
  <p>{% if draws %}Fan: the thick bar holds the middle half of the draws, the thin line 90% of them, the dot is the
    median.{% else %}One dot per grid point.{% endif %} One row per grid point (a variant with the assumption
    grid values it was run with), in order of its mean objective, best at the top: read them for the spread; the
    ranking is the table above.</p>
  {% for chart in charts %}
  <h3>{{ chart.metric }}</h3>
  {{ chart.svg | safe }}
  {% endfor %}
</section>
<section id="pdus">
  <h2>The objective by PDU, best grid points</h2>
  <div class="scroll"><table>
    <thead><tr>{% for h in pdu_header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in pdu_rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table></div>
</section>
<section id="method">
  <h2>How the sweep was run</h2>
  <ul>
    <li>Each (variant, PDU) is an independent run of the model on that PDU's cases, practitioners and partners; a
      partner serving several PDUs brings to each the share of its contract hours in proportion to the hours of
      need it could deliver there, as in a whole run. Totals over PDUs add hours, costs and counts and recompute
      coverage from the totals.</li>
    <li>Draws come from a stream per swept key seeded by the base seed and the key, never from the order tasks
      finish in: the same sweep gives the same results on one process, a pool or a Dask cluster.</li>
    <li>Group coverage follows the run report's small-cell rule (threshold {{ threshold }} cases), in each PDU
      and in the total: blank where the run's tables do not show the group, and including the few cases of
      groups too small to show where the run merges them into it.</li>
  </ul>
  {% for note in notes %}<p class="warn">{{ note }}</p>{% endfor %}
</section>
<footer>results.csv holds every (variant, PDU, metric, value); variants.csv each variant's settings; ranking.csv
  the full ranking. Generated by workload {{ version }}.</footer>
</body>
</html>
"""


def sweep_report_html(
    plan: Any,
    results: pd.DataFrame,
    variants: pd.DataFrame,
    ranking: pd.DataFrame,
    metric: str,
    direction: str,
    notes: Sequence[str],
) -> str:
    """sweep.html's text: the ranking, interval or fan charts of the headline outcomes, the objective by PDU."""
    draws = plan.n_draws
    grid_keys = list(plan.spec.grid)
    points = rank_grid_points(results, variants, metric, direction)  # the charts' rows: every grid point
    shown = points.head(MAX_CHARTED)
    labels = grid_labels(shown, [k for k in grid_keys if k in shown.columns])
    order = [str(p) for p in shown.index]

    header = ["assumptions", "rank", "variant", "mean rank", "share best", f"mean {metric}"]
    header += ["5%", "95%"] if draws else []
    rows = []
    for _, row in ranking.iterrows():
        cells = [str(row["assumptions"]), f"{int(row['rank'])}{' (tie)' if row['tie'] else ''}", str(row["policy"])]
        cells += [f"{row['mean_rank']:.2f}", f"{row['share_best'] * 100:.0f}%", format_value(row["mean"], metric)]
        if draws:
            cells += [format_value(row["p05"], metric), format_value(row["p95"], metric)]
        rows.append(cells)

    charts = []
    for m in dict.fromkeys([metric, *HEADLINE_METRICS]):
        stats = metric_stats(results, variants, m)
        charts.append({"metric": m, "svg": interval_chart(stats, order, labels, m, fan=bool(draws))})

    top = order[:5]
    by_pdu = results[(results["metric"] == metric) & (results["pdu"] != ALL_PDUS_LABEL)]
    by_pdu = by_pdu.join(variants["grid_point"], on="variant")
    table = by_pdu[by_pdu["grid_point"].isin(top)].groupby(["pdu", "grid_point"])["value"].mean().unstack()
    table = table.reindex(columns=top)
    pdu_header = ["PDU"] + [f"{labels.get(p, p)} ({'mean ' if draws else ''}{metric})" for p in top]
    pdu_rows = [[str(pdu)] + [format_value(v, metric) for v in row] for pdu, row in table.iterrows()]

    # the report's stylesheet, shared (report.css), so every page this tool writes looks alike
    env = Environment(
        loader=PackageLoader("workload", "report"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    scenario = plan.scenario
    return env.from_string(TEMPLATE).render(
        name=plan.spec.name,
        description=plan.spec.description,
        scenario=scenario.spec.name,
        n_cases=f"{len(scenario.cases):,}",
        n_pdus=len(plan.pdus),
        n_points=len(points),
        draws=draws,
        drawn_keys=", ".join(plan.spec.draws),
        n_variants=len(plan.variants),
        n_tasks=len(plan.variants) * len(plan.pdus),
        seed=plan.seed,
        version=__version__,
        metric=metric,
        direction=direction,
        truncated=len(points) > MAX_CHARTED,
        best=ranking_text(ranking),
        choice_keys=", ".join(k for k in grid_keys if is_choice(k)),
        assumption_keys=", ".join([*(k for k in grid_keys if not is_choice(k)), *plan.spec.draws]),
        tolerance="one part in a million",
        all_label=ALL_ASSUMPTIONS,
        max_charted=MAX_CHARTED,
        ranking_header=header,
        ranking_rows=rows,
        charts=charts,
        pdu_header=pdu_header,
        pdu_rows=pdu_rows,
        threshold=scenario.spec.output.suppression_threshold,
        notes=list(notes),
    )
