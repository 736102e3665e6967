"""Pricing: the LP's (case, practitioner) pairs brought in as columns while their reduced cost at the duals is negative."""

from __future__ import annotations

import numpy as np

from workload.allocate.grouped import first_per_group
from workload.allocate.model import Model

PRICING_START_PAIRS = 12
"""Solver setting, not a model number: with pricing, each case starts with its current practitioner's pair
and this many others (spread evenly over the PDU's practitioners). 12 and :data:`PRICING_ADD_PER_CASE` 10,
with HiGHS's presolve off, took 44% less HiGHS time than 8 and 5 with presolve on over ten national PDUs
(2,000-3,300 cases each) and a third less on the regional scenario, at the same optimum."""

PRICING_ADD_PER_CASE = 10
"""Solver setting: each pricing round adds at most this many pairs per case, those of most negative
reduced cost."""

PRICING_TOL = 1e-9
"""Numerical guard: a pair joins the model when its reduced cost is below -PRICING_TOL."""


def columns(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's matrix by columns (CSC start, row index, value), from its CSR rows (made once per model)."""
    cached = model.__dict__.get("_csc")
    if cached is None:
        rows = np.repeat(np.arange(model.n_rows), np.diff(model.start))
        order = np.lexsort((rows, model.index))
        start = np.concatenate([[0], np.cumsum(np.bincount(model.index, minlength=model.n_cols))]).astype(np.int64)
        cached = (start, rows[order].astype(np.int32), model.value[order])
        model.__dict__["_csc"] = cached
    return cached


def column_block(
    csc: tuple[np.ndarray, np.ndarray, np.ndarray], cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC (start, index, value) of the given columns, in that order."""
    start, index, value = csc
    lengths = start[cols + 1] - start[cols]
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    take = np.repeat(start[cols] - first, lengths) + np.arange(int(lengths.sum()))
    return first.astype(np.int32), index[take], value[take]


def starting_columns(model: Model) -> np.ndarray:
    """The columns the restricted LP starts with: each case's current pair and :data:`PRICING_START_PAIRS`
    others (spread evenly over its eligible practitioners), and every column that is not a pair."""
    y = model.blocks["y"]
    a = model.arrays
    counts = np.diff(a.pair_start)[a.pair_case]
    rank = (np.arange(a.n_pairs) - a.pair_start[a.pair_case] - (a.pair_case % np.maximum(counts, 1))) % np.maximum(
        counts, 1
    )
    keep = rank < PRICING_START_PAIRS
    keep[a.current_pair[a.current_pair >= 0]] = True
    return np.concatenate([np.flatnonzero(keep) + y.start, np.arange(y.stop, model.n_cols)]).astype(np.int64)


class Pricing:
    """Which pairs enter the restricted LP next, from its row duals.

    A left-out pair e's reduced cost is ``c_e - A_e' pi`` at the row duals pi; while some are negative, each
    case brings in at most :data:`PRICING_ADD_PER_CASE` of them, most negative first. When none is, the
    restricted LP's optimum is the full LP's.
    """

    def __init__(self, model: Model, active: np.ndarray) -> None:
        self.model = model
        self.csc = columns(model)
        self.in_model = np.zeros(model.n_cols, dtype=bool)
        self.in_model[active] = True
        self.rows = np.repeat(np.arange(model.n_rows), np.diff(model.start))

    def entering(self, duals: np.ndarray) -> np.ndarray:
        """Columns to add at these row duals (marked as in the model), in (case, reduced cost) order; empty
        when no left-out pair has a negative reduced cost."""
        model = self.model
        y = model.blocks["y"]
        reduced = model.cost - np.bincount(model.index, weights=model.value * duals[self.rows], minlength=model.n_cols)
        pairs = np.flatnonzero((reduced[y] < -PRICING_TOL) & ~self.in_model[y])
        if not len(pairs):
            return pairs
        # the most negative reduced costs of each case, in (case, reduced cost) order
        add = pairs[first_per_group(model.arrays.pair_case[pairs], reduced[y][pairs], PRICING_ADD_PER_CASE)] + y.start
        self.in_model[add] = True
        return add

    def block(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSC (start, index, value) of these columns, for ``Highs.addCols``."""
        return column_block(self.csc, cols)
