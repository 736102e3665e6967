"""Reading table files: CSV and XLSX as text cells, nothing guessed, rows numbered as a spreadsheet shows them.

CSVs are decoded (UTF-8, with or without Excel's byte-order mark; other encodings refused with how to re-save
the file), their separator found from the header (',', ';' or tab), and rows with more or fewer cells than
the header refused, never padded or shifted; the cell counts are made on the raw bytes, vectorised.
Workbooks are streamed within bounded memory: a zip bomb, a stray far cell or rows past Excel's last are
refused as soon as they are met.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from workload.load import limits, parquet
from workload.load.problems import (
    Problem,
    ScenarioError,
    column_letters,
    file_problem_code,
    quote,
    size_text,
)
from workload.safety import regular_file_problem

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
    for i in rows[: limits.MAX_PROBLEMS_PER_COLUMN]:
        more = "more" if counts[i] > n_fields else "fewer"
        hint = (
            "a stray separator, or a cell with a separator in it that is not in quotes?"
            if more == "more"
            else "a missing cell or separator?"
        )
        message = f"has {counts[i]} cells but the header has {n_fields}: {more} cells than columns ({hint})"
        out.append(Problem(label, message, row=int(i) + first_row, code="csv.ragged"))
    if len(rows) > limits.MAX_PROBLEMS_PER_COLUMN:
        more_rows = len(rows) - limits.MAX_PROBLEMS_PER_COLUMN
        out.append(
            Problem(
                label, f"and {more_rows} more rows whose number of cells differs from the header's", code="csv.ragged"
            )
        )
    return out


def _decode(raw: bytes, label: str) -> str:
    """The text of a CSV file, or a ScenarioError saying what the bytes are and how to re-save them."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(
            [Problem(label, f"is UTF-16 text (Excel's 'Unicode Text'); {RESAVE}", code="file.encoding")]
        )
    if raw.startswith(b"PK\x03\x04"):
        raise ScenarioError(
            [
                Problem(
                    label,
                    "is a zip file (an Excel workbook?), not a CSV; give it the extension .xlsx, or save it as "
                    "'CSV UTF-8 (Comma delimited)'",
                    code="file.not_csv",
                )
            ]
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
                    code="file.encoding",
                )
            ]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError(
            [
                Problem(
                    label,
                    f"contains NUL bytes, so it is not a text CSV (UTF-16, or a binary file?); {RESAVE}",
                    row=line,
                    code="file.encoding",
                )
            ]
        )
    return text


def _read_csv(raw: bytes, label: str) -> pd.DataFrame:
    """Parse CSV bytes into text cells with the header as column names and spreadsheet rows as the index."""
    text = _decode(raw, label)
    if not text.strip():
        raise ScenarioError(
            [Problem(label, "is empty: it needs a header row and at least one data row", code="file.empty")]
        )
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
            io.BytesIO(buf),
            sep=delimiter,
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            quoting=csv.QUOTE_MINIMAL,
            skipinitialspace=False,
            skip_blank_lines=False,
            index_col=False,
            engine="c",
            encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        match = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if match:  # the parser counts records from 0
            raise ScenarioError(
                [
                    Problem(
                        label,
                        'has a quote (") that is never closed, so the rest of the file would be one cell; '
                        "close the quote or remove it",
                        row=int(match.group(1)) + 1 + skipped,
                        code="csv.unclosed_quote",
                    )
                ]
            ) from None
        counts, blank = _records_by_csv(text, delimiter) if quoted else _records(buf, delimiter, quoted)
        problems = _ragged_problems(label, counts, blank, int(counts[0]), 1 + skipped) if len(counts) else []
        if problems:
            raise ScenarioError(problems) from None
        match = re.search(r"(?:line|row) (\d+)", str(exc))
        row = int(match.group(1)) + skipped if match else None
        reason = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        raise ScenarioError(
            [Problem(label, f"is not a well-formed CSV ({reason})", row=row, code="csv.malformed")]
        ) from None
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
        [
            Problem(
                label,
                f"could not be read as an Excel workbook ({type(exc).__name__}: {exc}); is it really .xlsx?",
                code="xlsx.unreadable",
            )
        ]
    )


_STREAMED_PART = re.compile(r"xl/(?:worksheets/[^/]+\.xml|media/.*)")
"""Workbook parts openpyxl (read-only) streams or never reads; every other part it reads whole."""

_RESAVE_WORKBOOK = "save the table as 'CSV UTF-8 (Comma delimited)' or in a new workbook"

