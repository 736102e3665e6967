"""The building blocks of the allocator's model: a family of variables (:class:`ColumnBlock`), a family of
constraints as CSR rows (:class:`RowBlock`, built by :func:`_csr` from coordinate entries), and where each
variable family sits in the column vector (:class:`Layout`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColumnBlock:
    """One family of variables: its bounds, objective cost, integrality and the ids that label it."""

    name: str
    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray
    integer: bool
    labels: list[np.ndarray]

    @property
    def size(self) -> int:
        return len(self.lower)


@dataclass(frozen=True)
class RowBlock:
    """One constraint family as CSR rows over the model's columns, with row bounds and labels."""

    name: str
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    labels: list[np.ndarray]

    @property
    def size(self) -> int:
        return len(self.lower)


def _csr(
    name: str,
    n_rows: int,
    row: np.ndarray,
    col: np.ndarray,
    val: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    labels: list[np.ndarray],
) -> RowBlock:
    """A RowBlock from coordinate entries (row, col, val); entries are ordered by row, stably."""
    order = np.argsort(row, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_rows))]).astype(np.int64)
    return RowBlock(
        name,
        start,
        col[order].astype(np.int32),
        val[order].astype(float),
        np.asarray(lower, dtype=float),
        np.asarray(upper, dtype=float),
        labels,
    )


@dataclass(frozen=True)
class Layout:
    """Where each variable block starts in the column vector."""

    offsets: dict[str, int]
    sizes: dict[str, int]

    def slice(self, name: str) -> slice:
        return slice(self.offsets[name], self.offsets[name] + self.sizes[name])

    def cols(self, name: str, positions: np.ndarray) -> np.ndarray:
        return self.offsets[name] + np.asarray(positions, dtype=np.int64)


def _one_row(name: str, col: np.ndarray, val: np.ndarray, upper: float, label: object) -> RowBlock:
    """A family of one row, ``sum val * column <= upper`` (the budget and move-budget rows)."""
    return _csr(
        name,
        1,
        np.zeros(len(col), dtype=np.int64),
        col,
        val,
        np.array([-np.inf]),
        np.array([float(upper)]),
        [np.array([label], dtype=object)],
    )
