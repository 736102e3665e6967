"""A formatted workbook written straight as Office Open XML, a column at a time (no object per cell).

openpyxl builds a Python object for every cell and serialises it element by element: about 25 microseconds a
cell, so caseload.xlsx of a national run (250,000 cases, about three million cells) took a minute and more,
most of the run. Here each sheet's XML is built from whole columns with numpy string operations (a cell's text
is its reference, its style and its value), streamed into the zip in blocks of rows: the same workbook (the
sheets, values, bold frozen wrapped header, filters, column widths and number formats that
:func:`workload.report.workbook.formatted_workbook` promises) in a few seconds. Text is written as inline
strings, numbers as numbers, booleans as booleans, missing values as no cell. Every zip entry is dated
1980-01-01 and the document's times are fixed, so the bytes depend only on the tables.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

ROWS_PER_BLOCK = 20_000
"""Rows of a sheet built and compressed at a time (bounds the memory of the sheet's XML)."""

COMPRESS_LEVEL = 1
"""zlib level of the sheets: the fastest (at level 6, the default, compressing took as long as building the XML;
level 1 makes the file about a fifth larger)."""

WORKBOOK_TIME = "2000-01-01T00:00:00Z"
"""The created/modified time written into a workbook: a fixed one, so identical runs give identical bytes."""

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold (openpyxl refuses them; here they are dropped)."""

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def column_letter(j: int) -> str:
    """The spreadsheet letters of the 1-based column ``j`` (1 -> A, 27 -> AA)."""
    letters = ""
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(values: np.ndarray) -> np.ndarray:
    """XML-escaped text of string values (object array), illegal characters dropped (pandas' string dtype:
    vectorised in Arrow where pyarrow is installed)."""
    text = pd.Series(values, dtype="str").str.replace(_ILLEGAL, "", regex=True)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.str.replace(char, entity, regex=False)
    return text.to_numpy(dtype=object)


def _string_cells(values: np.ndarray) -> np.ndarray:
    raw = pd.Series(values, dtype="str")
    text = _text(values)
    spaced = (raw.str.strip() != raw).to_numpy(dtype=bool)
    open_tag = np.where(spaced, '" t="inlineStr"><is><t xml:space="preserve">', '" t="inlineStr"><is><t>')
    return open_tag.astype(object) + text + "</t></is></c>"


def _number_cells(values: np.ndarray) -> np.ndarray:
    return '"><v>' + values.astype(str).astype(object) + "</v></c>"


def cell_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tail of each cell's XML (after its reference and style: type, value, close) and whether it has a cell
    at all (a missing value has none). Numbers as numbers, booleans as booleans, infinities as the text
    ``inf`` / ``-inf`` (as pandas writes them), anything else as text."""
    n = len(values)
    kind = values.dtype.kind
    if kind == "b":
        return np.where(values, '" t="b"><v>1</v></c>', '" t="b"><v>0</v></c>').astype(object), np.ones(n, bool)
    if kind in "iu":
        return _number_cells(values), np.ones(n, bool)
    if kind == "f":
        present = ~np.isnan(values)
        finite = np.isfinite(values)
        tail = _number_cells(np.where(finite, values, 0.0))
        if not finite[present].all():
            infinite = present & ~finite
            tail[infinite] = _string_cells(np.where(values[infinite] > 0, "inf", "-inf").astype(object))
        return tail, present
    present = ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
    objects = values.astype(object)
    inferred = pd.api.types.infer_dtype(objects[present], skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal") and len(objects) > 1000:
        return cell_values(pd.to_numeric(pd.Series(objects), errors="coerce").to_numpy(dtype=float))
    if inferred in ("string", "empty"):
        present &= objects != ""  # an empty text is no cell, as openpyxl writes it
        tail = np.full(n, "", dtype=object)
        tail[present] = _string_cells(objects[present])
        return tail, present
    tail = np.full(n, "", dtype=object)  # mixed text and numbers: a small table; a cell at a time
    for i in np.flatnonzero(present).tolist():
        value = objects[i]
        if isinstance(value, (bool, np.bool_)):
            tail[i] = cell_values(np.array([bool(value)]))[0][0]
        elif isinstance(value, (int, float, np.integer, np.floating)):
            tail[i] = cell_values(np.array([float(value)]))[0][0]
            present[i] = not np.isnan(float(value))
        else:
            tail[i] = _string_cells(np.array([str(value)], dtype=object))[0]
            present[i] = str(value) != ""
    return tail, present


class Styles:
    """The workbook's cell formats: 0 plain, 1 the bold wrapped header, then one per number format used."""

    def __init__(self) -> None:
        self.formats: list[str] = []

    def of(self, number_format: str | None) -> int:
        if not number_format or number_format == "General":
            return 0
        if number_format not in self.formats:
            self.formats.append(number_format)
        return 2 + self.formats.index(number_format)

    def xml(self) -> str:
        formats = "".join(
            f"<numFmt numFmtId={quoteattr(str(164 + i))} formatCode={quoteattr(code)}/>"
            for i, code in enumerate(self.formats)
        )
        xfs = "".join(
            f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            for i in range(len(self.formats))
        )
        return (
            f"{_HEAD}<styleSheet {_NS}>"
            + (f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if self.formats else "")
            + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{2 + len(self.formats)}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
            '<alignment vertical="top" wrapText="1"/></xf>'
            f"{xfs}</cellXfs>"
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


class Sheet:
    """One sheet: a header row and columns of cells, each column a style (or a style per row)."""

    def __init__(self, name: str, header: list[str], columns: list[np.ndarray]) -> None:
        self.name, self.header, self.columns = name, header, columns
        self.widths: list[float] = [10.0] * len(header)
        self.styles: list[int | np.ndarray] = [0] * len(header)
        self.freeze: str | None = None
        self.filter = False
        self.header_style = 1

    @property
    def n_rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def ref(self) -> str:
        return f"A1:{column_letter(max(len(self.header), 1))}{self.n_rows + 1}"

    def blocks(self) -> list[Callable[[], str]]:
        """The sheet's XML as a list of makers of consecutive pieces (so a block is built only when written)."""
        n = self.n_rows
        pieces: list[Callable[[], str]] = [self._top]
        pieces += [partial(self._rows, a, min(a + ROWS_PER_BLOCK, n)) for a in range(0, n, ROWS_PER_BLOCK)]
        return [*pieces, self._bottom]

    def _top(self) -> str:
        letters = [column_letter(j + 1) for j in range(len(self.header))]
        view = '<sheetView workbookViewId="0"/>'
        if self.freeze == "B2":
            view = (
                '<sheetView workbookViewId="0"><pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" '
                'state="frozen"/><selection pane="bottomRight" activeCell="B2" sqref="B2"/></sheetView>'
            )
        elif self.freeze == "A2":
            view = (
                '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>'
            )
        cols = "".join(
            f'<col min="{j + 1}" max="{j + 1}" width="{w:g}" customWidth="1"/>' for j, w in enumerate(self.widths)
        )
        header = "".join(
            f'<c r="{letters[j]}1" s="{self.header_style}" t="inlineStr"><is><t xml:space="preserve">'
            f"{_text(np.array([h], dtype=object))[0]}</t></is></c>"
            for j, h in enumerate(self.header)
        )
        return (
            f'{_HEAD}<worksheet {_NS} {_REL_NS}><dimension ref="{self.ref()}"/><sheetViews>{view}</sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData><row r="1">{header}</row>'
        )

    def _rows(self, a: int, b: int) -> str:
        number = np.arange(a + 2, b + 2).astype(str).astype(object)
        row = '<row r="' + number + '">'
        for j, column in enumerate(self.columns):
            tail, present = cell_values(column[a:b])
            style = self.styles[j]
            style_text: np.ndarray | str = (
                np.asarray(style)[a:b].astype(str).astype(object) if isinstance(style, np.ndarray) else str(style)
            )
            styled = style_text if isinstance(style_text, np.ndarray) or style_text != "0" else None
            cell = (
                ('<c r="' + column_letter(j + 1)) + number + ('" s="' + style_text if styled is not None else "") + tail
            )
            row = row + np.where(present, cell, "")
        return "".join((row + "</row>").tolist())

    def _bottom(self) -> str:
        filters = f'<autoFilter ref="{self.ref()}"/>' if self.filter else ""
        return (
            f'</sheetData>{filters}<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
            'footer="0.5"/></worksheet>'
        )


def write_workbook_xml(path: Path, sheets: list[Sheet], styles: Styles) -> None:
    """Write the sheets as an .xlsx at ``path``: fixed dates and times, so the bytes depend only on the sheets."""
    names = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, s in enumerate(sheets)
    )
    defined = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{escape(_quoted(s.name))}!{_absolute(s.ref())}</definedName>"
        for i, s in enumerate(sheets)
        if s.filter
    )
    workbook = (
        f"{_HEAD}<workbook {_NS} {_REL_NS}><bookViews><workbookView/></bookViews><sheets>{names}</sheets>"
        + (f"<definedNames>{defined}</definedNames>" if defined else "")
        + "</workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{_DOC}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets))
    )
    rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{_DOC}/styles" Target="styles.xml"/>'
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{main}.worksheet+xml"/>'
        for i in range(len(sheets))
    )
    types = (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>{overrides}'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    )
    package_rels = (
        f'{_HEAD}<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG}/metadata/core-properties" Target="docProps/core.xml"/>'
        "</Relationships>"
    )
    core = (
        f'{_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>workload</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{WORKBOOK_TIME}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{WORKBOOK_TIME}</dcterms:modified></cp:coreProperties>'
    )
    with zipfile.ZipFile(path, "w") as book:
        for name, text in (
            ("[Content_Types].xml", types),
            ("_rels/.rels", package_rels),
            ("docProps/core.xml", core),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", f'{_HEAD}<Relationships xmlns="{_PKG}">{rels}</Relationships>'),
            ("xl/styles.xml", styles.xml()),
        ):
            book.writestr(_entry(name), text.encode("utf-8"))
        for i, sheet in enumerate(sheets):
            with book.open(_entry(f"xl/worksheets/sheet{i + 1}.xml"), "w") as stream:
                for piece in sheet.blocks():
                    stream.write(piece().encode("utf-8"))


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # as written on Unix, whatever the platform (the bytes also need the same zlib)
    info._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]
    return info


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", ref)
