"""The published tables: task rows combined into tidy ``results.csv`` under the disclosure rules (small PDUs
pooled, small groups and figures from few cases blank), and the ranking of grid points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workload.disclosure import CONTRIBUTOR_PREFIX, CONTRIBUTORS, SMALL_PDUS, hidden_rows, is_small
from workload.outcomes import BASELINE, CELLS, REFORM
from workload.sweep.metrics import (
    ALL_PDUS,
    CELL_FIGURES,
    GROUP_DIMENSIONS,
    GROUPS,
    METRICS,
    SCALAR_METRICS,
    group_metric,
)


def small_cell_rule(counts: pd.DataFrame, threshold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which groups a run's published table shows, row by row, by its rule (:func:`workload.outcomes.suppress`),
    for many rows at once.

    ``counts`` has one row per (variant, PDU) and one column per group of one dimension, in sorted group
    order (as a run's group tables), 0 where the group has no cases. Groups with cases but fewer than
    ``threshold`` are never shown on their own: they are pooled, and if the pool is itself under the
    threshold it is merged into the largest group shown (the first in group order on a tie), whose row then
    holds those few cases too (``male + small groups``).

    Returns
    -------
    shown, absorbs
        Booleans like ``counts``: the group has a row of its own (alone or with the small groups merged in),
        and the group's row holds the small groups as well.
    """
    values = counts.to_numpy(dtype=float)
    present = values > 0
    if threshold <= 0:
        none = np.zeros_like(present)
        return (
            pd.DataFrame(present, index=counts.index, columns=counts.columns),
            pd.DataFrame(none, index=counts.index, columns=counts.columns),
        )
    small = present & (values < threshold)
    shown = present & ~small
    pooled = np.where(small, values, 0.0).sum(axis=1)
    merge = small.any(axis=1) & (pooled < threshold) & shown.any(axis=1)
    largest = np.argmax(np.where(shown, values, -np.inf), axis=1)
    absorbs = np.zeros_like(shown)
    rows = np.flatnonzero(merge)
    absorbs[rows, largest[rows]] = True
    return (
        pd.DataFrame(shown, index=counts.index, columns=counts.columns),
        pd.DataFrame(absorbs, index=counts.index, columns=counts.columns),
    )


def _coverage(given: pd.Series | np.ndarray, required: pd.Series | np.ndarray) -> np.ndarray:
    given, required = np.asarray(given, dtype=float), np.asarray(required, dtype=float)
    return np.where(required > 0, np.minimum(given, required) / np.where(required > 0, required, 1.0), 1.0)


