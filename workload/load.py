"""Load and validate a scenario: every problem found in one pass, each pointing at file, row and column.

Tables are checked column by column against the pydantic row models in :mod:`workload.scenario` (their types,
enums and bounds are read from the models, so the models stay the single definition of the format), with
vectorised checks: each column is factorised and the rules run once per distinct value, so a 250,000-row
case table validates in under a second, where validating row by row through pydantic would take many.
Rows are numbered as a spreadsheet shows them: the header is row 1, so the first case is row 2, and blank
rows still count.

Case data is sensitive personal data. Columns whose names look like direct identifiers, and identifiers
whose values look like CRNs, PNC or prison numbers, National Insurance numbers or dates (of birth), are
refused with a message that explains pseudonymisation; such values are never echoed back in messages.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import tomllib
import types
import typing
import zipfile
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, ValidationError

from workload.params import ParameterError, Parameters, load_parameters
from workload.safety import regular_file_problem
from workload.scenario import (
    CONTROL_CHARACTERS,
    RESERVED_LABEL_MESSAGE,
    TABLE_KEYS,
    TABLE_MODELS,
    CaseRecord,
    PractitionerRecord,
    RowLabel,
    ScenarioFile,
    reserved_label_problem,
)

MAX_ROWS = 2_000_000
"""A table longer than this is refused as too large to be real (England and Wales supervise ~240,000)."""

MAX_FILE_BYTES = 1_000_000_000
"""A table file larger than this (1 GB) is refused before it is read."""

MAX_COLUMNS = 1_000
"""A table with a value further right than this many columns is refused (the widest table has 30 columns): in
a workbook such a value is a stray cell, and padding every row out to it would fill memory."""

EXCEL_MAX_ROWS = 1_048_576
"""Excel's last row: a workbook with rows past it is not one Excel wrote (and would be read without end)."""

MAX_XLSX_UNZIPPED_BYTES = 2_000_000_000
"""A workbook whose parts would unzip to more than this (2 GB) is refused before it is opened: 250,000 cases
unzip to about 300 MB, a sheet full to Excel's last row (1,048,576) of cases to about 1.3 GB, and a zip bomb to
far more."""

MAX_XLSX_PART_BYTES = 200_000_000
"""A workbook part other than a sheet or an image (shared strings, styles...) that would unzip to more than this
(200 MB) is refused: openpyxl reads such parts whole into memory, where sheets are streamed row by row."""

MAX_SPEC_BYTES = 10_000_000
"""A scenario.toml larger than this (10 MB; a real one is a few KB) is refused before it is read."""

MAX_PROBLEMS_PER_COLUMN = 20
"""Past this many bad cells in one column, the rest are counted, not listed."""

PEOPLE_MODELS: tuple[type[BaseModel], ...] = (CaseRecord, PractitionerRecord)
"""Tables whose rows are people, where personal-data column names are refused as such."""

PERSONAL_DATA_COLUMNS = re.compile(
    r"(^|_)("
    r"names?|(first|fore|given|sur|last|family|full|middle|maiden|birth|christian|offender|client|person|"
    r"staff|officer|practitioner)_?names?|aliase?s?|initials|"
    r"dob|d_o_b|date_?of_?birth|birth_?date|birth_?day|"
    r"(home_?|postal_?|street_?)?address(es)?|address_?line_?\d*|street|house_?(number|no)|post_?code|postal_?code|"
    r"zip(_?code)?|"
    r"crns?|case_?reference_?(number|no)|pnc|pnc_?(number|no|id)|cro|cro_?(number|no)|nomis(_?(id|number|no))?|"
    r"noms(_?(id|number|no))?|prison_?(number|no)|booking_?(number|no)|"
    r"ni_?(number|no)|nino|national_?insurance(_?(number|no))?|nhs_?(number|no)|passport(_?(number|no))?|"
    r"driving_?licen[cs]e|phone|telephone|tel|mobile|e_?mail(_?address)?"
    r")(_|$)"
)
"""Column names that look like direct identifiers (searched in the name lower-cased, with '_' between words):
refused, because scenarios must be pseudonymised."""

PSEUDONYMISATION = (
    "Scenarios must be pseudonymised: remove names, dates of birth, addresses and CRN/PNC numbers, and use "
    "an opaque case_id (a lookup to the real record stays with you, outside this tool)"
)
"""What every personal-data message tells the user to do."""

_D = r"(?:0?[1-9]|[12]\d|3[01])"
_M = r"(?:0?[1-9]|1[0-2])"
_Y = r"(?:19|20)\d{2}"
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
PERSONAL_DATA_VALUES: dict[str, str] = {
    "a CRN (a letter and six digits)": r"[A-Za-z]\d{6}",
    "a PNC number (year/number and a check letter)": r"(?:\d{2}|\d{4})/\d{1,7}[A-Za-z]",
    "a prison (NOMIS) number": r"[A-Za-z]\d{4}[A-Za-z]{2}",
    "a National Insurance number": r"[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]",
    "a date (of birth?)": (
        rf"(?:{_Y}[-/.]{_M}[-/.]{_D}|{_D}[-/.]{_M}[-/.](?:{_Y}|\d{{2}})|{_M}[-/.]{_D}[-/.]{_Y}|"
        rf"{_D}[-/. ]?{_MON}[-/. ]?(?:{_Y}|\d{{2}})){_TIME}"
    ),
}
"""Shapes of identifying values, by what they look like. Identifier columns holding them are refused."""

_PERSONAL_VALUE = re.compile(
    "|".join(f"(?P<g{i}>{p})" for i, p in enumerate(PERSONAL_DATA_VALUES.values())), re.IGNORECASE
)
_PERSONAL_WHAT = dict(zip((f"g{i}" for i in range(len(PERSONAL_DATA_VALUES))), PERSONAL_DATA_VALUES))

FORMULA_START = ("=", "+", "-", "@")
"""Free text starting with one of these (and more after it) is refused: a spreadsheet would run it as a formula
when the report is opened."""

# CONTROL_CHARACTERS (tabs, line breaks and other control characters, refused in free text, table paths and the
# scenario's name) is defined in workload.scenario, beside the settings that use it, and imported above.

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}

RESAVE = "save it from Excel as 'CSV UTF-8 (Comma delimited)'"
"""How to fix a CSV in the wrong encoding."""

DELIMITERS = (",", ";", "\t")
"""Cell separators recognised in CSV files: ',' (UK Excel), ';' (Excel in much of Europe), tab."""

