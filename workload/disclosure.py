"""The disclosure rule: what a published table, total or warning may show about small groups of cases.

One rule, applied by every writer of published output (report.html, report.xlsx, a sweep's results and
report, and warnings); docs/model.md ("Small cells") states it for readers. With threshold ``T``
(``[output] suppression_threshold``, default 5; 0 turns the rule off):

1. **Rows.** No row of a published table stands for 1 to T-1 cases. Small rows (groups, PDUs) are pooled
   into one row (``(small groups)``, ``(small PDUs)``); if the pool is still under T it is merged into the
   largest row (``PDU03 + small PDUs``). Rows still add up to the Total, so no small row can be recovered by
   subtraction. A pooled row shows only figures that add up; per-row solver figures are left blank.
2. **Figures within a row.** Some figures come from a subset of the row's cases: partner hours from the
   cases referred to a partner, the children's cost from primary carers of dependent children, excess hours
   from cases given more than their need, moves from the cases moved, public-protection shortfall from the cases short of their minimum. When 1 to T-1 cases contribute, the
   figure is suppressed, and so is every figure it could be recomputed from in that row (its complements:
   partner hours with partner cost, practitioner hours and staff cost; the children's cost with the whole-life
   cost; excess hours with unmet hours). Where rows add up to a published total (groups, PDUs), more rows are
   blanked until the blanked rows together come from at least T cases, so subtraction reveals nothing
   (secondary suppression, :func:`hidden_rows`).
   The whole scenario's Total is the one row shown whatever its size: it is the user's own caseload. When the
   scenario has 1 to T-1 cases every figure describes fewer than T people, and the run warns that its report
   must not be shared (:func:`whole_scenario_warning`).
3. **Counts in words.** A warning never names a case and never gives a count of 1 to T-1 cases or the
   hours of so few cases: it says "fewer than T cases". Case ids appear only in the case-level CSVs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workload.scenario import SMALL_PDUS_LABEL

CONTRIBUTORS = {
    "partner_hours": ("partner_hours", "partner_cost", "afforded_hours", "staff_cost"),
    "children_cost": ("children_cost", "whole_life_cost"),
    "near_miss_cost": ("near_miss_cost", "whole_life_cost"),
    "excess_hours": ("excess_hours", "unmet_hours"),
    "moved": ("moved",),
    "shortfall_hours": ("shortfall_hours",),
}
"""For each figure that comes from a subset of a row's cases: the figures suppressed with it when that subset
counts 1 to T-1 cases (the figure itself first, then the figures it could be recomputed from)."""

CONTRIBUTOR_PREFIX = "contributors_"
"""Columns counting each row's contributing cases (``contributors_partner_hours``...): working columns, never
published."""

SMALL_PDUS = SMALL_PDUS_LABEL


def is_small(count: float | np.ndarray, threshold: int) -> np.ndarray:
    """Whether a count is a small cell: 1 to ``threshold`` - 1 (0 is not: nobody is described)."""
    value = np.asarray(count, dtype=float)
    return (value > 0) & (value < threshold)


def contributor_columns(per_case: pd.DataFrame) -> pd.DataFrame:
    """Per case, 1 where the case contributes to each subset figure of :data:`CONTRIBUTORS`, else 0.

    Summed with the outcome columns (e.g. by ``outcomes.group_table``) they count each row's contributors.
    """
    out = pd.DataFrame(index=per_case.index)
    for column in CONTRIBUTORS:
        if column in per_case:
            out[CONTRIBUTOR_PREFIX + column] = (per_case[column].to_numpy(dtype=float) > 1e-9).astype(np.int64)
    return out


def hidden_rows(
    contributors: np.ndarray,
    threshold: int,
    groups: np.ndarray | None = None,
    totals: np.ndarray | None = None,
) -> np.ndarray:
    """Which rows' figure rule 2 blanks: rows with 1 to T-1 contributors, and enough more to protect them.

    Without ``groups`` rows stand alone (e.g. the four cells of totals.csv). With ``groups``, the rows of a
    group (those not marked in ``totals``) add up to a total that is published (in the table or elsewhere), so
    blanking one small row alone would let it be worked out as the total minus the rows shown. Within each
    group, while the blanked rows together have 1 to T-1 contributors, the shown row with the fewest
    contributors (but some) is blanked too (secondary suppression), so what can be worked out by subtraction
    always comes from at least T cases. A total's own figure is blanked only by its own contributors.
    """
    counts = np.asarray(contributors, dtype=float)
    hidden = is_small(counts, threshold)
    if groups is None or threshold <= 0 or not hidden.any():
        return hidden
    keys = np.asarray(groups, dtype=object)
    total = np.zeros(len(counts), dtype=bool) if totals is None else np.asarray(totals, dtype=bool)
    for key in pd.unique(keys[hidden & ~total]):
        rows = np.flatnonzero((keys == key) & ~total)
        while 0 < counts[rows][hidden[rows]].sum() < threshold:
            candidates = rows[~hidden[rows] & (counts[rows] > 0)]
            if not len(candidates):
                break
            hidden[candidates[np.argmin(counts[candidates])]] = True
    return hidden


def suppress_contributions(
    table: pd.DataFrame, threshold: int, total: str | None = None, partition: bool = False
) -> pd.DataFrame:
    """Rule 2: blank each figure (and its complements) that 1 to T-1 cases contribute to in a row.

    ``partition``: the rows (all but the row labelled ``total``) add up to a published total, so rows are
    blanked with their secondary suppression (:func:`hidden_rows`). The contributor columns are dropped: the
    returned table is publishable. Threshold 0 only drops them.
    """
    out = table.copy()
    counts = [c for c in out.columns if c.startswith(CONTRIBUTOR_PREFIX)]
    if threshold > 0:
        groups = np.zeros(len(out), dtype=object) if partition else None
        totals = (out.index == total) if total is not None else None
        for column in counts:
            hidden = hidden_rows(out[column].to_numpy(dtype=float), threshold, groups, totals)
            if not hidden.any():
                continue
            for figure in CONTRIBUTORS[column[len(CONTRIBUTOR_PREFIX) :]]:
                if figure in out:
                    out[figure] = out[figure].astype(float).where(~hidden, np.nan)
    return out.drop(columns=counts)


def pool_small_rows(
    table: pd.DataFrame,
    threshold: int,
    additive: Sequence[str],
    pool_label: str,
    count: str = "cases",
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Rule 1: rows counting 1 to T-1 ``count`` pooled into ``pool_label``, or merged into the largest row.

    ``additive`` columns are summed in pooled rows; every other column is left blank there. Rows named in
    ``keep`` (e.g. ``Total``) are never pooled and stay last. ``pooled_groups`` counts the rows folded into
    each row (0 for rows shown as they are).
    """
    out = table.copy()
    out["pooled_groups"] = 0
    if threshold <= 0:
        return out
    kept = out.loc[[k for k in keep if k in out.index]]
    rows = out.drop(index=kept.index)
    small = rows[is_small(rows[count].to_numpy(dtype=float), threshold)]
    if small.empty:
        return out
    shown = rows.drop(index=small.index)
    sums = [c for c in additive if c in out.columns]
    pooled = pd.Series(np.nan, index=out.columns, dtype=object)
    pooled[sums] = small[sums].sum()
    pooled["pooled_groups"] = len(small)
    if float(pooled[count]) >= threshold or shown.empty:
        if float(pooled[count]) >= threshold:
            shown = pd.concat([shown, pooled.to_frame(pool_label).T])
    else:
        largest = shown[count].astype(float).idxmax()
        merged = pd.Series(np.nan, index=out.columns, dtype=object)
        merged[sums] = shown.loc[largest, sums] + pooled[sums]
        merged["pooled_groups"] = len(small)
        shown = pd.concat([shown.drop(index=largest), merged.to_frame(f"{largest} + {pool_label.strip('()')}").T])
    result = pd.concat([shown, kept])
    for column in out.columns:
        if column in sums or column == "pooled_groups":
            result[column] = pd.to_numeric(result[column])
    result.index.name = table.index.name
    return result


