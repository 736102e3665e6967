"""The one error model: every problem with a user's input is a :class:`Problem`, rendered one way.

Errors are data (as pandera's failure cases are): a problem names what is wrong (``code``), where (``file``,
``sheet``, ``row``, ``column``, ``key``), the ``value`` found when it may be shown, and what is allowed
(``message``). Every command renders problems with :func:`render` and exits 2; nothing else formats them.
A value that looks like personal data (a name, a date of birth, a CRN) is never shown: ``show_value`` is
False and :func:`render` leaves it out.

The codes are dotted and stable, e.g. ``file.not_found``, ``cell.not_a_number``, ``parameter.out_of_range``,
``sweep.folder``: tests and scripts may key on them; the wording of ``message`` may change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FORMAT_CHARACTERS = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
"""Unicode's format characters (category Cf, Unicode 14), as the inside of a regular expression's ``[...]``:
invisible characters such as zero-width spaces and joiners, bidirectional overrides (U+202E), the byte-order
mark (U+FEFF) and word joiners. Free text and labels refuse them as control characters: "Total\u200b" looks
like "Total", and a right-to-left override reverses what a reader sees."""

FORMAT_CHARACTER = re.compile(f"[{FORMAT_CHARACTERS}]")
"""Matches one format character (see :data:`FORMAT_CHARACTERS`)."""

GENERIC = "input.invalid"
"""The code of a problem that has no more specific one."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, pointing at where it is.

    ``message`` says what is wrong and what is allowed. When ``value`` is given and may be shown it is put
    before the message in quotes; otherwise the message is expected to speak for itself.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    code: str = GENERIC
    sheet: str | None = None
    key: str | None = None
    value: str | None = None
    show_value: bool = True

    def where(self) -> str:
        """``file, sheet S, row R, column C`` (the parts that are known), then ``: key`` when there is one
        (``scenario.toml: [parameters]``)."""
        parts = [self.file]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        place = ", ".join(parts)
        return place if self.key is None else f"{place}: {self.key}"

    def __str__(self) -> str:
        shown = f"{quote(self.value)} " if self.value is not None and self.show_value else ""
        return f"{self.where()}: {shown}{self.message}"


def quote(value: object, limit: int = 40) -> str:
    """A value as a message shows it: in double quotes, control and other unprintable characters escaped
    (``"White\\tBritish"``), cut to ``limit`` characters with "..." when longer; ``""`` for an empty cell."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f'"{text}"'


class InputError(Exception):
    """The input cannot be used; ``problems`` lists everything found wrong (exit 2, nothing written)."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def render(problems: Iterable[Problem | str]) -> str:
    """The text every command prints for a list of problems: a count line, then one line each."""
    items = [str(p) for p in problems]
    count = len(items)
    lines = [f"{count} problem{'s' if count != 1 else ''} found:"]
    lines += [f"  - {item}" for item in items]
    return "\n".join(lines)