NUMBER_CONVENTIONS = {",": "point", ";": "comma", "\t": "tab"}
"""How numbers are written, by a CSV's cell separator (a workbook's cells are "point").

- "point": a decimal point; a comma anywhere is refused (in a ',' file it can only be a thousands separator).
- "comma": Excel in much of Europe, a decimal comma; a point is a thousands separator there, so any point is
  refused, as is more than one comma.
- "tab": a decimal point is accepted, but a comma is refused: "6,601" could be UK thousands (6601) or a
  European decimal comma (6.601), and the file does not say which.

A thousands separator is never dropped or read as a decimal point: such a number is refused with its value."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, pointing at where it is."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class ScenarioError(Exception):
    """The scenario cannot be used; ``problems`` lists everything found wrong."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Scenario:
    """A validated scenario: its settings, typed tables indexed by id, and resolved parameters."""

    path: Path
    spec: ScenarioFile
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    partners: pd.DataFrame
    params: Parameters
    warnings: list[Problem] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def pdus(self) -> list[str]:
        """PDUs with at least one case, sorted (the unit the allocator solves)."""
        return sorted(self.cases["pdu"].unique().tolist())


# ----------------------------------------------------------------------------------------------------------
# column kinds, read off the pydantic models


@dataclass(frozen=True)
class ColumnRule:
    """What one column may hold, derived from a model field."""

    name: str
    kind: str  # "text", "int", "float", "enum", "intenum", "list"
    required: bool
    default: Any
    enum: type[Enum] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    item_rule: "ColumnRule | None" = None
    description: str = ""
    row_label: bool = False
    """The values label rows of published tables, so reserved labels ("Total"...) are refused."""

    def allowed(self) -> str:
        """Plain-words description of what the column allows, for error messages and docs."""
        if self.kind in ("enum", "intenum"):
            values = ", ".join(str(e.value) for e in self.enum)  # type: ignore[union-attr]
            extra = " (true/false and yes/no also accepted)" if _is_flag(self.enum) else ""
            return f"one of {values}{extra}"
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            bounds = []
            if self.ge is not None:
                bounds.append(f"at least {_fmt(self.ge)}")
            if self.gt is not None:
                bounds.append(f"more than {_fmt(self.gt)}")
            if self.le is not None:
                bounds.append(f"at most {_fmt(self.le)}")
            if self.lt is not None:
                bounds.append(f"less than {_fmt(self.lt)}")
            return noun + (" " + " and ".join(bounds) if bounds else "")
        if self.kind == "list":
            assert self.item_rule is not None
            return f"a ';'-separated list, each {self.item_rule.allowed()}"
        if self.pattern:
            return "an identifier of letters, digits, '_', '.' or '-' (no spaces), at most 64 characters"
        if self.max_len:
            return f"text of at most {self.max_len} characters"
        return "text"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _is_flag(enum: type[Enum] | None) -> bool:
    return enum is not None and issubclass(enum, IntEnum) and {e.value for e in enum} == {0, 1}


def _rule_from(name: str, annotation: Any, metadata: list[Any], required: bool, default: Any, description: str) -> ColumnRule:
    origin = typing.get_origin(annotation)
    # Optional[X] / X | None
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _rule_from(name, args[0], metadata, required, default, description)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        more = [m for e in extras for m in getattr(e, "metadata", [e])]
        return _rule_from(name, base, [*metadata, *more], required, default, description)
    if origin is list:
        (item,) = typing.get_args(annotation)
        item_rule = _rule_from(name, item, [], True, None, "")
        kw = _bounds(metadata)
        return ColumnRule(name, "list", required, default, item_rule=item_rule, min_len=kw.get("min_len"), description=description)
    kw = _bounds(metadata)
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return ColumnRule(name, "intenum", required, default, enum=annotation, description=description, **kw)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ColumnRule(name, "enum", required, default, enum=annotation, description=description, **kw)
    if annotation is int:
        return ColumnRule(name, "int", required, default, description=description, **kw)
    if annotation is float:
        return ColumnRule(name, "float", required, default, description=description, **kw)
    return ColumnRule(name, "text", required, default, description=description, **kw)


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, Ge):
            kw["ge"] = m.ge
        elif isinstance(m, Gt):
            kw["gt"] = m.gt
        elif isinstance(m, Le):
            kw["le"] = m.le
        elif isinstance(m, Lt):
            kw["lt"] = m.lt
        elif isinstance(m, MinLen):
            kw["min_len"] = m.min_length
        elif isinstance(m, MaxLen):
            kw["max_len"] = m.max_length
        elif isinstance(m, RowLabel):
            kw["row_label"] = True
        elif getattr(m, "pattern", None):
            kw["pattern"] = m.pattern
    return kw


def column_rules(model: type[BaseModel]) -> list[ColumnRule]:
    """The rule for every column of a table, in the model's field order."""
    rules = []
    for name, info in model.model_fields.items():
        default = None
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
        rules.append(_rule_from(name, info.annotation, list(info.metadata), info.is_required(), default, info.description or ""))
    return rules


# ----------------------------------------------------------------------------------------------------------
# reading files


def _size(n: float) -> str:
    """A file size in plain words (bytes, KB, MB or GB)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def _column_letters(i: int) -> str:
    """Spreadsheet letters of the i-th column (0 -> A, 26 -> AA)."""
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _records(buf: bytes, delimiter: str, quoted: bool, exact: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Cells per record of a CSV, and which records are blank lines, counted on the raw bytes (vectorised).

    Delimiters and line breaks inside double quotes do not count (a quote toggles "inside"; an escaped quote
    '""' toggles twice). A quote in the middle of an unquoted cell can mislead this count: the caller checks
    it against the parser's and recounts with :mod:`csv` when they disagree. Unless ``exact``, a file with
    no quotes and no blank lines whose separators add up to a full row each is taken as regular at once
    (a row with too many cells still stops the parser, so none can hide a short one).
    """
    n_records = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
    if not exact and not quoted and b"\n\n" not in buf and b"\n\r\n" not in buf:
        first = buf.split(b"\n", 1)[0].count(delimiter.encode()) + 1
        if buf.count(delimiter.encode()) == (first - 1) * n_records:
            return np.full(n_records, first, dtype=np.int64), np.zeros(n_records, dtype=bool)
    a = np.frombuffer(buf, dtype=np.uint8)
    newline = a == 10
    sep = a == ord(delimiter)
    if quoted:
        outside = (np.cumsum(a == 34, dtype=np.uint8) & 1) == 0
        newline &= outside
        sep &= outside
    ends = np.flatnonzero(newline)
    if len(a) and (len(ends) == 0 or ends[-1] != len(a) - 1):
        ends = np.append(ends, len(a))
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    record_of_sep = np.searchsorted(ends, np.flatnonzero(sep), side="left")
    counts = np.bincount(record_of_sep, minlength=len(ends)).astype(np.int64) + 1
    lengths = ends - starts
    carriage = (lengths > 0) & (a[np.clip(ends - 1, 0, max(len(a) - 1, 0))] == 13)
    blank = (lengths - carriage) == 0
    return counts, blank