def _pool_small_pdus(wide: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Disclosure rule 1 over PDUs: each variant's PDUs with 1 to T-1 cases become one row, ``(small PDUs)``,
    or, when even those are under T together, part of the variant's largest PDU (``PDU03 + small PDUs``).
    Task figures all add up (coverage is recomputed later), so pooled rows are sums."""
    if threshold <= 0 or wide.empty:
        return wide
    cases = wide[f"{BASELINE}.cases"].to_numpy(dtype=float)
    small = is_small(cases, threshold)
    if not small.any():
        return wide
    variants = wide.index.get_level_values("variant")
    pdus = wide.index.get_level_values("pdu").astype(str).to_numpy(dtype=object).copy()
    frame = pd.DataFrame({"variant": variants, "cases": cases, "small": small})
    pooled = frame[frame["small"]].groupby("variant", sort=False)["cases"].sum()
    for variant, total in pooled.items():
        rows = (frame["variant"] == variant).to_numpy()
        label = SMALL_PDUS
        if total < threshold:
            big = np.flatnonzero(rows & ~small)
            if len(big):
                largest = big[np.argmax(cases[big])]
                label = f"{pdus[largest]} + {SMALL_PDUS.strip('()')}"
                pdus[largest] = label
        pdus[rows & small] = label
    wide = wide.copy()
    wide.index = pd.MultiIndex.from_arrays([variants, pdus], names=["variant", "pdu"])
    return wide.groupby(level=["variant", "pdu"], sort=True).sum(min_count=1)


def _suppress_few_contributors(out: pd.DataFrame, wide: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Disclosure rule 2 on the sweep's rows: a figure that 1 to T-1 cases contribute to is blanked with its
    complements (:data:`workload.disclosure.CONTRIBUTORS`); the net whole-life cost with any cost total it
    sums."""
    if threshold <= 0:
        return out
    out = out.copy()
    # each variant's PDU rows add up to its (all) row: blanked with their secondary suppression
    variants = wide.index.get_level_values("variant").to_numpy(dtype=object)
    totals = wide.index.get_level_values("pdu") == ALL_PDUS
    for cell in CELLS:
        for figure, complements in CONTRIBUTORS.items():
            column = f"{cell}.{CONTRIBUTOR_PREFIX}{figure}"
            if column not in wide:
                continue
            hidden = hidden_rows(wide[column].to_numpy(dtype=float), threshold, variants, totals)
            for name in complements:
                if f"{cell}.{name}" in out:
                    out.loc[hidden, f"{cell}.{name}"] = np.nan
    shortfall = wide.get(f"{CONTRIBUTOR_PREFIX}statutory_shortfall_hours")
    if shortfall is not None:
        hidden = hidden_rows(shortfall.to_numpy(dtype=float), threshold, variants, totals)
        out.loc[hidden, "statutory_shortfall_hours"] = np.nan
    costs = [
        f"{cell}.{name}"
        for cell in (BASELINE, REFORM)
        for name in ("partner_cost", "children_cost", "near_miss_cost", "whole_life_cost")
    ]
    out.loc[out[costs].isna().any(axis=1), "net_whole_life_cost_reform_vs_baseline"] = np.nan
    return out


def _group_figures(
    wide: pd.DataFrame, dimension: str, names: list[str], figure: str, cell: str | None = None
) -> pd.DataFrame:
    """One figure of every group of ``dimension`` (columns ``names``), row by row of ``wide``; 0 where absent."""
    return pd.DataFrame(
        {g: wide.get(group_metric(dimension, g, figure, cell), 0.0) for g in names}, index=wide.index
    ).fillna(0.0)


def tidy_results(raw: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The published sweep table from the tasks' rows: (variant, pdu, metric, value), sorted.

    Each variant gets its PDUs' rows plus a total row set (pdu ``(all)``): additive figures summed over PDUs,
    coverage recomputed from the totals as a run computes it (``min(afforded + partner, required) / required``).
    Group coverage (women, men, low risk complex needs) is what a run's published tables show for the group
    (:func:`small_cell_rule`, with the scenario's ``output.suppression_threshold``): blank where the group has
    no cases or too few to show, and including the few cases of groups too small to show where those are
    merged into it.
    """
    wide = raw.pivot_table(index=["variant", "pdu"], columns="metric", values="value", aggfunc="first", sort=True)
    wide = _pool_small_pdus(wide, threshold)
    total = wide.groupby(level="variant", sort=True).sum(min_count=1)
    total.index = pd.MultiIndex.from_arrays([total.index, [ALL_PDUS] * len(total)], names=["variant", "pdu"])
    wide = pd.concat([wide, total])
    out = pd.DataFrame(index=wide.index)
    for cell in CELLS:
        for figure in CELL_FIGURES:
            out[f"{cell}.{figure}"] = wide.get(f"{cell}.{figure}", np.nan)
        out[f"{cell}.coverage"] = _coverage(
            wide[f"{cell}.afforded_hours"] + wide[f"{cell}.partner_hours"], wide[f"{cell}.required_hours"]
        )
    for metric in SCALAR_METRICS:
        out[metric] = wide.get(metric, np.nan)
    for dimension in GROUP_DIMENSIONS:
        names = sorted({c.split("/")[2] for c in wide.columns if c.startswith(f"_group/{dimension}/")})
        if not names:
            continue
        counts = pd.DataFrame(
            {g: wide.get(group_metric(dimension, g, "cases"), 0.0) for g in names}, index=wide.index
        ).fillna(0.0)
        shown, absorbs = small_cell_rule(counts, threshold)
        small = (counts > 0) & (counts < threshold) if threshold > 0 else counts < 0
        required = _group_figures(wide, dimension, names, "required_hours")
        small_required = required.where(small, 0.0).sum(axis=1)
        for name, (dim, group) in GROUPS.items():
            if dim != dimension:
                continue
            for cell in CELLS:
                if group not in names:
                    out[f"{cell}.coverage_{name}"] = np.nan
                    continue
                given = _group_figures(wide, dimension, names, "given_hours", cell)
                extra = absorbs[group].astype(float)
                value = _coverage(
                    given[group] + extra * given.where(small, 0.0).sum(axis=1), required[group] + extra * small_required
                )
                out[f"{cell}.coverage_{name}"] = pd.Series(value, index=wide.index).where(shown[group])
    for cell in CELLS:
        for name in GROUPS:
            if f"{cell}.coverage_{name}" not in out:
                out[f"{cell}.coverage_{name}"] = np.nan
    out = _suppress_few_contributors(out, wide, threshold)
    out = out[list(METRICS)]
    tidy = out.rename_axis(columns="metric").stack(future_stack=True).rename("value").reset_index()
    return tidy.sort_values(["variant", "pdu", "metric"], kind="stable").reset_index(drop=True)


def rank_grid_points(results: pd.DataFrame, variants: pd.DataFrame, metric: str, direction: str) -> pd.DataFrame:
    """Grid points ranked by the objective over all PDUs: its mean over draws, the 5th, 50th and 95th
    percentiles, and (with draws) ``share_best``, the share of draws in which the grid point is at least as
    good as every other (a tie counts for each tied grid point).

    Grid points whose objective is blank (a suppressed group) rank last.
    """
    rows = results[(results["pdu"] == ALL_PDUS) & (results["metric"] == metric)].set_index("variant")["value"]
    frame = variants[["grid_point", "draw"]].join(rows.rename("objective"))
    stats = frame.groupby("grid_point", sort=True)["objective"].agg(
        mean="mean",
        p05=lambda s: s.quantile(0.05),
        p50="median",
        p95=lambda s: s.quantile(0.95),
        variants="size",
    )
    if frame["draw"].notna().any():
        by_draw = frame.pivot_table(
            index="draw", columns="grid_point", values="objective", aggfunc="first", dropna=False
        )
        best = by_draw.max(axis=1) if direction == "max" else by_draw.min(axis=1)
        gap = (by_draw.sub(best, axis=0)).abs()
        is_best = gap.le(1e-9 * best.abs().clip(lower=1.0), axis=0)  # ties count as best for each tied point
        stats["share_best"] = is_best.sum().reindex(stats.index).fillna(0.0) / max(len(by_draw), 1)
    else:
        stats["share_best"] = np.nan
    ascending = direction == "min"
    order = stats["mean"].rank(method="min", ascending=ascending, na_option="bottom").astype(int)
    stats.insert(0, "rank", order)
    settings = variants.drop(columns=["draw"]).drop_duplicates("grid_point").set_index("grid_point")
    grid_keys = [c for c in settings.columns if variants.groupby("grid_point")[c].nunique(dropna=False).max() <= 1]
    stats = stats.join(settings[grid_keys])
    stats = stats.sort_values(["rank"], kind="stable")
    stats.insert(1, "objective", metric)
    return stats


# ----------------------------------------------------------------------------------------------------------
# ranking policy variants within each value of the assumptions

TIE_TOLERANCE = 1e-6
"""Objectives within this share of each other (or 1e-6 of a unit, whichever is larger) tie: they share a rank."""

ALL_ASSUMPTIONS = "(all)"
"""``ranking.csv``'s ``assumptions`` value for the ranking over every value and draw of the assumptions."""


def is_choice(key: str) -> bool:
    """A ``[grid]`` key the user chooses (a ``policy.*`` setting); every other grid key and every ``[draws]`` key is
    an assumption the sweep is uncertain about."""
    return key.startswith("policy.")


def setting_label(row: Any, keys: Sequence[str]) -> str:
    """A variant or assumption value named by its settings: ``women_specialist_pool=hard, continuity=rebalance``."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in keys)


def _ranks(values: pd.Series, direction: str) -> pd.Series:
    """1 + the number of others better by more than the tolerance: tied values share a rank; blank ranks last."""
    v = values.astype(float).to_numpy()
    sign = 1.0 if direction == "min" else -1.0
    filled = np.where(np.isnan(v), np.inf, sign * v)
    scale = np.maximum(np.maximum(np.abs(v[:, None]), np.abs(v[None, :])), 1.0)
    scale = np.where(np.isnan(scale), 1.0, scale)
    better = (filled[None, :] < filled[:, None] - TIE_TOLERANCE * scale) & ~np.isnan(v[None, :])
    return pd.Series(1 + better.sum(axis=1), index=values.index)


def rank_within_assumptions(
    results: pd.DataFrame, variants: pd.DataFrame, grid_keys: Sequence[str], metric: str, direction: str
) -> pd.DataFrame:
    """Each variant's objective and its rank among the policy variants facing the same assumptions (the same values
    of the non-policy grid keys and the same draw): one row per variant, with ``policy`` and ``assumption``
    named by their settings."""
    choices = [k for k in grid_keys if is_choice(k)]
    assumed = [k for k in grid_keys if not is_choice(k)]
    rows = results[(results["pdu"] == ALL_PDUS) & (results["metric"] == metric)].set_index("variant")["value"]
    frame = variants[["grid_point", "draw", *grid_keys]].join(rows.rename("objective"))
    frame["policy"] = [setting_label(r, choices) or "as in the scenario" for _, r in frame.iterrows()]
    frame["assumption"] = [setting_label(r, assumed) or "as in the scenario" for _, r in frame.iterrows()]
    within = frame.groupby(["assumption", "draw"], dropna=False, sort=False)["objective"]
    frame["rank"] = within.transform(lambda s: _ranks(s, direction)).astype(int)
    frame["tied"] = frame.groupby(["assumption", "draw", "rank"], dropna=False)["rank"].transform("size") > 1
    return frame


def _summary(frame: pd.DataFrame, choices: Sequence[str], direction: str) -> pd.DataFrame:
    """Per policy variant over the given assumption values and draws: its mean rank among the variants, the share
    in which it is best (tied or alone), and its objective's mean and 5th / 95th percentiles; ranked by mean rank
    (equal mean ranks tie)."""
    grouped = frame.groupby("policy", sort=True)
    stats = pd.DataFrame(
        {
            "mean_rank": grouped["rank"].mean(),
            "share_best": grouped["rank"].apply(lambda r: float((r == 1).mean())),
            "share_best_alone": grouped.apply(lambda g: float(((g["rank"] == 1) & ~g["tied"]).mean())),
            "mean": grouped["objective"].mean(),
            "p05": grouped["objective"].quantile(0.05),
            "p95": grouped["objective"].quantile(0.95),
            "values": grouped.size(),
        }
    )
    stats.insert(0, "rank", _ranks(stats["mean_rank"], "min").astype(int))
    stats.insert(1, "tie", stats.groupby("rank")["rank"].transform("size") > 1)
    settings = frame.drop_duplicates("policy").set_index("policy")[list(choices)]
    return stats.join(settings).sort_values(["rank", "mean"], ascending=[True, direction == "min"], kind="stable")


def rank_policies(
    results: pd.DataFrame, variants: pd.DataFrame, grid_keys: Sequence[str], metric: str, direction: str
) -> pd.DataFrame:
    """ranking.csv: policy variants (the ``policy.*`` grid keys) ranked within each value of the assumptions
    (every other grid key and the draws), never across them, so the best variant is not simply the one run with
    the most optimistic assumption.

    One block of rows per value of the assumption grid keys (its draws pooled: the ranks are still taken within
    each draw), then ``assumptions = (all)``: over every value and draw. In each, ``rank`` 1 is best by mean rank,
    ``tie`` marks variants sharing their rank (objectives within :data:`TIE_TOLERANCE`).
    """
    choices = [k for k in grid_keys if is_choice(k)]
    within = rank_within_assumptions(results, variants, grid_keys, metric, direction)
    blocks = []
    values = list(dict.fromkeys(within["assumption"]))
    for value in [*values, ALL_ASSUMPTIONS] if len(values) > 1 else [ALL_ASSUMPTIONS]:
        part = within if value == ALL_ASSUMPTIONS else within[within["assumption"] == value]
        block = _summary(part, choices, direction)
        block.insert(0, "assumptions", value)
        blocks.append(block)
    ranking = pd.concat(blocks).rename_axis("policy").reset_index()
    ranking.insert(2, "objective", metric)
    return ranking[
        [
            "assumptions",
            "rank",
            "tie",
            "policy",
            *[c for c in ranking.columns if c not in ("assumptions", "rank", "tie", "policy")],
        ]
    ]


def ranking_text(ranking: pd.DataFrame, assumptions: str = ALL_ASSUMPTIONS) -> str:
    """The best of a ranking in words: the variant, or "tie between ..." when several share rank 1."""
    part = ranking[ranking["assumptions"] == assumptions]
    best = part[part["rank"] == 1]["policy"].tolist()
    if len(best) == 1:
        return best[0]
    if len(best) == len(part):
        return f"tie: all {len(best)} variants"
    return f"tie between {len(best)} variants ({'; '.join(best)})"