def whole_scenario_warning(threshold: int) -> str:
    """The warning of a run whose whole scenario has 1 to T-1 cases."""
    return (
        f"this scenario has fewer than {threshold} cases, so its totals describe fewer than {threshold} people: "
        "use the report for checking only and do not share it (docs/model.md, 'Small cells')"
    )


def count_in_words(n: int, threshold: int) -> str:
    """A count of cases as a warning may give it: exact from T up (or 0), "fewer than T" below."""
    return f"fewer than {threshold}" if is_small(n, threshold) else f"{n:,}"


_CASES = re.compile(r"(?<![\w.])(\d[\d,]*) (case\(s\)|cases?)\b")
_HOURS_ACROSS = re.compile(
    r"(\d[\d,]*(?:\.\d+)?) (floor hours short|minimum hours short|hours) across (\d[\d,]*) case\(s\)"
)


def redact_warning(text: str, threshold: int) -> str:
    """Rule 3 for one warning: hours of fewer than T cases dropped, counts of 1 to T-1 cases put in words.

    Warnings are written with counts as ``N case(s)`` and hours of a set of cases as ``H ... across N
    case(s)``; this is the one place that makes them publishable.
    """
    if threshold <= 0:
        return text

    def hours(match: re.Match[str]) -> str:
        n = int(match.group(3).replace(",", ""))
        if is_small(n, threshold):
            return f"{match.group(2)} across fewer than {threshold} case(s)"
        return match.group(0)

    def cases(match: re.Match[str]) -> str:
        n = int(match.group(1).replace(",", ""))
        return f"fewer than {threshold} {match.group(2)}" if is_small(n, threshold) else match.group(0)

    return _CASES.sub(cases, _HOURS_ACROSS.sub(hours, text))