_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_CONTENT_TYPES = "[Content_Types].xml"


def _shared_strings_parts(archive: zipfile.ZipFile, label: str) -> set[str]:
    """The parts openpyxl would read as shared strings: the one [Content_Types].xml names (wherever it is), and
    xl/sharedStrings.xml. The manifest itself is small in any real workbook, and refused when it is not."""
    parts = {"xl/sharedStrings.xml"}
    try:
        info = archive.getinfo(_CONTENT_TYPES)
    except KeyError:
        return parts
    if info.file_size > limits.MAX_XLSX_STYLES_BYTES:
        message = (
            f"its part {_CONTENT_TYPES} would unzip to {size_text(info.file_size)}, more than any real workbook's "
            f"(limit {size_text(limits.MAX_XLSX_STYLES_BYTES)}); {_RESAVE_WORKBOOK}"
        )
        raise ScenarioError([Problem(label, message, code="xlsx.too_large")])
    try:
        with archive.open(info) as source:
            for _, element in ElementTree.iterparse(source, events=("end",)):
                if element.tag.rpartition("}")[2] == "Override" and element.get("ContentType") == _SHARED_STRINGS_TYPE:
                    parts.add(str(element.get("PartName", "")).lstrip("/"))
                element.clear()
    except Exception as exc:  # noqa: BLE001 (a corrupt manifest: zipfile and expat raise several types)
        raise _not_a_workbook(label, exc) from None
    return parts


def _check_unzippedsize_text(path: Path, label: str) -> None:
    """Refuse a workbook that would unzip to more than any real one (a zip bomb), before openpyxl opens it.

    The sizes are those the zip declares; Python's zipfile stops reading a part at its declared size, so a
    part cannot unzip to more than it says. Besides the whole workbook and every part openpyxl reads whole,
    the styles (:data:`~workload.load.limits.MAX_XLSX_STYLES_BYTES`) and shared strings
    (:data:`~workload.load.limits.MAX_XLSX_SHARED_STRINGS_BYTES`) have limits of their own, wherever the
    shared strings are kept: millions of formats or strings take openpyxl minutes and gigabytes.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            shared = _shared_strings_parts(archive, label)
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 (not a zip, or a corrupt one: zipfile raises several types)
        raise _not_a_workbook(label, exc) from None
    total = sum(p.file_size for p in parts)
    if total > limits.MAX_XLSX_UNZIPPED_BYTES:
        message = (
            f"would unzip to {size_text(total)}, more than any real caseload workbook (limit {size_text(limits.MAX_XLSX_UNZIPPED_BYTES)}; "
            f"a zip bomb?); {_RESAVE_WORKBOOK}"
        )
        raise ScenarioError([Problem(label, message, code="xlsx.too_large")])
    for part in parts:
        if part.filename == "xl/styles.xml" and part.file_size > limits.MAX_XLSX_STYLES_BYTES:
            message = (
                f"its styles part {part.filename} would unzip to {size_text(part.file_size)}, more than any real workbook's "
                f"(limit {size_text(limits.MAX_XLSX_STYLES_BYTES)}; real ones are well under 1 MB): it holds far too many "
                f"cell formats; {_RESAVE_WORKBOOK}"
            )
            raise ScenarioError([Problem(label, message, code="xlsx.too_many_styles")])
        if part.filename in shared and part.file_size > limits.MAX_XLSX_SHARED_STRINGS_BYTES:
            message = (
                f"its shared strings part {part.filename} would unzip to {size_text(part.file_size)}, more than any real "
                f"caseload workbook's (limit {size_text(limits.MAX_XLSX_SHARED_STRINGS_BYTES)}; 250,000 cases need under "
                f"20 MB); {_RESAVE_WORKBOOK}"
            )
            raise ScenarioError([Problem(label, message, code="xlsx.too_many_strings")])
    whole = [p for p in parts if not _STREAMED_PART.fullmatch(p.filename) or p.filename in shared]
    biggest = max(whole, key=lambda p: p.file_size, default=None)
    if biggest is not None and biggest.file_size > limits.MAX_XLSX_PART_BYTES:
        message = (
            f"its part {biggest.filename} would unzip to {size_text(biggest.file_size)}, more than any real caseload workbook "
            f"needs (limit {size_text(limits.MAX_XLSX_PART_BYTES)}; a zip bomb?); {_RESAVE_WORKBOOK}"
        )
        raise ScenarioError([Problem(label, message, code="xlsx.too_large")])


_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_ANY_CELL = re.compile(_PREFIX + rb"c[\s/>]")
"""The start of any cell element (``<c ...``, ``<c/>``, ``<x:c ...``)."""
_CELL_WITH_REF = re.compile(_PREFIX + rb"c\s+r\s*=\s*[\"'][A-Z]{1,3}[0-9]{1,7}[\"']")
"""A cell whose first attribute is its reference (as Excel and every common writer put it)."""
_FAR_CELL = re.compile(_PREFIX + rb"c\s+r\s*=\s*[\"']([A-Z]{3,})([0-9]+)[\"']")
"""A cell in column AAA (703) or further right: the only ones that can be past the column limit."""
_ANY_ROW = re.compile(_PREFIX + rb"row[\s/>]")
_ROW_REF = re.compile(_PREFIX + rb"row\s[^<>]*?\br\s*=\s*[\"']([0-9]+)[\"']")
_CHUNK = 1 << 22


def _column_number(letters: str) -> int:
    """1 for A, 27 for AA, 16,384 for XFD."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _stray_cell(label: str, reference: str) -> ScenarioError:
    message = (
        f"has formatting or a value in cell {reference}, far outside any table (tables here have at most "
        f"{limits.MAX_COLUMNS:,} columns); clear those cells, or copy just the table into a new workbook"
    )
    return ScenarioError([Problem(label, message, code="xlsx.stray_cell")])


