"""Two small guards every reader and writer shares: read only regular files, write no spreadsheet formula.

- :func:`regular_file_problem`: a path is read only when it is a regular file (after symlinks). A named pipe,
  a device node or a socket would hang a reader or feed it without end, so it is refused with a message.
- :func:`escape_formula` / :func:`escape_formulas`: a text cell that begins with ``=``, ``+``, ``-``, ``@``
  (or a tab or carriage return, which some spreadsheets skip before those) is prefixed with a single quote,
  so Excel, LibreOffice and Google Sheets show it as text instead of evaluating it (OWASP's advice on CSV
  injection). Numbers are never touched: ``-3.5`` stays a number.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a text cell as a formula (or skip to one that does)."""


def regular_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (missing, a folder, a pipe, a device...), or None when it can.

    ``stat`` follows symlinks and never opens the file, so a FIFO is recognised without blocking on it.
    """
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"could not be read ({exc.strerror or type(exc).__name__})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe, not a regular file; only regular files are read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file; only regular files are read"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file; only regular files are read"
    return "is not a regular file; only regular files are read"


def escape_formula(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell: text starting like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels cannot run as formulas.

    Only object (text) columns are scanned, vectorised; numeric columns are returned as they are. The frame
    itself is not changed; when nothing needs escaping it is returned as is.
    """
    out = frame
    for name, dtype in frame.dtypes.items():
        if dtype.kind != "O":
            continue
        # vectorised: non-text cells give NaN, which counts as "does not start like a formula"
        column = frame[name]
        try:
            starts = column.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
        except AttributeError:  # no text in the column at all (e.g. tuples or booleans)
            continue
        if not starts.any():
            continue
        if out is frame:
            out = frame.copy(deep=False)
        fixed = column.to_numpy(dtype=object).copy()
        fixed[starts] = ["'" + v for v in fixed[starts].tolist()]
        out[name] = fixed
    if any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in frame.columns):
        out = out if out is not frame else frame.copy(deep=False)
        out.columns = [escape_formula(c) for c in frame.columns]
    if frame.index.dtype.kind == "O" and _any_starts_like_formula(frame.index):
        out = out if out is not frame else frame.copy(deep=False)
        out.index = pd.Index([escape_formula(i) for i in frame.index], name=frame.index.name)
    return out


def _any_starts_like_formula(index: pd.Index) -> bool:
    """Whether any text label of ``index`` starts like a formula (vectorised: a national run's 250,000 case ids
    are checked for every table written)."""
    try:
        starts = index.str.startswith(FORMULA_STARTS)
    except AttributeError:  # no text labels at all
        return False
    return bool(pd.Series(np.asarray(starts, dtype=object)).fillna(False).astype(bool).any())
