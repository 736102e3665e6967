"""Reading Parquet tables (the format of the MoJ Analytical Platform) as text cells, like a CSV of them.

A Parquet file carries its own column types, but the loader checks every table the same way, so each cell is
turned into the text a CSV of the table would hold: whole numbers without ".0", other numbers as Python
writes them, dates as ISO dates (2026-04-01), booleans as true/false, missing values (and NaN, pandas's missing
number) as empty cells. Columns
that cannot be one cell of a table (lists, structs, maps, binary) are refused by name.

Rows are numbered from 1, the table's first record (a Parquet file has no header row), so "row 5" is the
fifth record. Sizes are checked from the file's footer before any data is read: more rows than
:data:`~workload.load.limits.MAX_ROWS`, more columns than :data:`~workload.load.limits.MAX_COLUMNS`, or data that
would decompress to more than :data:`~workload.load.limits.MAX_PARQUET_UNCOMPRESSED_BYTES` are refused.

pyarrow is an optional dependency (``pip install "workload[parquet]"``); without it a Parquet table is refused
with that instruction, not a traceback.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workload.load import limits
from workload.load.problems import Problem, ScenarioError, quote, size_text

SUFFIXES = (".parquet", ".pq")
"""File extensions read as Parquet."""

INSTALL = 'pip install "workload[parquet]" (or pip install pyarrow)'
"""How to make Parquet tables readable."""


def _pyarrow(label: str) -> Any:
    """The ``pyarrow.parquet`` module, or a problem saying how to install it."""
    try:
        return importlib.import_module("pyarrow.parquet")
    except ImportError:
        message = f"is a Parquet table, and reading Parquet needs the optional package pyarrow: {INSTALL}; or save the table as CSV"
        raise ScenarioError([Problem(label, message, code="parquet.unavailable")]) from None


def _unreadable(label: str, exc: Exception) -> ScenarioError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    message = f"could not be read as a Parquet file ({quote(reason, limit=120)}); is it really .parquet?"
    return ScenarioError([Problem(label, message, code="parquet.unreadable")])


def _check_size(meta: Any, label: str) -> None:
    """Refuse, from the footer alone, a table too long, too wide or too large once decompressed."""
    problems: list[Problem] = []
    if meta.num_rows > limits.MAX_ROWS:
        message = (
            f"has {meta.num_rows:,} rows, more than any real caseload (limit {limits.MAX_ROWS:,}; England and Wales "
            "supervise about 240,000 people)"
        )
        problems.append(Problem(label, message, code="table.too_many_rows"))
    if meta.num_columns > limits.MAX_COLUMNS:
        message = f"has {meta.num_columns:,} columns (limit {limits.MAX_COLUMNS:,}; the widest table has about 30)"
        problems.append(Problem(label, message, code="table.too_wide"))
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > limits.MAX_PARQUET_UNCOMPRESSED_BYTES:
        message = (
            f"would decompress to {size_text(unpacked)}, more than any real caseload table "
            f"(limit {size_text(limits.MAX_PARQUET_UNCOMPRESSED_BYTES)})"
        )
        problems.append(Problem(label, message, code="file.too_large"))
    if problems:
        raise ScenarioError(problems)


def _whole_as_int(values: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Floats that are whole numbers written without ".0" (37, not 37.0), as a CSV of them would hold them."""
    finite = np.isfinite(values)
    whole = (
        finite & (np.mod(values, 1.0, where=finite, out=np.ones_like(values)) == 0) & (np.abs(values) < 9.2e18)
    )  # within int64: every such float is a whole number exactly
    out = text.copy()
    out[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    return out


def _column_as_text(column: Any, name: str, label: str, types: Any) -> np.ndarray | Problem:
    """One Arrow column as an array of text cells, or a problem if it cannot be cells of a table."""
    kind = column.type
    if types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    nested = types.is_nested(kind) or types.is_binary(kind) or types.is_large_binary(kind)
    if nested or types.is_fixed_size_binary(kind):
        message = (
            f"has type {kind}, which is not one value per cell; tables hold text, numbers, dates or true/false "
            "in each cell"
        )
        return Problem(label, message, column=name, code="parquet.column_type")
    missing = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if types.is_boolean(kind):
        flags = np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        text = np.where(flags, "true", "false").astype(object)
    elif types.is_integer(kind):
        values = column.fill_null(0).to_numpy(zero_copy_only=False)
        text = values.astype(str).astype(object)
    elif types.is_floating(kind) or types.is_decimal(kind):
        values = np.asarray(column.cast("float64").fill_null(0.0).to_numpy(zero_copy_only=False), dtype=float)
        text = _whole_as_int(values, pd.Series(values).astype(str).to_numpy(dtype=object))
        missing |= np.isnan(values)  # NaN is how pandas writes a missing number
    elif types.is_date(kind) or types.is_timestamp(kind):
        stamps = pd.to_datetime(pd.Series(column.to_pandas()), errors="coerce")
        text = stamps.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    else:
        text = pd.Series(column.cast("string").to_pandas(), dtype=object).fillna("").astype(str).to_numpy(dtype=object)
    text[missing] = ""
    return np.asarray(text, dtype=object)


def read_parquet(path: Path, label: str) -> pd.DataFrame:
    """Read a Parquet table as text cells, its column names as the header and its records numbered from 1."""
    pq = _pyarrow(label)
    types = importlib.import_module("pyarrow.types")
    # a file that is not Parquet, or is damaged, raises ArrowInvalid (a ValueError), ArrowIOError or OSError
    errors = (OSError, ValueError, importlib.import_module("pyarrow").ArrowException)
    try:
        handle = pq.ParquetFile(path)
    except errors as exc:
        raise _unreadable(label, exc) from None
    try:
        _check_size(handle.metadata, label)
        table = handle.read()
    except errors as exc:
        raise _unreadable(label, exc) from None
    finally:
        handle.close()
    if table.num_rows == 0:
        message = "is empty: it needs at least one record (a Parquet table's column names are its header)"
        raise ScenarioError([Problem(label, message, code="file.empty")])
    problems: list[Problem] = []
    columns: dict[int, np.ndarray] = {}
    for j, name in enumerate(table.column_names):
        cells = _column_as_text(table.column(j), str(name), label, types)
        if isinstance(cells, Problem):
            problems.append(cells)
        else:
            columns[j] = cells
    if problems:
        raise ScenarioError(problems)
    header = [str(name).strip() for name in table.column_names]
    body = pd.DataFrame({j: columns[j] for j in range(len(header))}, dtype=object)
    body.columns = header
    body.index = pd.Index(np.arange(1, table.num_rows + 1, dtype=np.int64))
    body.attrs["numbers"] = "point"
    return body