def _past_last_row(label: str) -> ScenarioError:
    message = f"has rows past Excel's last row ({limits.EXCEL_MAX_ROWS:,}), so it is not a workbook Excel wrote; {_RESAVE_WORKBOOK}"
    return ScenarioError([Problem(label, message, code="xlsx.past_last_row")])


def _too_many_rows(label: str) -> ScenarioError:
    message = (
        f"has more than {limits.MAX_ROWS:,} rows, more than any real caseload (limit {limits.MAX_ROWS:,}; England and "
        "Wales supervise about 240,000 people)"
    )
    return ScenarioError([Problem(label, message, code="table.too_many_rows")])


def _scan_sheet(archive: zipfile.ZipFile, part: str, label: str) -> None:
    """Refuse a sheet with a cell (empty or not) past :data:`~workload.load.limits.MAX_COLUMNS`, a row past
    Excel's last, or more rows than :data:`~workload.load.limits.MAX_ROWS`, before openpyxl reads it (openpyxl
    builds a row out to its furthest cell, so a million empty formatted cells in column XFD take it hours).

    The sheet's XML is streamed in chunks and matched on its bytes (a few seconds for a 400 MB sheet). When
    every cell starts with its reference (``<c r="B7"``, as Excel writes it), those references are all there
    is to check; otherwise the sheet is parsed (iterparse, cleared row by row) and cells are placed as
    openpyxl places them.
    """
    cells = referenced = rows = 0
    with archive.open(part) as source:
        rest = b""
        while True:
            chunk = source.read(_CHUNK)
            buf = rest + chunk
            if chunk:  # keep an unfinished tag for the next chunk ('<' never appears inside a tag)
                cut = buf.rfind(b"<")
                buf, rest = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            for match in _FAR_CELL.finditer(buf):
                if _column_number(match.group(1).decode()) > limits.MAX_COLUMNS:
                    raise _stray_cell(label, (match.group(1) + match.group(2)).decode())
            for match in _ROW_REF.finditer(buf):
                if int(match.group(1)) > limits.EXCEL_MAX_ROWS:
                    raise _past_last_row(label)
            cells += _ANY_CELL.subn(b"", buf)[1]
            referenced += _CELL_WITH_REF.subn(b"", buf)[1]
            rows += _ANY_ROW.subn(b"", buf)[1]
            if rows > limits.MAX_ROWS + 1:
                raise _too_many_rows(label)
            if not chunk:
                break
    if cells != referenced:
        _scan_sheet_exactly(archive, part, label)


def _scan_sheet_exactly(archive: zipfile.ZipFile, part: str, label: str) -> None:
    """:func:`_scan_sheet` for a sheet whose cells do not all start with their reference: parsed, cells and rows
    placed as openpyxl places them (by their reference, or one after the one before)."""
    row = rows = column = 0
    data: ElementTree.Element | None = None
    with archive.open(part) as source:
        for event, element in ElementTree.iterparse(source, events=("start", "end")):
            name = element.tag.rpartition("}")[2]
            if event == "start":
                if name == "sheetData":
                    data = element
                elif name == "row":
                    reference = element.get("r")
                    row = int(reference) if reference and reference.isdigit() else row + 1
                    rows += 1
                    column = 0
                    if row > limits.EXCEL_MAX_ROWS:
                        raise _past_last_row(label)
                    if rows > limits.MAX_ROWS + 1:
                        raise _too_many_rows(label)
                elif name == "c":
                    reference = element.get("r") or ""
                    letters = reference.rstrip("0123456789")
                    column = _column_number(letters) if letters.isalpha() and letters.isascii() else column + 1
                    if column > limits.MAX_COLUMNS:
                        raise _stray_cell(label, f"{column_letters(column - 1)}{row}")
            elif name == "row" and data is not None:
                data.clear()  # the rows read so far, so memory stays that of one row


