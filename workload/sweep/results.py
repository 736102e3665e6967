"""The published tables: task rows combined into tidy ``results.csv`` under the disclosure rules (small PDUs
pooled, small groups and figures from few cases blank), and the ranking of grid points."""

from __future__ import annotations

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
        f"{cell}.{name}" for cell in (BASELINE, REFORM) for name in ("partner_cost", "children_cost", "whole_life_cost")
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
