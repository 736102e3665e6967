"""Vectorised selections within groups: greedy takes up to a budget, the first k of each group, each case's lead link."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workload.allocate.arrays import PduArrays


def take(group: np.ndarray, amount: np.ndarray, priority: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Greedy within groups: take from items in ascending ``priority`` until each group's budget is used.

    ``group[i]`` indexes ``budget``; returns how much is taken from each item (0..amount[i]). Ties go to
    the earlier item. Vectorised: one lexsort and a cumulative sum per group.
    """
    n = len(amount)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((np.arange(n), priority, group))
    g = group[order]
    amt = np.maximum(amount[order], 0.0)
    cum_before = np.cumsum(amt) - amt
    first = np.r_[True, g[1:] != g[:-1]]
    first_pos = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    before = cum_before - cum_before[first_pos]
    taken = np.clip(np.maximum(budget[g], 0.0) - before, 0.0, amt)
    out = np.zeros(n)
    out[order] = taken
    return out


def first_per_group(group: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` items of lowest ``rank`` in each group (ties to the earlier item)."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(group)), rank, group))
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]]
    position = np.arange(len(g)) - np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    return order[position < k]


def lead_links(a: PduArrays, score: np.ndarray) -> np.ndarray:
    """Each case's link of highest ``score`` (one value per link; the first on a tie), -1 for a case with none."""
    lead = first_per_group(a.link_case, -score, 1)
    lead_link = np.full(a.n_cases, -1, dtype=np.int64)
    lead_link[a.link_case[lead]] = lead
    return lead_link
