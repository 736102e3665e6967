"""How the loader reports what is wrong: :class:`ScenarioError` holding :class:`workload.errors.Problem`\\ s,
and the small helpers that word them (sizes, column letters, the list of a column's bad cells).

Every problem has a stable dotted ``code`` (``file.*``, ``csv.*``, ``xlsx.*``, ``header.*``, ``table.*``,
``cell.*``, ``row.*``, ``cross.*``, ``settings.*``, ``toml.*``, ``parameter.*``); the wording of messages may
change, the codes do not. A cell's value is given as the problem's ``value``, never inside its message, so
it is quoted one way; a value that looks like personal data is not given at all (``show_value`` False).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workload.errors import InputError, Problem, quote
from workload.load import limits

__all__ = ["Problem", "ScenarioError", "cell_problems", "column_letters", "file_problem_code", "quote", "size_text"]


class ScenarioError(InputError):
    """The scenario cannot be used; ``problems`` lists everything found wrong."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__(problems)


def size_text(n: float) -> str:
    """A file size in plain words (bytes, KB, MB or GB)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def column_letters(i: int) -> str:
    """Spreadsheet letters of the i-th column (0 -> A, 26 -> AA)."""
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


_FILE_CODES = (
    ("file not found", "file.not_found"),
    ("could not be read", "file.unreadable"),
    ("is a folder", "file.folder"),
)


def file_problem_code(message: str) -> str:
    """The code of a message from :func:`workload.safety.regular_file_problem`."""
    return next((code for start, code in _FILE_CODES if message.startswith(start)), "file.not_regular")


def cell_problems(
    label: str,
    column: str,
    rows: np.ndarray,
    values: np.ndarray,
    reason: str | np.ndarray,
    code: str | np.ndarray,
    hidden: bool | np.ndarray = False,
) -> list[Problem]:
    """Problems for the bad cells of a column, listing at most ``limits.MAX_PROBLEMS_PER_COLUMN`` of them and
    counting the rest.

    ``reason``, ``code`` and ``hidden`` are one for every cell or one per cell; a hidden cell's value (one that
    looks like personal data) is left out of the problem altogether.
    """
    n = len(rows)
    cap = limits.MAX_PROBLEMS_PER_COLUMN
    reasons = np.broadcast_to(np.asarray(reason, dtype=object), (n,))
    codes = np.broadcast_to(np.asarray(code, dtype=object), (n,))
    hide = np.broadcast_to(np.asarray(hidden, dtype=bool), (n,))
    out = [
        Problem(label, str(why), row=int(r), column=column, code=str(c), value=None if h else str(v), show_value=not h)
        for r, v, why, c, h in zip(rows[:cap], values[:cap], reasons[:cap], codes[:cap], hide[:cap])
    ]
    if n > cap:
        rest = set(codes[cap:].tolist())
        more = rest.pop() if len(rest) == 1 else "cell.more"
        out.append(Problem(label, f"and {n - cap} more rows with the same problem", column=column, code=more))
    return out
