"""Drawing helpers shared by the steps of :mod:`workload.synth` (whole numbers in proportion, categories, normal
thresholds, the logistic function).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into whole numbers in proportion to ``weights`` (Hamilton's method, ties by order)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _categorical(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Index of the category drawn for each case, from the row ``probs[group]`` of a probability matrix."""
    probs = np.asarray(probs, dtype=float)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    idx = (u[:, None] >= cum[group]).sum(axis=1)
    return np.minimum(idx, probs.shape[1] - 1)


def _threshold(prevalence: float) -> float:
    """The normal score above which a share ``prevalence`` of cases lies."""
    if prevalence <= 0:
        return math.inf
    if prevalence >= 1:
        return -math.inf
    return _NORMAL.inv_cdf(1.0 - prevalence)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, without overflow for large arguments."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