def _records_by_csv(text: str, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """Cells per record and blank records, counted by Python's csv module (the slow, exact fallback)."""
    counts, blank = [], []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            counts.append(max(len(row), 1))
            blank.append(len(row) == 0 or (len(row) == 1 and row[0] == ""))
    except csv.Error:  # a cell past csv's size limit: no count, so no ragged-row report
        return np.array([], dtype=np.int64), np.array([], dtype=bool)
    return np.array(counts, dtype=np.int64), np.array(blank, dtype=bool)


def _ragged_problems(label: str, counts: np.ndarray, blank: np.ndarray, n_fields: int, first_row: int) -> list[Problem]:
    """A problem for each record whose number of cells differs from the header's (blank lines are fine)."""
    ragged = (counts != n_fields) & ~blank
    ragged[0] = False
    rows = np.flatnonzero(ragged)
    out = []
    for i in rows[:MAX_PROBLEMS_PER_COLUMN]:
        more = "more" if counts[i] > n_fields else "fewer"
        hint = (
            "a stray separator, or a cell with a separator in it that is not in quotes?"
            if more == "more" else "a missing cell or separator?"
        )
        message = f"has {counts[i]} cells but the header has {n_fields}: {more} cells than columns ({hint})"
        out.append(Problem(label, message, row=int(i) + first_row))
    if len(rows) > MAX_PROBLEMS_PER_COLUMN:
        more_rows = len(rows) - MAX_PROBLEMS_PER_COLUMN
        out.append(Problem(label, f"and {more_rows} more rows whose number of cells differs from the header's"))
    return out


def _decode(raw: bytes, label: str) -> str:
    """The text of a CSV file, or a ScenarioError saying what the bytes are and how to re-save them."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError([Problem(label, f"is UTF-16 text (Excel's 'Unicode Text'); {RESAVE}")])
    if raw.startswith(b"PK\x03\x04"):
        raise ScenarioError(
            [Problem(label, "is a zip file (an Excel workbook?), not a CSV; give it the extension .xlsx, or save it as "
                     "'CSV UTF-8 (Comma delimited)'")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [
                Problem(
                    label,
                    f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); {RESAVE}",
                    row=line,
                )
            ]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError(
            [Problem(label, f"contains NUL bytes, so it is not a text CSV (UTF-16, or a binary file?); {RESAVE}", row=line)]
        )
    return text


def _read_csv(raw: bytes, label: str) -> pd.DataFrame:
    """Parse CSV bytes into text cells with the header as column names and spreadsheet rows as the index."""
    text = _decode(raw, label)
    if not text.strip():
        raise ScenarioError([Problem(label, "is empty: it needs a header row and at least one data row")])
    if "\r" in text and "\n" not in text:  # old Mac line endings
        text = text.replace("\r", "\n")
    # a header may follow blank lines; rows are still numbered from the file's first line
    leading = re.match(r"(?:[ \t]*\r?\n)*", text)
    skipped = leading.group(0).count("\n") if leading else 0
    text = text[leading.end() :] if leading else text
    header_line = text.split("\n", 1)[0]
    counts_in_header = [header_line.count(d) for d in DELIMITERS]
    delimiter = DELIMITERS[int(np.argmax(counts_in_header))] if max(counts_in_header) else ","
    buf = text.encode("utf-8")
    quoted = '"' in text
    counts, blank = _records(buf, delimiter, quoted, exact=False)
    try:
        frame = pd.read_csv(
            io.BytesIO(buf), sep=delimiter, header=None, dtype=object, keep_default_na=False, na_filter=False,
            quoting=csv.QUOTE_MINIMAL, skipinitialspace=False, skip_blank_lines=False, index_col=False,
            engine="c", encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        match = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if match:  # the parser counts records from 0
            raise ScenarioError([Problem(label, "has a quote (\") that is never closed, so the rest of the file would be one cell; "
                                         "close the quote or remove it", row=int(match.group(1)) + 1 + skipped)]) from None
        counts, blank = _records_by_csv(text, delimiter) if quoted else _records(buf, delimiter, quoted)
        problems = _ragged_problems(label, counts, blank, int(counts[0]), 1 + skipped) if len(counts) else []
        if problems:
            raise ScenarioError(problems) from None
        match = re.search(r"(?:line|row) (\d+)", str(exc))
        row = int(match.group(1)) + skipped if match else None
        reason = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        raise ScenarioError([Problem(label, f"is not a well-formed CSV ({reason})", row=row)]) from None
    if quoted and len(counts) != len(frame):
        counts, blank = _records_by_csv(text, delimiter)
    n_fields = frame.shape[1]
    problems = _ragged_problems(label, counts, blank, n_fields, 1 + skipped) if len(counts) == len(frame) else []
    if problems:
        raise ScenarioError(problems)
    rows = np.arange(1, len(frame) + 1) + skipped
    header = [str(c).strip() for c in frame.iloc[0].tolist()]
    body = frame.iloc[1:]
    keep = ~blank[1:] if len(counts) == len(frame) else np.ones(len(body), dtype=bool)
    # rows of empty cells (Excel writes ",,,," for rows it thinks are in use) are left out too
    maybe = np.flatnonzero(keep & (body.iloc[:, 0].to_numpy(dtype=object) == ""))
    if len(maybe):
        cells = body.iloc[maybe].to_numpy(dtype=object)
        keep[maybe[[all(str(c).strip() == "" for c in row) for row in cells]]] = False
    body = body[keep]
    body.columns = header
    body.index = pd.Index(rows[1:][keep])
    body.attrs["numbers"] = NUMBER_CONVENTIONS[delimiter]
    return body


def _not_a_workbook(label: str, exc: Exception) -> ScenarioError:
    return ScenarioError(
        [Problem(label, f"could not be read as an Excel workbook ({type(exc).__name__}: {exc}); is it really .xlsx?")]
    )


_STREAMED_PART = re.compile(r"xl/(?:worksheets/[^/]+\.xml|media/.*)")
"""Workbook parts openpyxl (read-only) streams or never reads; every other part it reads whole."""

_RESAVE_WORKBOOK = "save the table as 'CSV UTF-8 (Comma delimited)' or in a new workbook"


def _check_unzipped_size(path: Path, label: str) -> None:
    """Refuse a workbook that would unzip to more than any real one (a zip bomb), before openpyxl opens it.

    The sizes are those the zip declares; Python's zipfile stops reading a part at its declared size, so a
    part cannot unzip to more than it says.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except Exception as exc:  # noqa: BLE001 (not a zip, or a corrupt one: zipfile raises several types)
        raise _not_a_workbook(label, exc) from None
    total = sum(p.file_size for p in parts)
    if total > MAX_XLSX_UNZIPPED_BYTES:
        message = (
            f"would unzip to {_size(total)}, more than any real caseload workbook (limit {_size(MAX_XLSX_UNZIPPED_BYTES)}; "
            f"a zip bomb?); {_RESAVE_WORKBOOK}"
        )
        raise ScenarioError([Problem(label, message)])
    whole = [p for p in parts if not _STREAMED_PART.fullmatch(p.filename)]
    biggest = max(whole, key=lambda p: p.file_size, default=None)
    if biggest is not None and biggest.file_size > MAX_XLSX_PART_BYTES:
        message = (
            f"its part {biggest.filename} would unzip to {_size(biggest.file_size)}, more than any real caseload workbook "
            f"needs (limit {_size(MAX_XLSX_PART_BYTES)}; a zip bomb?); {_RESAVE_WORKBOOK}"
        )
        raise ScenarioError([Problem(label, message)])


def _sheet_rows(path: Path, label: str) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The rows of a workbook's first sheet that hold anything, as tuples of cell values without trailing empty
    cells, and each one's row number as Excel shows it.

    The sheet is streamed (openpyxl read-only, formulas as their saved values) and its declared size is not
    trusted: a sheet whose dimension says A1:XFD1048576 is read row by row like any other, and empty rows
    cost nothing. A value further right than :data:`MAX_COLUMNS`, more than :data:`MAX_ROWS` rows, or a row
    past Excel's last is refused as soon as it is met, so memory stays bounded by the table itself.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many types for a corrupt workbook)
        raise _not_a_workbook(label, exc) from None
    rows: list[tuple[Any, ...]] = []
    numbers: list[int] = []
    try:
        if not book.worksheets:
            raise ScenarioError([Problem(label, "has no worksheet: its first sheet needs a header row and at least one data row")])
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read to the last cell actually present, not the declared dimension
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > EXCEL_MAX_ROWS:
                message = f"has rows past Excel's last row ({EXCEL_MAX_ROWS:,}), so it is not a workbook Excel wrote; {_RESAVE_WORKBOOK}"
                raise ScenarioError([Problem(label, message)])
            width = len(row)
            if width > MAX_COLUMNS and all(v is None for v in row[MAX_COLUMNS:]):
                width = MAX_COLUMNS  # formatted but empty cells out to the right
            while width and row[width - 1] is None:
                width -= 1
            if not width:
                continue
            if width > MAX_COLUMNS:
                message = (
                    f"has a value in cell {_column_letters(width - 1)}{number}, far outside any table (tables here have "
                    f"at most {MAX_COLUMNS:,} columns); delete the stray cells, or copy just the table into a new workbook"
                )
                raise ScenarioError([Problem(label, message)])
            rows.append(row[:width] if width < len(row) else row)
            numbers.append(number)
            if len(rows) > MAX_ROWS + 1:  # the header and more data rows than any caseload
                message = (
                    f"has more than {MAX_ROWS:,} rows, more than any real caseload (limit {MAX_ROWS:,}; England and "
                    "Wales supervise about 240,000 people)"
                )
                raise ScenarioError([Problem(label, message)])
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 (a corrupt sheet met part way through)
        raise _not_a_workbook(label, exc) from None
    finally:
        book.close()
    return rows, numbers


def _cells_as_text(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Workbook rows as a grid of text cells, as a CSV of the sheet would hold them: empty cells as "", whole
    numbers without ".0" (37, not 37.0), other numbers, dates and booleans as Python writes them."""
    width = max(len(r) for r in rows)
    grid = np.full((len(rows), width), None, dtype=object)
    for i, row in enumerate(rows):
        grid[i, : len(row)] = row
    text = np.empty_like(grid)
    for j in range(width):
        column = pd.Series(grid[:, j], dtype=object)
        cells = column.astype(str)
        cells[column.isna()] = ""
        values = cells.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(grid[:, j], skipna=True) not in ("string", "integer", "boolean", "empty"):
            ends = np.flatnonzero(cells.str.endswith(".0").to_numpy(dtype=bool))
            whole = np.array([isinstance(v, float) and v.is_integer() for v in grid[ends, j]], dtype=bool)
            values[ends[whole]] = [str(int(v)) for v in grid[ends[whole], j]]
        text[:, j] = values
    return text


def _read_xlsx(path: Path, label: str) -> pd.DataFrame:
    """Read the first sheet of a workbook as text cells, header as column names, spreadsheet rows as index.

    Memory stays bounded (see :func:`_check_unzipped_size` and :func:`_sheet_rows`); rows are numbered as Excel
    shows them, and blank rows, before the header or between rows, are left out but still counted.
    """
    _check_unzipped_size(path, label)
    rows, numbers = _sheet_rows(path, label)
    if not rows:
        raise ScenarioError([Problem(label, "is empty: its first sheet needs a header row and at least one data row")])
    cells = _cells_as_text(rows)
    blank = np.ones(len(cells), dtype=bool)
    for j in range(cells.shape[1]):
        blank &= (pd.Series(cells[:, j], dtype=object).str.strip() == "").to_numpy(dtype=bool)
    if blank.all():
        raise ScenarioError([Problem(label, "is empty: its first sheet needs a header row and at least one data row")])
    first = int(np.argmax(~blank))
    header = [str(c).strip() for c in cells[first]]
    keep = ~blank[first + 1 :]
    body = pd.DataFrame(cells[first + 1 :][keep], columns=header, dtype=object)
    body.index = pd.Index(np.asarray(numbers[first + 1 :], dtype=np.int64)[keep])
    body.attrs["numbers"] = "point"
    return body


def read_table(path: Path, label: str) -> pd.DataFrame:
    """Read a CSV or XLSX table as text cells (nothing guessed), or raise ScenarioError naming the file.

    The frame's columns are the header's names as written (duplicates kept, so they can be reported) and its
    index is each row's number as a spreadsheet shows it; blank rows are left out but still counted.

    CSVs may carry a UTF-8 byte-order mark (Excel's "CSV UTF-8") and may be separated by ';' (Excel in
    much of Europe, with decimal commas) or tabs; other encodings are refused with a message that says how
    to re-save the file. A row with more or fewer cells than the header is refused, never padded or shifted.
    Numbers are read in the file's convention (:data:`NUMBER_CONVENTIONS`, kept in the frame's
    ``attrs["numbers"]``). Only regular files are read: a named pipe or a device is refused without being
    opened (it would hang the reader or feed it without end).
    """
    try:
        if not path.exists():
            raise ScenarioError([Problem(label, f"file not found (looked for {path})")])
        if path.is_dir():
            raise ScenarioError([Problem(label, "is a folder, not a table file")])
        problem = regular_file_problem(path)
        if problem is not None:
            raise ScenarioError([Problem(label, problem)])
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                [Problem(label, f"is {_size(size)}, larger than any real caseload table (limit {_size(MAX_FILE_BYTES)})")]
            )
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path, label)
        if suffix not in (".csv", ".txt"):
            raise ScenarioError([Problem(label, f"has extension {path.suffix!r}; tables must be .csv or .xlsx")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(label, f"could not be read ({exc.strerror or type(exc).__name__})")]) from None
    return _read_csv(raw, label)


# ----------------------------------------------------------------------------------------------------------
# checking one table


def _cell_problems(label: str, column: str, rows: np.ndarray, values: np.ndarray, reason: str | np.ndarray) -> list[Problem]:
    """Problems for the bad cells of a column, listing at most MAX_PROBLEMS_PER_COLUMN of them.

    ``reason`` is one reason for every cell, or one per cell; a reason starting with '!' is given without
    the cell's value (used for personal data, which is never echoed back).
    """
    reasons = np.broadcast_to(np.asarray(reason, dtype=object), (len(rows),))
    out = []
    for r, v, why in zip(rows[:MAX_PROBLEMS_PER_COLUMN], values[:MAX_PROBLEMS_PER_COLUMN], reasons[:MAX_PROBLEMS_PER_COLUMN]):
        text = why[1:] if why.startswith("!") else f"{_quote(v)} {why}"
        out.append(Problem(label, text, row=int(r), column=column))
    if len(rows) > MAX_PROBLEMS_PER_COLUMN:
        out.append(Problem(label, f"and {len(rows) - MAX_PROBLEMS_PER_COLUMN} more rows with the same problem", column=column))
    return out


def _quote(value: Any) -> str:
    text = str(value)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > 40:
        text = text[:37] + "..."
    return '""' if text == "" else f'"{text}"'


def _normal_name(name: str) -> str:
    """A column name lower-cased with '_' between words (how a near-miss is matched)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _suggest_column(col: str, known: list[str]) -> str:
    normal = _normal_name(col)
    if normal in known:
        return f"did you mean {normal}?"
    close = difflib.get_close_matches(col, known, n=1, cutoff=0.6) or difflib.get_close_matches(normal, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else f"allowed columns are {', '.join(known)}"


def _header_problems(frame: pd.DataFrame, rules: list[ColumnRule], label: str, people: bool) -> tuple[list[Problem], bool]:
    """Problems with the header (unknown, personal, duplicate, unnamed and missing columns) and the table's
    size, and whether the table can be checked cell by cell. Columns with no name and no values (Excel
    leaves them) are ignored."""
    problems: list[Problem] = []
    known = [r.name for r in rules]
    columns = [str(c) for c in frame.columns]
    for i, col in enumerate(columns):
        if col in known:
            continue
        if col == "":
            cells = frame.iloc[:, i].astype(str).str.strip()
            filled = np.flatnonzero((cells != "").to_numpy())
            if len(filled):
                first = int(_spreadsheet_rows(frame)[filled[0]])
                message = f"has no name in the header but holds values (first on row {first}); name the column or delete it"
                problems.append(Problem(label, message, column=f"{_column_letters(i)} (unnamed)"))
            continue
        if people and PERSONAL_DATA_COLUMNS.search(_normal_name(col)):
            problems.append(Problem(label, f"looks like personal data ({col!r}). {PSEUDONYMISATION}", column=col))
            continue
        problems.append(Problem(label, f"is not a column of this table; {_suggest_column(col, known)}", column=col))
    seen: set[str] = set()
    dupes = sorted({c for c in columns if c != "" and (c in seen or seen.add(c))})
    for col in dupes:
        problems.append(Problem(label, "appears more than once in the header", column=col))
    missing = [r.name for r in rules if r.required and r.name not in columns]
    for name in missing:
        problems.append(Problem(label, "is a required column and is missing from the header", column=name))
    if len(frame) == 0:
        problems.append(Problem(label, "has a header but no data rows"))
    if len(frame) > MAX_ROWS:
        problems.append(
            Problem(label, f"has {len(frame):,} rows, more than any real caseload (limit {MAX_ROWS:,}; "
                    "England and Wales supervise about 240,000 people)")
        )
    checkable = not (missing or dupes or len(frame) == 0 or len(frame) > MAX_ROWS)
    return problems, checkable


def _spreadsheet_rows(frame: pd.DataFrame) -> np.ndarray:
    """Each row's number as a spreadsheet shows it: the frame's index when read from a file, else 2, 3, ..."""
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return np.arange(2, len(frame) + 2)
    return np.asarray(index, dtype=np.int64)


def check_table(frame: pd.DataFrame, model: type[BaseModel], label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check every cell of a table against its row model; return the typed table and every problem.

    The typed table has one column per model field: enums as strings (or small ints for 0/1/2 scores),
    numbers as floats or ints, lists as tuples, blanks of optional columns as their default. Its index is
    each row's spreadsheet row number (as :func:`read_table` gives it, else 2, 3, ...).
    """
    rules = column_rules(model)
    problems, checkable = _header_problems(frame, rules, label, people=model in PEOPLE_MODELS)
    if not checkable:
        return pd.DataFrame(), problems

    n = len(frame)
    rows = _spreadsheet_rows(frame)
    convention = str(frame.attrs.get("numbers", "point"))
    typed: dict[str, Any] = {}
    bad_cells: dict[str, np.ndarray] = {}
    for rule in rules:
        if rule.name not in frame.columns:
            typed[rule.name] = _default_column(rule, n)
            bad_cells[rule.name] = np.zeros(n, dtype=bool)
            continue
        codes, uniques = _factorize(frame[rule.name])
        conv = _convert_uniques(uniques, rule, convention)
        bad = conv.bad[codes]
        blank = conv.blank[codes]
        if rule.required and blank.any():
            problems += _cell_problems(label, rule.name, rows[blank], uniques[codes[blank]], f"is blank; expected {rule.allowed()}")
        bad &= ~blank
        if bad.any():
            problems += _cell_problems(label, rule.name, rows[bad], uniques[codes[bad]], conv.reasons[codes[bad]])
        typed[rule.name] = conv.values[codes]
        bad_cells[rule.name] = bad | (blank & rule.required)
    result = pd.DataFrame(typed, index=pd.Index(rows))
    problems += _row_rule_problems(model, result, bad_cells, label)
    return result, problems


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a column of text cells, the values stripped (missing cells as "")."""
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    stripped = np.array([u.strip() if isinstance(u, str) else str(u).strip() for u in uniques] + [""], dtype=object)
    codes = np.where(codes < 0, len(stripped) - 1, codes)
    return codes, stripped


@dataclass
class _Converted:
    """A column rule applied to each distinct value: typed value, bad or blank, and why it is bad."""

    values: np.ndarray
    bad: np.ndarray
    blank: np.ndarray
    reasons: np.ndarray


def _reason(rule: ColumnRule) -> str:
    noun = {"enum": f"is not a valid {rule.name.replace('_', ' ')}", "intenum": "is not allowed"}.get(rule.kind, "is not allowed")
    return f"{noun}; expected {rule.allowed()}"


def _default_column(rule: ColumnRule, n: int) -> Any:
    if rule.kind == "list":
        return pd.Series([tuple(rule.default or ())] * n, dtype=object).to_numpy()
    if rule.kind in ("int", "intenum"):
        return np.full(n, int(rule.default or 0), dtype=np.int64)
    if rule.kind == "float":
        return np.full(n, float(rule.default or 0.0))
    default = rule.default.value if isinstance(rule.default, Enum) else rule.default
    return pd.Series([default] * n, dtype=object).to_numpy()


def _personal_value_reasons(values: np.ndarray) -> np.ndarray:
    """For each value, the personal-data message when it looks like a CRN, PNC number, date... else None."""
    out = np.full(len(values), None, dtype=object)
    # every shape starts with a digit (PNC numbers, dates) or is 7 or 9-13 characters (CRN, NOMIS, NI number):
    # a cheap first pass keeps the regex off most pseudonymous ids
    candidates = [
        i for i, v in enumerate(values) if 5 <= len(v) <= 32 and (v[0].isdigit() or len(v) == 7 or 9 <= len(v) <= 13)
    ]
    for i in candidates:
        v = values[i]
        match = _PERSONAL_VALUE.fullmatch(v)
        if match is not None:
            what = _PERSONAL_WHAT[str(match.lastgroup)]
            out[i] = f"!looks like {what}, which is personal data (value not shown). {PSEUDONYMISATION}"
    return out


_NUMBERISH = re.compile(r"[+-]?[0-9][0-9.,]*")
"""A number that may have separators in it (digits, points and commas): the cells given the separator message."""


def _separator_refusals(uniques: np.ndarray, rule: ColumnRule, convention: str) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Under a file's number convention (:data:`NUMBER_CONVENTIONS`): which values have a decimal comma to
    read as a point, which are refused for their separators, and why (by position, for number-like values;
    with both readings spelled out when the value has one separator)."""
    comma = np.array([("," in u) for u in uniques], dtype=bool)
    point = np.array([("." in u) for u in uniques], dtype=bool)
    decimal = np.zeros(len(uniques), dtype=bool)
    expected = f"expected {rule.allowed()}"
    reasons: dict[int, str] = {}
    if convention == "comma":
        decimal = comma & ~point & np.array([u.count(",") == 1 for u in uniques], dtype=bool)
        refused = (comma & ~decimal) | point
        for i in np.flatnonzero(refused):
            u = uniques[i]
            why = "is not a number written with a decimal comma and no thousands separators"
            if not comma[i]:
                why += ": in a ';'-separated file a point is a thousands separator; write numbers without thousands separators"
                if u.count(".") == 1:
                    why += f" ({u.replace('.', '')}), and decimals with a comma ({u.replace('.', ',')})"
            reasons[int(i)] = f"{why}; {expected}"
    elif convention == "tab":
        refused = comma
        for i in np.flatnonzero(refused):
            u = uniques[i]
            if point[i]:
                why = "is not a number written with a decimal point and no thousands separators"
            else:
                readings = f" ({u.replace(',', '')})", f" ({u.replace(',', '.')})"
                if u.count(",") != 1:
                    readings = "", ""
                why = (
                    f"has a comma, which in a tab-separated file could be a thousands separator{readings[0]} or a decimal "
                    f"comma{readings[1]}; write numbers with a decimal point and no thousands separators"
                )
            reasons[int(i)] = f"{why}; {expected}"
    else:
        refused = comma
        for i in np.flatnonzero(refused):
            reasons[int(i)] = f"is not a number written with a decimal point and no thousands separators; {expected}"
    reasons = {i: why for i, why in reasons.items() if _NUMBERISH.fullmatch(uniques[i])}
    return decimal, refused, reasons


def _convert_uniques(uniques: np.ndarray, rule: ColumnRule, convention: str = "point") -> _Converted:
    """Apply a column's rule to its distinct (stripped) values: typed values, bad and blank masks, reasons.

    ``convention`` is how the file writes numbers: "point", "comma" or "tab" (see :data:`NUMBER_CONVENTIONS`).
    """
    n = len(uniques)
    blank = np.array([u == "" for u in uniques], dtype=bool)
    reasons = np.full(n, _reason(rule), dtype=object)
    if rule.kind in ("int", "float"):
        text = pd.Series(uniques, dtype=object)
        decimal, refused, separator_reasons = _separator_refusals(uniques, rule, convention)
        text = text.where(~decimal, text.str.replace(",", ".", regex=False))
        numbers = pd.to_numeric(text.where(~refused, "x"), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if rule.kind == "int":
            bad |= np.isfinite(numbers) & ((np.floor(numbers) != numbers) | (np.abs(numbers) > 2**53))
        with np.errstate(invalid="ignore"):
            if rule.ge is not None:
                bad |= numbers < rule.ge
            if rule.gt is not None:
                bad |= numbers <= rule.gt
            if rule.le is not None:
                bad |= numbers > rule.le
            if rule.lt is not None:
                bad |= numbers >= rule.lt
        for i, why in separator_reasons.items():
            reasons[i] = why
        default = float(rule.default) if rule.default is not None else 0.0
        numbers = np.where(blank | bad, default, numbers)
        values = numbers.astype(np.int64) if rule.kind == "int" else numbers
        return _Converted(values, bad, blank, reasons)
    if rule.kind == "intenum":
        assert rule.enum is not None
        mapping = {str(e.value): int(e.value) for e in rule.enum}
        if _is_flag(rule.enum):
            mapping.update({w: 1 for w in TRUE_WORDS})
            mapping.update({w: 0 for w in FALSE_WORDS})
        mapping.update({f"{int(e.value)}.0": int(e.value) for e in rule.enum})
        mapped = [mapping.get(u.lower()) for u in uniques]
        bad = np.array([m is None for m in mapped], dtype=bool)
        default = int(rule.default) if rule.default is not None else 0
        values = np.array([default if m is None else m for m in mapped], dtype=np.int64)
        return _Converted(values, bad, blank, reasons)
    if rule.kind == "enum":
        assert rule.enum is not None
        canonical = {str(e.value).lower(): str(e.value) for e in rule.enum}
        loose = {_normal_name(k): v for k, v in canonical.items()}
        mapped = [canonical.get(u.lower()) for u in uniques]
        bad = np.array([m is None for m in mapped], dtype=bool)
        names = list(canonical.values())
        for i in np.flatnonzero(bad & ~blank):
            close = difflib.get_close_matches(uniques[i], names, n=1, cutoff=0.6)
            guess = loose.get(_normal_name(uniques[i])) or (close[0] if close else None)
            if guess:
                reasons[i] = f"{_reason(rule)} (did you mean {guess}?)"
        default = rule.default.value if isinstance(rule.default, Enum) else rule.default
        values = np.array([default if m is None else m for m in mapped], dtype=object)
        return _Converted(values, bad, blank, reasons)
    if rule.kind == "list":
        assert rule.item_rule is not None
        split = [[p for p in re.split(r"\s*[;|]\s*", u) if p != ""] for u in uniques]
        items = np.array(sorted({p for parts in split for p in parts}), dtype=object)
        item_conv = _convert_uniques(items, rule.item_rule, convention) if len(items) else None
        position = {v: i for i, v in enumerate(items.tolist())}
        bad = np.zeros(n, dtype=bool)
        values = np.empty(n, dtype=object)
        for i, parts in enumerate(split):
            idx = [position[p] for p in parts]
            if item_conv is not None and idx:
                item_bad = item_conv.bad[idx]
                bad[i] = bool(item_bad.any())
                personal = [
                    item_conv.reasons[j] for j in idx if item_conv.bad[j] and str(item_conv.reasons[j]).startswith("!")
                ]
                reserved = [items[j] for j in idx if item_conv.bad[j] and item_conv.reasons[j] == RESERVED_LABEL_MESSAGE]
                if personal:
                    reasons[i] = personal[0]
                elif reserved:
                    single = len(parts) == 1
                    reasons[i] = RESERVED_LABEL_MESSAGE if single else f"has {_quote(reserved[0])} in it, which {RESERVED_LABEL_MESSAGE}"
                values[i] = tuple(dict.fromkeys(item_conv.values[j] for j in idx if not item_conv.bad[j]))
            else:
                values[i] = ()
        if rule.min_len:
            counts = np.array([len(v) for v in values])
            bad |= (counts < rule.min_len) & ~blank
        return _Converted(values, bad, blank, reasons)
    # text
    bad = np.zeros(n, dtype=bool)
    if rule.max_len is not None:
        bad |= np.array([len(u) > rule.max_len for u in uniques], dtype=bool)
    if rule.pattern is not None:
        pattern = re.compile(rule.pattern)
        bad |= np.array([pattern.fullmatch(u) is None for u in uniques], dtype=bool)
    else:
        control = np.array([CONTROL_CHARACTERS.search(u) is not None for u in uniques], dtype=bool)
        formula = np.array([len(u) > 1 and u.startswith(FORMULA_START) for u in uniques], dtype=bool)
        reasons[control & ~blank] = (
            f"has a control character (a tab, line break or similar) in it; expected {rule.allowed()}"
        )
        for i in np.flatnonzero(formula):
            reasons[i] = (
                f"starts with {uniques[i][0]!r}, so a spreadsheet would run it as a formula when the results are "
                "opened; remove that first character"
            )
        bad |= control | formula
    if rule.row_label:
        reserved = ~bad & ~blank & np.array([reserved_label_problem(u) is not None for u in uniques], dtype=bool)
        reasons[reserved] = RESERVED_LABEL_MESSAGE
        bad |= reserved
    personal = _personal_value_reasons(uniques)
    is_personal = personal != None  # noqa: E711 (element-wise)
    reasons[is_personal] = personal[is_personal]
    bad |= is_personal
    bad &= ~blank
    default = rule.default.value if isinstance(rule.default, Enum) else rule.default
    values = np.where(blank | bad, None, uniques).astype(object)
    if default is not None:
        values[blank] = default
    return _Converted(values, bad, blank, reasons)


@dataclass(frozen=True)
class NotMoreThan:
    """A rule across two columns of one row: ``column`` must not exceed ``limit``."""

    model: type[BaseModel]
    column: str
    limit: str
    why: str


ROW_RULES: tuple[NotMoreThan, ...] = (
    NotMoreThan(PractitionerRecord, "reduction_hours_per_week", "contracted_hours_per_week",
                "reductions come out of contracted hours"),
)
"""Rules across the columns of one row, checked where both cells are otherwise valid."""


def _row_rule_problems(
    model: type[BaseModel], typed: pd.DataFrame, bad_cells: dict[str, np.ndarray], label: str
) -> list[Problem]:
    """Problems with rules across the columns of a row (:data:`ROW_RULES`)."""
    problems: list[Problem] = []
    rows = typed.index.to_numpy()
    for rule in ROW_RULES:
        if rule.model is not model:
            continue
        value, limit = typed[rule.column].to_numpy(), typed[rule.limit].to_numpy()
        broken = (value > limit) & ~bad_cells[rule.column] & ~bad_cells[rule.limit]
        for r, v, lim in zip(rows[broken][:MAX_PROBLEMS_PER_COLUMN], value[broken], limit[broken]):
            message = f"{_fmt(v)} is more than {rule.limit} ({_fmt(lim)}); {rule.why}"
            problems.append(Problem(label, message, row=int(r), column=rule.column))
        more = int(broken.sum()) - MAX_PROBLEMS_PER_COLUMN
        if more > 0:
            problems.append(Problem(label, f"and {more} more rows with the same problem", column=rule.column))
    return problems


# ----------------------------------------------------------------------------------------------------------
# the scenario as a whole


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> Problem:
    match = re.search(r"line (\d+)", str(exc))
    return Problem(path.name, f"is not valid TOML: {exc}", row=int(match.group(1)) if match else None)


def _found(value: Any) -> str:
    """A setting's value as a message quotes it: its repr (control characters escaped), cut short when long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_spec(path: Path) -> ScenarioFile:
    """Read and check scenario.toml (or raise ScenarioError naming every problem).

    Only a regular file is read (a named pipe or a device is refused without being opened), and one larger
    than :data:`MAX_SPEC_BYTES` is refused before it is read.
    """
    label = path.name
    try:
        if not path.exists():
            raise ScenarioError([Problem(str(path), "scenario file not found")])
        if path.is_dir():
            if (path / "scenario.toml").exists():
                return read_spec(path / "scenario.toml")
            raise ScenarioError([Problem(str(path), "is a folder with no scenario.toml in it")])
        problem = regular_file_problem(path)
        if problem is not None:
            raise ScenarioError([Problem(label, problem)])
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise ScenarioError([Problem(label, f"is {_size(size)}, far larger than any scenario file (limit {_size(MAX_SPEC_BYTES)})")])
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([_toml_problem(path, exc)]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(label, "is not UTF-8 text; save it as UTF-8")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(label, f"could not be read ({exc.strerror or type(exc).__name__})")]) from None
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                section: Any = ScenarioFile
                for part in err["loc"][:-1]:
                    section = section.model_fields[str(part)].annotation
                close = difflib.get_close_matches(str(err["loc"][-1]), list(section.model_fields), n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; allowed: {', '.join(section.model_fields)}"
                problems.append(Problem(label, f"{loc} is not a setting{hint}"))
            else:
                found = f" (found {_found(err['input'])})" if err["type"] != "missing" else ""
                problems.append(Problem(label, f"{loc}: {err['msg']}{found}"))
        raise ScenarioError(problems) from None


def resolve_table_path(folder: Path, relative: str, label: str) -> Path:
    """A table path inside the scenario folder, refusing absolute paths and '..' escapes."""
    if not relative.strip():
        raise ScenarioError([Problem(label, "a tables path is blank; give the table's file name, e.g. \"cases.csv\"")])
    if CONTROL_CHARACTERS.search(relative):
        raise ScenarioError([Problem(label, f"tables path {relative!r} has a control character in it")])
    candidate = Path(relative)
    if candidate.is_absolute() or candidate.drive:
        raise ScenarioError([Problem(label, f"tables path {relative!r} is absolute; give a path relative to scenario.toml, inside its folder")])
    try:
        resolved = (folder / candidate).resolve()
        inside = resolved.is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a name too long...
        raise ScenarioError([Problem(label, f"tables path {relative!r} cannot be followed ({exc})")]) from None
    if not inside:
        raise ScenarioError([Problem(label, f"tables path {relative!r} leads outside the scenario folder; keep tables beside scenario.toml")])
    return resolved


def load_scenario(path: str | Path) -> Scenario:
    """Read scenario.toml and its tables, check everything, and return a typed Scenario.

    Raises ScenarioError listing every problem found (file, row, column, value, what is allowed).
    """
    path = Path(path)
    try:
        if path.is_dir():
            path = path / "scenario.toml"
    except OSError as exc:
        raise ScenarioError([Problem(str(path)[:80], f"cannot be opened ({exc.strerror or type(exc).__name__})")]) from None
    spec = read_spec(path)
    label = path.name
    folder = path.parent
    problems: list[Problem] = []

    try:
        params = load_parameters(spec.parameters)
    except ParameterError as exc:
        problems.append(Problem(label, f"[parameters]: {exc}"))
        params = load_parameters()

    frames: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    used: dict[Path, str] = {}
    for key in ("cases", "practitioners", "partners"):
        relative = getattr(spec.tables, key)
        if relative is None:
            continue
        try:
            table_path = resolve_table_path(folder, relative, label)
            if table_path in used:
                message = (
                    f"tables.{key} names the same file as tables.{used[table_path]} ({relative!r}); "
                    "each table needs its own file"
                )
                raise ScenarioError([Problem(label, message)])
            used[table_path] = key
            labels[key] = table_path.name
            raw = read_table(table_path, table_path.name)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        typed, table_problems = check_table(raw, TABLE_MODELS[key], table_path.name)
        problems += table_problems
        frames[key] = typed

    if "cases" in frames and "practitioners" in frames and not frames["cases"].empty and not frames["practitioners"].empty:
        problems += cross_checks(frames, labels)
    if problems:
        raise ScenarioError(problems)

    cases = frames["cases"].set_index("case_id")
    practitioners = frames["practitioners"].set_index("practitioner_id")
    partners = frames.get("partners")
    if partners is None or partners.empty:
        partners = pd.DataFrame({name: pd.Series(dtype=object) for name in TABLE_MODELS["partners"].model_fields})
    partners = partners.set_index("partner_id")
    return Scenario(path=path.resolve(), spec=spec, cases=cases, practitioners=practitioners, partners=partners, params=params)


def _duplicate_problems(frame: pd.DataFrame, key: str, label: str) -> list[Problem]:
    ids = frame[key]
    dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    if not dup.any():
        return []
    rows = frame.index.to_numpy()
    first_row = pd.Series(rows, index=ids.to_numpy()).groupby(level=0).min()
    out = [
        Problem(label, f"{_quote(v)} is a duplicate id; it first appears on row {int(first_row[v])}. Each {key} must be unique", row=int(r), column=key)
        for v, r in zip(ids.to_numpy()[dup][:MAX_PROBLEMS_PER_COLUMN], rows[dup][:MAX_PROBLEMS_PER_COLUMN])
    ]
    if dup.sum() > MAX_PROBLEMS_PER_COLUMN:
        out.append(Problem(label, f"and {int(dup.sum()) - MAX_PROBLEMS_PER_COLUMN} more duplicate ids", column=key))
    return out


def cross_checks(frames: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """Checks across tables: duplicate ids, current practitioners that do not exist or sit in another PDU,
    PDUs with cases but nobody to hold them, partners serving PDUs that do not exist."""
    problems: list[Problem] = []
    cases, staff = frames["cases"], frames["practitioners"]
    for key, frame in frames.items():
        if not frame.empty:
            problems += _duplicate_problems(frame, TABLE_KEYS[key], labels[key])

    staff_pdu = dict(zip(staff["practitioner_id"], staff["pdu"]))
    current = cases["current_practitioner_id"]
    held = current.notna().to_numpy()
    rows = cases.index.to_numpy()
    known = current.isin(list(staff_pdu)).to_numpy(dtype=bool)
    unknown = held & ~known
    if unknown.any():
        problems += _cell_problems(
            labels["cases"], "current_practitioner_id", rows[unknown], current.to_numpy()[unknown],
            f"is not a practitioner_id in {labels['practitioners']}; leave it blank for an unallocated case",
        )
    their_pdu = current.map(staff_pdu).to_numpy(dtype=object)
    own_pdu = cases["pdu"].to_numpy(dtype=object)
    # a PDU cell already refused (blank in the typed table) is not compared again
    elsewhere = held & known & pd.notna(their_pdu) & pd.notna(own_pdu) & (their_pdu != own_pdu)
    if elsewhere.any():
        for r, p, own, theirs in zip(rows[elsewhere][:MAX_PROBLEMS_PER_COLUMN], current.to_numpy()[elsewhere],
                                     cases["pdu"].to_numpy()[elsewhere], their_pdu[elsewhere]):
            problems.append(
                Problem(labels["cases"], f'"{p}" works in PDU "{theirs}" but the case is in PDU "{own}"; a case is held within its own PDU',
                        row=int(r), column="current_practitioner_id")
            )
        if elsewhere.sum() > MAX_PROBLEMS_PER_COLUMN:
            problems.append(Problem(labels["cases"], f"and {int(elsewhere.sum()) - MAX_PROBLEMS_PER_COLUMN} more rows with the same problem",
                                    column="current_practitioner_id"))

    case_pdus = set(cases["pdu"].dropna())
    can_hold = staff[staff["grade"] != "SPO"]
    staff_pdus = set(can_hold["pdu"])
    counts = cases["pdu"].value_counts()
    for pdu in sorted(case_pdus - staff_pdus):
        n = int(counts[pdu])
        problems.append(
            Problem(labels["cases"], f'PDU "{pdu}" has {n} cases but no practitioner who can hold cases (PO, PSO or PQiP) in {labels["practitioners"]}',
                    column="pdu")
        )
    partners = frames.get("partners")
    if partners is not None and not partners.empty:
        all_pdus = case_pdus | set(staff["pdu"])
        for r, served in zip(partners.index.to_numpy(), partners["pdus"]):
            strange = [p for p in served if p not in all_pdus]
            if strange:
                problems.append(
                    Problem(labels["partners"], f"serves PDU {', '.join(repr(s) for s in strange)}, which has no cases or practitioners; known PDUs are {', '.join(sorted(all_pdus)[:12])}",
                            row=int(r), column="pdus")
                )
    return problems