def _with_sheet(exc: ScenarioError, sheet: str) -> ScenarioError:
    """``exc`` with every problem that names no sheet naming ``sheet``."""
    return ScenarioError([p if p.sheet is not None else replace(p, sheet=sheet) for p in exc.problems])


def sheet_list(names: list[str]) -> str:
    """A workbook's sheet names as a message lists them: "Cover", "Cases" and "Staff"."""
    quoted = [quote(n, limit=60) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def _sheet_rows(
    path: Path, label: str, sheet_name: str | None = None
) -> tuple[list[tuple[Any, ...]], list[int], str, list[str]]:
    """The rows of a workbook's sheet (``sheet_name``, else its first) that hold anything, as tuples of cell
    values without trailing empty cells, each one's row number as Excel shows it, the sheet's name and the
    names of all the workbook's sheets.

    The sheet is streamed (openpyxl read-only, formulas as their saved values) and its declared size is not
    trusted: a sheet whose dimension says A1:XFD1048576 is read row by row like any other, and empty rows
    cost nothing. A value further right than :data:`~workload.load.limits.MAX_COLUMNS`, more than :data:`~workload.load.limits.MAX_ROWS` rows, or a row
    past Excel's last is refused as soon as it is met, so memory stays bounded by the table itself. A named
    sheet gets every one of these checks, as the first sheet does.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many types for a corrupt workbook)
        raise _not_a_workbook(label, exc) from None
    rows: list[tuple[Any, ...]] = []
    numbers: list[int] = []
    names: list[str] = []
    try:
        names = [str(s.title) for s in book.worksheets]
        if not book.worksheets:
            raise ScenarioError(
                [
                    Problem(
                        label,
                        "has no worksheet: its first sheet needs a header row and at least one data row",
                        code="xlsx.no_sheet",
                    )
                ]
            )
        if sheet_name is None:
            sheet = book.worksheets[0]
        elif sheet_name in names:
            sheet = book.worksheets[names.index(sheet_name)]
        else:
            others = [n for n in names if n.casefold() == sheet_name.casefold()]
            hint = f" (names must match exactly: did you mean {quote(others[0], limit=60)}?)" if others else ""
            example = f"{path.name}#{(others or names)[0]}"
            message = (
                f"has no sheet {quote(sheet_name, limit=60)}{hint}; its sheets are {sheet_list(names)} "
                f"(name one in [tables] as {quote(example, limit=80)})"
            )
            raise ScenarioError([Problem(label, message, code="xlsx.no_such_sheet")])
        title = str(sheet.title)
        try:
            with zipfile.ZipFile(path) as archive:
                _scan_sheet(archive, sheet._worksheet_path, label)
            sheet.reset_dimensions()  # read to the last cell actually present, not the declared dimension
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > limits.EXCEL_MAX_ROWS:
                    raise _past_last_row(label)
                width = len(row)
                if width > limits.MAX_COLUMNS and all(v is None for v in row[limits.MAX_COLUMNS :]):
                    width = limits.MAX_COLUMNS  # formatted but empty cells out to the right
                while width and row[width - 1] is None:
                    width -= 1
                if not width:
                    continue
                if width > limits.MAX_COLUMNS:
                    raise _stray_cell(label, f"{column_letters(width - 1)}{number}")
                rows.append(row[:width] if width < len(row) else row)
                numbers.append(number)
                if len(rows) > limits.MAX_ROWS + 1:  # the header and more data rows than any caseload
                    raise _too_many_rows(label)
        except ScenarioError as exc:
            raise _with_sheet(exc, title) if sheet_name is not None else exc from None
        except Exception as exc:  # noqa: BLE001 (a corrupt sheet met part way through)
            problem = _not_a_workbook(label, exc)
            raise _with_sheet(problem, title) if sheet_name is not None else problem from None
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 (a corrupt workbook met part way through)
        raise _not_a_workbook(label, exc) from None
    finally:
        book.close()
    return rows, numbers, title, names


def _cells_as_text(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Workbook rows as a grid of text cells, as a CSV of the sheet would hold them: empty cells as "", whole
    numbers without ".0" (37, not 37.0), other numbers, dates and booleans as Python writes them."""
    width = max(len(r) for r in rows)
    grid = np.empty((len(rows), width), dtype=object)  # all None
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


def _read_xlsx(path: Path, label: str, sheet: str | None = None) -> pd.DataFrame:
    """Read a sheet of a workbook (``sheet``, else its first) as text cells, header as column names,
    spreadsheet rows as index; ``attrs["sheet"]`` is the sheet read and ``attrs["sheets"]`` all the workbook's.

    Memory stays bounded (see :func:`_check_unzipped_size` and :func:`_sheet_rows`); rows are numbered as Excel
    shows them, and blank rows, before the header or between rows, are left out but still counted.
    """
    _check_unzippedsize_text(path, label)
    rows, numbers, title, names = _sheet_rows(path, label, sheet)
    which = "the sheet" if sheet is not None else "its first sheet"
    tag = title if sheet is not None else None
    empty = Problem(
        label, f"is empty: {which} needs a header row and at least one data row", code="file.empty", sheet=tag
    )
    if not rows:
        raise ScenarioError([empty])
    cells = _cells_as_text(rows)
    blank = np.ones(len(cells), dtype=bool)
    for j in range(cells.shape[1]):
        blank &= (pd.Series(cells[:, j], dtype=object).str.strip() == "").to_numpy(dtype=bool)
    if blank.all():
        raise ScenarioError([empty])
    first = int(np.argmax(~blank))
    header = [str(c).strip() for c in cells[first]]
    keep = ~blank[first + 1 :]
    body = pd.DataFrame(cells[first + 1 :][keep], columns=header, dtype=object)
    body.index = pd.Index(np.asarray(numbers[first + 1 :], dtype=np.int64)[keep])
    body.attrs["numbers"] = "point"
    body.attrs["sheet"] = title
    body.attrs["sheets"] = names
    return body


def read_table(path: Path, label: str, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet table as text cells (nothing guessed), or raise ScenarioError naming the file.

    The frame's columns are the header's names as written (duplicates kept, so they can be reported) and its
    index is each row's number as a spreadsheet shows it; blank rows are left out but still counted.

    CSVs may carry a UTF-8 byte-order mark (Excel's "CSV UTF-8") and may be separated by ';' (Excel in
    much of Europe, with decimal commas) or tabs; other encodings are refused with a message that says how
    to re-save the file. A row with more or fewer cells than the header is refused, never padded or shifted.
    Numbers are read in the file's convention (:data:`NUMBER_CONVENTIONS`, kept in the frame's
    ``attrs["numbers"]``). Only regular files are read: a named pipe or a device is refused without being
    opened (it would hang the reader or feed it without end). ``sheet`` names the sheet of a workbook to read
    (else its first); a CSV has none. Parquet tables are read by :mod:`workload.load.parquet`.
    """
    try:
        if not path.exists():
            raise ScenarioError([Problem(label, f"file not found (looked for {path})", code="file.not_found")])
        if path.is_dir():
            raise ScenarioError([Problem(label, "is a folder, not a table file", code="file.folder")])
        problem = regular_file_problem(path)
        if problem is not None:
            raise ScenarioError([Problem(label, problem, code=file_problem_code(problem))])
        size = path.stat().st_size
        if size > limits.MAX_FILE_BYTES:
            raise ScenarioError(
                [
                    Problem(
                        label,
                        f"is {size_text(size)}, larger than any real caseload table (limit {size_text(limits.MAX_FILE_BYTES)})",
                        code="file.too_large",
                    )
                ]
            )
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path, label, sheet)
        if sheet is not None:
            message = f"is not a workbook, so it has no sheet {quote(sheet, limit=60)}; only .xlsx tables have sheets"
            raise ScenarioError([Problem(label, message, code="file.no_sheets")])
        if suffix in parquet.SUFFIXES:
            return parquet.read_parquet(path, label)
        if suffix not in (".csv", ".txt"):
            message = f"has extension {path.suffix!r}; tables must be .csv, .xlsx or .parquet"
            raise ScenarioError([Problem(label, message, code="file.extension")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            [Problem(label, f"could not be read ({exc.strerror or type(exc).__name__})", code="file.unreadable")]
        ) from None
    return _read_csv(raw, label)
